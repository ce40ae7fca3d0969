#!/usr/bin/env node
/**
 * Bundles tsc's output (dist/rc.js and everything it imports, dependencies included) into one
 * CommonJS file, dist/bundle/rc.cjs: Node reads one file instead of ~200 (about 70 ms less
 * start-up), and one script is what V8's code cache can hold (dist/bundle/compile-cache.cjs,
 * which bin/run.cjs loads it with, is bundled here too). Parts that a run may not need (the
 * pipeline, config validation, …) are still imported lazily: their modules are initialised
 * only when imported, and V8 compiles a function only when it first runs.
 *
 * Left out: typescript (never loaded: TypeScript configs go through jiti) and jiti (loaded
 * only for a TypeScript config or plugin, from node_modules).
 *
 * See README, Performance, for the measurements behind each choice.
 */
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'bundle');
await rm(outdir, { recursive: true, force: true });
const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node20.19', minifyWhitespace: true, minifySyntax: true, logLevel: 'warning' };
const shims = path.join(root, 'scripts', 'bundle-shims');
const require = createRequire(import.meta.url);

/** Built-ins that modules every command loads require for code few runs reach: loaded on first use (see the shim). */
const lazyBuiltins = /^(node:)?(crypto|perf_hooks|readline)$/;
const lazyBuiltinsPlugin = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: lazyBuiltins }, (args) =>
      // The shim's own require of the module is the real one.
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const name = `node:${args.path}`;
      const exported = Object.entries(Object.getOwnPropertyDescriptors(require(name))).map(([key, d]) => [key, d.enumerable]);
      const shim = await readFile(path.join(shims, 'lazy-builtin.cjs'), 'utf8');
      const contents = shim.replace('require(__lazyBuiltin)', `require(${JSON.stringify(name)})`).replace('new Map(__lazyBuiltinKeys)', `new Map(${JSON.stringify(exported)})`);
      if (contents.includes('require(__lazyBuiltin)') || contents.includes('new Map(__lazyBuiltinKeys)')) {
        throw new Error('scripts/bundle-shims/lazy-builtin.cjs: a placeholder was not filled in');
      }
      return { contents, loader: 'js', resolveDir: shims };
    });
  },
};

/**
 * esbuild writes ASCII, except inside regular expressions and String.raw templates. An ASCII
 * bundle can be read as Latin-1, sooner than decoded as UTF-8 (see src/cli/compile-cache.ts).
 * ansis has one other character (a raw CSI, U+009B, in a regular expression), written here as
 * an escape; any new one fails the build.
 */
const asciiPlugin = {
  name: 'ascii-source',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]ansis[\\/]index\.js$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll('\u009b', '\\u009b'),
      loader: 'js',
    }));
  },
};

/**
 * oclif sorts a plugin's commands by `localeCompare` on every start: the first collation in a
 * process sets up ICU's collator, 5-7 ms. rc's command ids are plain ASCII words, which code-unit
 * order sorts the same way. If oclif's line changes, the build fails rather than quietly keep the cost.
 */
const oclifSortPlugin = {
  name: 'oclif-command-sort',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const sort = '.sort((a, b) => a.id.localeCompare(b.id))';
      if (!source.includes(sort)) throw new Error(`${args.path}: oclif no longer sorts commands with "${sort}"; update oclifSortPlugin in scripts/bundle.mjs`);
      return { contents: source.replace(sort, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'), loader: 'js' };
    });
  },
};

const ensureAscii = async (file) => {
  const text = await readFile(file, 'latin1');
  const at = text.search(/[^\x00-\x7f]/);
  if (at >= 0) throw new Error(`${file} has a non-ASCII byte at offset ${at} (…${text.slice(Math.max(0, at - 60), at + 20)}…): escape it in scripts/bundle.mjs (asciiPlugin)`);
};

await build({
  ...common,
  entryPoints: [path.join(root, 'dist', 'rc.js')],
  outfile: path.join(outdir, 'rc.cjs'),
  external: ['typescript', 'jiti'],
  plugins: [lazyBuiltinsPlugin, asciiPlugin, oclifSortPlugin],
  // The sources are ES modules: `import.meta.url` is the bundle's own URL. And oclif checks the
  // Node version against its own package.json, which a bundle cannot find: the check loads semver
  // (8 ms of every start) and then fails silently. npm checks `engines`.
  define: { 'import.meta.url': '__rcModuleUrl', 'process.env.OCLIF_DISABLE_ENGINE_WARNING': '"1"' },
  banner: { js: "const __rcModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // oclif's logger loads `debug`, which loads Node's tty module: only when DEBUG asks for its output.
  alias: { debug: path.join(shims, 'debug.cjs') },
});
await build({ ...common, entryPoints: [path.join(root, 'dist', 'cli', 'compile-cache.js')], outfile: path.join(outdir, 'compile-cache.cjs') });
await ensureAscii(path.join(outdir, 'rc.cjs'));
await ensureAscii(path.join(outdir, 'compile-cache.cjs'));
console.log('bundle: dist/bundle/rc.cjs, dist/bundle/compile-cache.cjs');
