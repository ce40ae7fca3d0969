/**
 * The demo behind `./scripts/quick-start.sh` and `npm run demo`: the seed walkthrough, for real.
 *
 * Starts a throwaway registry (Debian's `docker-registry`) on a random loopback port, pushes the
 * walkthrough's images to it (plus the trap: `demo/nginx:stable` shares `1.26`'s digest), writes
 * the walkthrough's cleanup list and a config into a temporary working directory, then runs the
 * built CLI there as an operator would: `rc ls`, `rc clean`, `rc ls`. It finally checks that the
 * registry holds exactly what a correct cleanup leaves, and removes everything it made — also
 * when something fails or on Ctrl-C.
 *
 * Needs `npm run build` first (it runs `bin/run.cjs`, the shipped binary) and `docker-registry`
 * on PATH (`./scripts/install-deps.sh`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeTestkitHttp } from '../testkit/http.js';
import { catalog, listTags } from '../testkit/pull.js';
import { type RegistryServer, startRegistry } from '../testkit/registry-server.js';
import { pushSeedImages, SEED_TAGS_AFTER, seedCleanupList } from '../testkit/seed-images.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'run.cjs');

let registry: RegistryServer | undefined;
let workdir: string | undefined;
let child: ChildProcess | undefined;
let interrupted: NodeJS.Signals | undefined;

const bold = process.stdout.isTTY && !process.env.NO_COLOR;

/** A command line or section title, bold on a terminal. */
function header(text: string): void {
  process.stdout.write(bold ? `\n\x1b[1m${text}\x1b[0m\n` : `\n${text}\n`);
}

function note(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Runs `rc …` (the built bin/run.cjs) in the working directory, output shown as it comes; resolves to its exit code. */
function rc(args: string[]): Promise<number> {
  header(`$ rc ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    // Its own process group, so a Ctrl-C reaches rc once, through onSignal, not also from the terminal.
    child = spawn(process.execPath, [bin, ...args], { cwd: workdir, stdio: 'inherit', detached: true });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      child = undefined;
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

async function cleanup(): Promise<void> {
  await registry?.stop().catch(() => undefined);
  registry = undefined;
  await closeTestkitHttp().catch(() => undefined);
  if (workdir) rmSync(workdir, { recursive: true, force: true });
  workdir = undefined;
}

/**
 * Ctrl-C: the running step finishes (a starting registry comes up, rc finishes its requests in
 * flight), then everything is stopped and removed. A second Ctrl-C exits at once; the test kit's
 * exit hook still kills the registry.
 */
function onSignal(signal: NodeJS.Signals): void {
  // rc treats a first SIGTERM as an interrupt (finish requests in flight, start nothing new)
  // and a second one as "quit at once".
  child?.kill('SIGTERM');
  if (interrupted) process.exit(exitCodeFor(signal));
  interrupted = signal;
  process.stderr.write(`\ndemo: ${signal}: stopping after the current step and cleaning up (again to quit at once)\n`);
}

function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

async function main(): Promise<number> {
  if (!existsSync(path.join(root, 'dist', 'index.js'))) {
    process.stderr.write('demo: dist/ is missing: run `npm run build` first (or ./scripts/quick-start.sh)\n');
    return 1;
  }

  note('Starting a throwaway registry (docker-registry) on a random loopback port…');
  try {
    registry = await startRegistry();
  } catch (error) {
    const message = (error as Error).message;
    process.stderr.write(`demo: cannot start docker-registry: ${message}\n`);
    if (/ENOENT|not found/i.test(message)) process.stderr.write('demo: install it with ./scripts/install-deps.sh\n');
    return 1;
  }
  if (interrupted) return 1;
  note(`Registry: ${registry.url} (storage ${registry.storageRoot})`);
  note('Pushing the seed walkthrough\'s images: demo/nginx:1.26, :latest and :stable (same digest as 1.26),');
  note('library/busybox:1.36.1 and :1.35.0, registry:latest…');
  await pushSeedImages(registry.url);
  if (interrupted) return 1;

  workdir = mkdtempSync(path.join(tmpdir(), 'rc-demo-'));
  writeFileSync(path.join(workdir, 'registry-images-clean.txt'), seedCleanupList(registry.host));
  const config = {
    storage: { backend: 'filesystem', root: registry.storageRoot },
    gc: { command: ['docker-registry', 'garbage-collect', registry.configPath] },
    // Read-only GC (gc.mode auto picks it when a read-only restart is configured): pulls keep working, pushes wait.
    restart: { command: registry.restartCommand, readOnlyCommand: registry.readOnlyRestartCommand },
  };
  writeFileSync(path.join(workdir, 'registry-clean.config.json'), `${JSON.stringify(config, null, 2)}\n`);

  note(`Working directory: ${workdir}`);
  for (const file of ['registry-images-clean.txt', 'registry-clean.config.json']) {
    header(`$ cat ${file}`);
    process.stdout.write(readFileSync(path.join(workdir, file), 'utf8'));
  }

  for (const args of [['ls'], ['clean'], ['ls']]) {
    const code = await rc(args);
    if (interrupted) return 1;
    if (code !== 0) {
      process.stderr.write(`\ndemo: rc ${args.join(' ')} exited with ${code}\n`);
      return 1;
    }
  }

  header('Check: the registry holds exactly what a correct cleanup leaves');
  const problems: string[] = [];
  const repositories = await catalog(registry.url);
  const expectedCatalog = Object.keys(SEED_TAGS_AFTER).sort();
  if (JSON.stringify([...repositories].sort()) !== JSON.stringify(expectedCatalog)) {
    problems.push(`catalog is ${repositories.join(', ')}; expected ${expectedCatalog.join(', ')} (registry pruned)`);
  }
  for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) {
    const actual = (await listTags(registry.url, repository)) ?? [];
    if (JSON.stringify(actual) !== JSON.stringify([...tags].sort())) {
      problems.push(`${repository} has tags ${actual.join(', ') || '(none)'}; expected ${tags.join(', ')}`);
    }
  }
  // Once read-only for the garbage collection, once writable again.
  if (registry.restartCount() !== 2) problems.push(`the registry was restarted ${registry.restartCount()} times; expected twice (read-only, then writable)`);
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`demo: FAILED: ${problem}\n`);
    return 1;
  }
  note('ok: demo/nginx:stable survived although 1.26 (same digest) was deleted');
  note('ok: library/busybox:1.36.1 and registry:latest deleted; the emptied registry repository left the catalog');
  note('ok: garbage collected once with the registry read-only, then restarted writable and answering');
  return 0;
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  process.stderr.write(`demo: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await cleanup();
}
process.exit(interrupted ? exitCodeFor(interrupted) : exitCode);
