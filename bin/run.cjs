#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=10
'use strict';
// Memory and speed, measured by bench/ (see README, Performance):
// - The young generation is capped at 4 MB semi-spaces instead of 16: V8 fills them under a
//   steady stream of requests, 24 MB of RSS for nothing.
// - The heap grows by 10% at a time, not V8's default of up to 2x: a clean of 100,000 tags makes
//   garbage steadily, which would otherwise pile up to twice what is live before a collection.
// Both are V8 flags in the shebang, not set from here: V8 sizes its heap before any code runs.
const path = require('node:path');
const { compileCacheDir, requireWithCompileCache } = require('../dist/bundle/compile-cache.cjs');

// Each command keeps the code cache of what it ran; help and version, which run little of any
// command, keep one of their own rather than leave a command's cache without its real work.
const args = process.argv.slice(2);
const command = args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version') ? 'help' : (args[0] ?? '');
const rc = requireWithCompileCache(path.join(__dirname, '..', 'dist', 'bundle', 'rc.cjs'), { dir: compileCacheDir(), command });
rc.execute({ dir: __filename });
