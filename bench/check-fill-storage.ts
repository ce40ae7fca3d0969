/**
 * Proof that `fillRegistryStorage` writes what the registry itself writes:
 *
 *   node --import tsx bench/check-fill-storage.ts                  # 3 x 4: compare with the lite fill, GC dry-run, API check
 *   node --import tsx bench/check-fill-storage.ts -r 2000 -t 50    # time 100,000 tags, API check (no comparison)
 *
 * Small sizes (up to 2,000 tags) also fill a second registry with `fillRegistryLite` over the API
 * and compare both storage trees entry by entry (type, mode, bytes), and run
 * `docker-registry garbage-collect --dry-run` on the written one, which must find nothing to delete.
 * Every size then gets `verifyStorageFill` with one DELETE by digest.
 */
import { execFile } from 'node:child_process';
import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify, parseArgs } from 'node:util';
import { startRegistry } from '../testkit/registry-server.js';
import { fillRegistryLite } from './fill-lite.js';
import { fillRegistryStorage, verifyStorageFill } from './fill-storage.js';
import { runEntry } from './run-entry.js';

const exec = promisify(execFile);
const log = (line: string): void => void process.stderr.write(`check-fill-storage: ${line}\n`);

/** Every entry under `root`: relative path → `d 755`, or `f 644 <bytes as hex>`. */
async function tree(root: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = path.join(dir, name);
      const stat = await lstat(full);
      const mode = (stat.mode & 0o777).toString(8);
      const relative = path.relative(root, full);
      if (stat.isDirectory()) {
        entries.set(relative, `d ${mode}`);
        await walk(full);
      } else {
        entries.set(relative, `${stat.isFile() ? 'f' : 'other'} ${mode} ${(await readFile(full)).toString('hex')}`);
      }
    }
  };
  await walk(root);
  return entries;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { repositories: { type: 'string', short: 'r' }, tags: { type: 'string', short: 't' } } });
  const repositories = Number(values.repositories ?? 3);
  const tagsPerRepository = Number(values.tags ?? 4);
  const seed = `check-${repositories}x${tagsPerRepository}`;
  const small = repositories * tagsPerRepository <= 2000;

  const written = await startRegistry({ readyTimeoutMs: 60_000 });
  const start = performance.now();
  const fill = await fillRegistryStorage(written, { repositories, tagsPerRepository, seed });
  const ms = performance.now() - start;
  log(`storage fill: ${repositories} x ${tagsPerRepository} = ${fill.images.length} tags in ${(ms / 1000).toFixed(1)} s (registry stopped, written, started and answering)`);
  const { stdout: du } = await exec('du', ['-sh', '--apparent-size', written.storageRoot]);
  const { stdout: files } = await exec('sh', ['-c', `find "${written.storageRoot}" | wc -l`]);
  log(`storage: ${du.split('\t')[0]} apparent, ${files.trim()} entries`);

  if (small) {
    const pushed = await startRegistry();
    await fillRegistryLite(pushed.url, { repositories, tagsPerRepository, concurrency: 8, seed });
    const [a, b] = await Promise.all([tree(pushed.storageRoot), tree(written.storageRoot)]);
    const differences = [...new Set([...a.keys(), ...b.keys()])].filter((key) => a.get(key) !== b.get(key));
    for (const key of differences.slice(0, 10)) log(`differs: ${key}\n  API:     ${a.get(key)?.slice(0, 120)}\n  written: ${b.get(key)?.slice(0, 120)}`);
    if (differences.length) throw new Error(`${differences.length} of ${a.size} entries differ between the API fill and the storage fill`);
    log(`identical to fillRegistryLite over the API: ${a.size} entries (directories, modes, file bytes)`);

    const gc = await exec('docker-registry', ['garbage-collect', written.configPath, '--dry-run'], { maxBuffer: 64 << 20 });
    const summary = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(gc.stdout);
    if (!summary) throw new Error(`garbage-collect --dry-run printed no summary:\n${gc.stdout.slice(-2000)}${gc.stderr.slice(-2000)}`);
    if (summary[2] !== '0' || summary[3] !== '0') throw new Error(`garbage-collect --dry-run would delete: ${summary[0]}\n${gc.stdout.slice(-3000)}`);
    const marked = 2 + fill.images.length;
    if (Number(summary[1]) !== marked) throw new Error(`garbage-collect --dry-run marked ${summary[1]} blobs, expected ${marked}`);
    log(`garbage-collect --dry-run: "${summary[0]}", exit 0`);
  }

  const checkStart = performance.now();
  const check = await verifyStorageFill(written, fill, { deleteOne: true });
  log(`API check in ${((performance.now() - checkStart) / 1000).toFixed(1)} s: ${JSON.stringify(check)}`);
}

await runEntry(main, log);
