#!/usr/bin/env -S node --max-semi-space-size=4
import { setFlagsFromString } from 'node:v8';
import { execute } from '../dist/bundle/rc.js';

// Memory over speed where the two part, measured by bench/ (see README, Performance):
// - The young generation is capped at 4 MB semi-spaces (the shebang: it cannot change once V8
//   runs) instead of 16: V8 fills them under a steady stream of requests, 24 MB of RSS for nothing.
// - A clean of 100,000 tags makes garbage steadily; V8's default heap growth lets it pile up to
//   twice what is live before collecting. Optimising for size keeps the heap near the live data.
setFlagsFromString('--optimize-for-size');

await execute({ dir: import.meta.url });
