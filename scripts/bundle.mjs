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
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'bundle');
await rm(outdir, { recursive: true, force: true });
const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node20.19', minifyWhitespace: true, minifySyntax: true, logLevel: 'warning' };
await build({
  ...common,
  entryPoints: [path.join(root, 'dist', 'rc.js')],
  outfile: path.join(outdir, 'rc.cjs'),
  external: ['typescript', 'jiti'],
  // The sources are ES modules: `import.meta.url` is the bundle's own URL. And oclif checks the
  // Node version against its own package.json, which a bundle cannot find: the check loads semver
  // (8 ms of every start) and then fails silently. npm checks `engines`.
  define: { 'import.meta.url': '__rcModuleUrl', 'process.env.OCLIF_DISABLE_ENGINE_WARNING': '"1"' },
  banner: { js: "const __rcModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // oclif's logger loads `debug`, which loads Node's tty module: only when DEBUG asks for its output.
  alias: { debug: path.join(root, 'scripts', 'bundle-shims', 'debug.cjs') },
});
await build({ ...common, entryPoints: [path.join(root, 'dist', 'cli', 'compile-cache.js')], outfile: path.join(outdir, 'compile-cache.cjs') });
console.log('bundle: dist/bundle/rc.cjs, dist/bundle/compile-cache.cjs');
