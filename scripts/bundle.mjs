#!/usr/bin/env node
/**
 * Bundles tsc's output (dist/rc.js and everything it imports, dependencies included) into
 * dist/bundle/: rc.js, plus one chunk per lazily imported part (the pipeline, the registry
 * client, config validation, …), so each run still loads only what it uses. Node resolves and
 * reads a few files instead of ~200: about 70 ms less start-up (see README, Performance).
 *
 * Left out: typescript (never loaded: TypeScript configs go through jiti) and jiti (loaded
 * only for a TypeScript config or plugin, from node_modules).
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'bundle');
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { rc: path.join(root, 'dist', 'rc.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  chunkNames: 'chunk-[hash]',
  external: ['typescript', 'jiti'],
  // Bundled CommonJS (oclif, yaml) calls require() for Node's built-ins and its own package.json.
  banner: { js: "import { createRequire as __rcCreateRequire } from 'node:module'; const require = __rcCreateRequire(import.meta.url);" },
  // oclif checks the Node version against its own package.json, which a bundle cannot find: the
  // check loads semver (8 ms of every start) and then fails silently. npm checks `engines`.
  define: { 'process.env.OCLIF_DISABLE_ENGINE_WARNING': '"1"' },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
console.log('bundle: dist/bundle/rc.js');
