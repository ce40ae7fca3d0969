#!/usr/bin/env -S node --max-semi-space-size=4 --optimize-for-size
import { execute } from '../dist/bundle/rc.js';

// Memory over speed where the two part, measured by bench/ (see README, Performance):
// - The young generation is capped at 4 MB semi-spaces instead of 16: V8 fills them under a
//   steady stream of requests, 24 MB of RSS for nothing.
// - A clean of 100,000 tags makes garbage steadily; V8's default heap growth lets it pile up to
//   twice what is live before collecting. Optimising for size keeps the heap near the live data.
// Both are V8 flags in the shebang, not set from here: `node:v8`, needed for that, loads Node's
// heap-snapshot streams, a few milliseconds of every start.
await execute({ dir: import.meta.url });
