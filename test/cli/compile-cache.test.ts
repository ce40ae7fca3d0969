import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCacheDir } from '../../src/cli/compile-cache.js';
import { largeListBytes } from '../../src/cli/large-run-heap.js';
import { createWorkspace } from '../support/workspace.js';

/** Cache files of the built bundle (rc.cjs-<node>-<arch>-<size>-<mtime>.<command>[.partial].cache). */
const cachesIn = (dir: string): string[] => {
  try {
    return readdirSync(dir).filter((name) => name.startsWith('rc.cjs-')).sort();
  } catch {
    return [];
  }
};

describe('V8 code cache of the bundle (bin/run.cjs)', () => {
  const workspace = createWorkspace();
  const scratch = mkdtempSync(path.join(tmpdir(), 'rc-compile-cache-'));
  afterAll(() => {
    workspace.remove();
    rmSync(scratch, { recursive: true, force: true });
  });
  let n = 0;
  const freshDir = (): string => path.join(scratch, `cache-${++n}`);
  // Runs of `rc ls` that need no registry: one failing on bad input (exit 2, nothing reached), one
  // succeeding (exit 0) with a list that names no registry.
  writeFileSync(path.join(workspace.dir, 'empty.txt'), '');
  const failing = (env: Record<string, string | undefined>) => workspace.rcWith(env, 'ls', '--json', '--file', 'no-such-list.txt');
  const succeeding = (env: Record<string, string | undefined>) => workspace.rcWith(env, 'ls', '--file', 'empty.txt');

  it('a failed run leaves a partial cache; the next successful run replaces it with a whole one, which later runs use as it is', async () => {
    const dir = freshDir();
    const env = { RC_COMPILE_CACHE: dir };
    expect((await failing(env)).exitCode).toBe(2);
    expect(cachesIn(dir)).toEqual([expect.stringMatching(/\.ls\.partial\.cache$/)]);

    expect((await succeeding(env)).exitCode).toBe(0);
    const [whole] = cachesIn(dir);
    expect(cachesIn(dir)).toEqual([expect.stringMatching(/\.ls\.cache$/)]);
    const written = statSync(path.join(dir, whole!));

    // Accepted by V8, the cache is not written again (a refused one would be: a new file by rename).
    expect((await succeeding(env)).exitCode).toBe(0);
    expect((await failing(env)).exitCode).toBe(2);
    expect(cachesIn(dir)).toEqual([whole]);
    const after = statSync(path.join(dir, whole!));
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('help and version keep a cache of their own: a command\'s cache stays that of its real runs', async () => {
    const dir = freshDir();
    const env = { RC_COMPILE_CACHE: dir };
    expect((await succeeding(env)).exitCode).toBe(0);
    const [ls] = cachesIn(dir);
    const before = statSync(path.join(dir, ls!));
    const help = await workspace.rcWith(env, 'ls', '--help');
    expect(help.stdout).toContain('List every repository and tag');
    expect((await workspace.rcWith(env, '--version')).exitCode).toBe(0);
    expect(cachesIn(dir)).toEqual([expect.stringMatching(/\.help\.cache$/), ls].sort());
    const after = statSync(path.join(dir, ls!));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('a corrupt cache changes nothing rc does: V8 refuses it and a good one replaces it', async () => {
    const dir = freshDir();
    const env = { RC_COMPILE_CACHE: dir };
    const without = await succeeding({ RC_COMPILE_CACHE: 'off' });
    await succeeding(env);
    const [whole] = cachesIn(dir);
    const garbage = Buffer.from('not a V8 code cache '.repeat(100));
    writeFileSync(path.join(dir, whole!), garbage);

    const run = await succeeding(env);
    expect(run).toEqual(without);
    const replaced = readFileSync(path.join(dir, whole!));
    expect(replaced.equals(garbage)).toBe(false);
    expect(replaced.length).toBeGreaterThan(10_000);
  });

  it('a clean of a long list, which tunes V8 for memory, writes no cache: later runs, with V8\'s defaults, would refuse it', async () => {
    // Lists that fail validation on their last line: exit 2 before any registry is asked.
    const list = (lines: number) => `${Array.from({ length: lines }, (_, i) => `127.0.0.1:9/team/service-${i}:release-${i}\n`).join('')}not an image\n`;
    writeFileSync(path.join(workspace.dir, 'short.txt'), list(10));
    writeFileSync(path.join(workspace.dir, 'long.txt'), list(8_000));
    expect(statSync(path.join(workspace.dir, 'long.txt')).size).toBeGreaterThanOrEqual(largeListBytes);

    const short = { RC_COMPILE_CACHE: freshDir() };
    const shortRun = await workspace.rcWith(short, 'clean', '--file', 'short.txt');
    expect(shortRun.exitCode).toBe(2);
    expect(cachesIn(short.RC_COMPILE_CACHE)).toEqual([expect.stringMatching(/\.clean\.partial\.cache$/)]);

    const long = { RC_COMPILE_CACHE: freshDir() };
    const longRun = await workspace.rcWith(long, 'clean', '--file', 'long.txt');
    expect(longRun.exitCode).toBe(2);
    expect(longRun.stderr).toContain('long.txt:8001');
    expect(cachesIn(long.RC_COMPILE_CACHE)).toEqual([]);
  });

  it('drops the caches of other builds and leaves everything else in the directory alone', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const stale = 'rc.cjs-v0.0.0-x64-1-1.ls.cache';
    for (const name of [stale, 'notes.txt', 'other-tool.cache']) writeFileSync(path.join(dir, name), 'x');
    expect((await succeeding({ RC_COMPILE_CACHE: dir })).exitCode).toBe(0);
    const names = readdirSync(dir).sort();
    expect(names).not.toContain(stale);
    expect(names).toEqual(expect.arrayContaining(['notes.txt', 'other-tool.cache']));
    expect(cachesIn(dir)).toEqual([expect.stringMatching(/\.ls\.cache$/)]);
  });

  it('a cache directory that cannot be made changes nothing rc does', async () => {
    const file = path.join(scratch, 'a-file');
    writeFileSync(file, '');
    const without = await failing({ RC_COMPILE_CACHE: 'off' });
    const run = await failing({ RC_COMPILE_CACHE: path.join(file, 'cache') });
    expect(run).toEqual(without);
    expect(run.exitCode).toBe(2);
  });

  it('goes to $XDG_CACHE_HOME/registry-clean by default, and nowhere with RC_COMPILE_CACHE=off', async () => {
    const xdg = freshDir();
    expect((await succeeding({ XDG_CACHE_HOME: xdg, RC_COMPILE_CACHE: 'off' })).exitCode).toBe(0);
    expect(readdirSync(scratch)).not.toContain(path.basename(xdg));
    expect((await succeeding({ XDG_CACHE_HOME: xdg, RC_COMPILE_CACHE: undefined })).exitCode).toBe(0);
    expect(cachesIn(path.join(xdg, 'registry-clean'))).toEqual([expect.stringMatching(/\.ls\.cache$/)]);
  });

  it('loads JavaScript and TypeScript configs and their plugins the same when the code comes from the cache', async () => {
    const project = createWorkspace();
    try {
      const step = (name: string) => `{ name: '${name}', steps: [{ id: '${name}-audit', title: 'Audit for ${name}', after: 'resolve', run() {} }] }`;
      const configs = {
        // Through import().
        'registry-clean.config.mjs': `export default { plugins: [${step('mjs-policy')}] };\n`,
        // Through jiti, itself imported: TypeScript syntax.
        'registry-clean.config.ts': `const config: { plugins: object[] } = { plugins: [${step('ts-policy')}] };\nexport default config;\n`,
      };
      for (const [file, content] of Object.entries(configs)) {
        const name = file.endsWith('.ts') ? 'ts-policy' : 'mjs-policy';
        rmSync(path.join(project.dir, 'registry-clean.config.mjs'), { force: true });
        writeFileSync(path.join(project.dir, file), content);
        const env = { RC_COMPILE_CACHE: freshDir() };
        const fresh = await project.rcWith(env, 'plugins');
        const cached = await project.rcWith(env, 'plugins');
        expect(fresh.exitCode).toBe(0);
        expect(fresh.stdout).toMatch(new RegExp(`${name}-audit +Audit for ${name} +\\[${name}\\]`));
        expect(cached).toEqual(fresh);
        expect(cachesIn(env.RC_COMPILE_CACHE)).toEqual([expect.stringMatching(/\.plugins\.cache$/)]);
      }
    } finally {
      project.remove();
    }
  });

  it('reads its setting from the environment', () => {
    const home = () => '/home/op';
    expect(compileCacheDir({}, home)).toBe('/home/op/.cache/registry-clean');
    expect(compileCacheDir({ XDG_CACHE_HOME: '/var/cache/op' }, home)).toBe('/var/cache/op/registry-clean');
    expect(compileCacheDir({ RC_COMPILE_CACHE: '/srv/rc-cache', XDG_CACHE_HOME: '/x' }, home)).toBe('/srv/rc-cache');
    for (const off of ['off', '0', '', 'false', ' OFF ']) expect(compileCacheDir({ RC_COMPILE_CACHE: off }, home)).toBeUndefined();
  });
});
