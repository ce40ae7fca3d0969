#!/usr/bin/env -S node --max-semi-space-size=4 --optimize-for-size
'use strict';
// Memory over speed where the two part, measured by bench/ (see README, Performance):
// - The young generation is capped at 4 MB semi-spaces instead of 16: V8 fills them under a
//   steady stream of requests, 24 MB of RSS for nothing.
// - A clean of 100,000 tags makes garbage steadily; V8's default heap growth lets it pile up to
//   twice what is live before collecting. Optimising for size keeps the heap near the live data
//   (133 MB at 100,000 tags). It costs CPU (a young generation of about 1 MB: 40 scavenges
//   instead of 12 on `rc ls` of 1,000 tags); capping growth at 10% instead peaked at 158 MB.
// Both are V8 flags in the shebang, not set from here: V8 sizes its heap before any code runs.
const path = require('node:path');
const { compileCacheDir, requireWithCompileCache } = require('../dist/bundle/compile-cache.cjs');

// Each command keeps the code cache of what it ran; help and version, which run little of any
// command, keep one of their own rather than leave a command's cache without its real work.
const args = process.argv.slice(2);
const command = args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version') ? 'help' : (args[0] ?? '');
const rc = requireWithCompileCache(path.join(__dirname, '..', 'dist', 'bundle', 'rc.cjs'), { dir: compileCacheDir(), command });
rc.execute({ dir: __filename });
