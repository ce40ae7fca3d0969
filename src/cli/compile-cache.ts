/**
 * Loads rc's bundle (`dist/bundle/rc.cjs`) with V8's code cache: the bytecode of every function
 * a run compiled, saved after the first run of each command and handed back to V8 on the next.
 * V8 then neither parses the 1.3 MB bundle nor compiles those functions again: about 30 ms of a
 * 135 ms start (see README, Performance). Node 22 does this itself (`module.enableCompileCache`);
 * Node 20 does not, so `bin/run.cjs` loads the bundle through here.
 *
 * The cache is only ever an accelerator. V8 checks that it was made from this very source by
 * this Node and V8 flags, and refuses it otherwise; a missing, refused, unreadable or unwritable
 * cache costs the time it would have saved and nothing else. Bundled on its own into
 * `dist/bundle/compile-cache.cjs`, so that loading it loads nothing else.
 */
import { isAscii } from 'node:buffer';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';
import { provideImport } from '../util/import-module.js';
import { v8FlagsChanged } from './large-run-heap.js';

/**
 * Where caches go: `RC_COMPILE_CACHE` names a directory, or turns caching off with `off` (or `0`,
 * or empty); by default `$XDG_CACHE_HOME/registry-clean`, else `~/.cache/registry-clean`.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string | undefined {
  const setting = env.RC_COMPILE_CACHE;
  if (setting !== undefined) return ['', '0', 'off', 'false'].includes(setting.trim().toLowerCase()) ? undefined : setting;
  const base = env.XDG_CACHE_HOME || path.join(home(), '.cache');
  return path.join(base, 'registry-clean');
}

export interface CompileCacheOptions {
  /** Directory for the cache files, `undefined` for none (see `compileCacheDir`). */
  dir: string | undefined;
  /** What this run does (`ls`, `clean`, …): each command keeps the cache of its own functions. */
  command: string;
}

/**
 * `require(file)` for a CommonJS bundle, compiled with the cache saved for `command` when there
 * is one, and saving one when the process exits if there was none (or V8 refused it). A cache
 * written by a run that failed covers only the functions that run reached: the next run of the
 * command that succeeds writes a whole one in its place.
 */
export function requireWithCompileCache(file: string, options: CompileCacheOptions): unknown {
  const require = createRequire(file);
  const cached = require.cache[file];
  if (cached) return cached.exports;
  if (options.dir === undefined) return require(file);

  const stat = statSync(file);
  // The bundle's identity in the name: a new build or Node gets caches of its own.
  const key = `${path.basename(file)}-${process.version}-${process.arch}-${stat.size}-${Math.trunc(stat.mtimeMs)}`;
  const command = /^[a-z][a-z-]*$/.test(options.command) ? options.command : 'other';
  const whole = path.join(options.dir, `${key}.${command}.cache`);
  const partial = path.join(options.dir, `${key}.${command}.partial.cache`);
  const found = readIfAny(whole) ?? readIfAny(partial);

  const bytes = readFileSync(file);
  // The build keeps the bundle ASCII (scripts/bundle.mjs): read as Latin-1 it is the same text,
  // sooner than decoded as UTF-8 (10–14 ms against 15–23 for the 1.3 MB on the development VM).
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  // Node's own CommonJS wrapper, so the bundle runs exactly as `require` would run it.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, {
    filename: file,
    ...(found && { cachedData: found.data }),
  });
  // In a script from the cache, Node 20's import() fails ("A dynamic import callback was not
  // specified", with or without vm's experimental import options): the bundle imports config
  // files, plugins and jiti through this module's import() instead (src/util/import-module.ts).
  provideImport((specifier) => import(specifier));
  const module = new Module(file);
  module.filename = file;
  require.cache[file] = module;
  try {
    (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, require, module, file, path.dirname(file));
  } catch (error) {
    delete require.cache[file];
    throw error;
  }
  module.loaded = true;

  const usable = found !== undefined && !script.cachedDataRejected;
  process.once('exit', (code) => {
    const succeeded = code === 0;
    // A cache made under changed flags would be refused by every later run (see large-run-heap.ts).
    if (v8FlagsChanged()) return;
    // Nothing to gain from writing again: the cache in use is whole, or this run got no further.
    if (usable && (found.path === whole || !succeeded)) return;
    save(script, options.dir!, succeeded ? whole : partial, { key, bundle: path.basename(file) });
  });
  return module.exports;
}

function readIfAny(file: string): { path: string; data: Buffer } | undefined {
  try {
    return { path: file, data: readFileSync(file) };
  } catch {
    return undefined;
  }
}

/**
 * Writes the cache (all at once: a rename, so a concurrent run reads an old file or a whole one)
 * and drops the caches of other builds of this bundle, only those: the directory may be shared.
 */
function save(script: Script, dir: string, file: string, identity: { key: string; bundle: string }): void {
  try {
    mkdirSync(dir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, script.createCachedData());
    renameSync(temporary, file);
    for (const name of readdirSync(dir)) {
      const stale = name.startsWith(`${identity.bundle}-`) && name.endsWith('.cache') && !name.startsWith(`${identity.key}.`);
      if (stale) rmSync(path.join(dir, name), { force: true });
    }
    // A whole cache replaces the partial one.
    if (!file.endsWith('.partial.cache')) rmSync(file.replace(/\.cache$/, '.partial.cache'), { force: true });
  } catch {
    // A cache that cannot be written (read-only home, full disk) only means the next start is not faster.
  }
}
