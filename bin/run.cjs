#!/usr/bin/env node
'use strict';
// No V8 flags here: a long clean sets its own once it knows its list (src/cli/large-run-heap.ts),
// and every other run starts faster without them.
const path = require('node:path');
const { compileCacheDir, requireWithCompileCache } = require('../dist/bundle/compile-cache.cjs');

// Each command keeps the code cache of what it ran; help and version, which run little of any
// command, keep one of their own rather than leave a command's cache without its real work.
const args = process.argv.slice(2);
const command = args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version') ? 'help' : (args[0] ?? '');
const rc = requireWithCompileCache(path.join(__dirname, '..', 'dist', 'bundle', 'rc.cjs'), { dir: compileCacheDir(), command });
rc.execute({ dir: __filename });
