#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { execute } from '@oclif/core';

// undici parses HTTP with a WebAssembly build of llhttp. V8's optimising tier recompiles it in
// the background as soon as traffic starts: ~30 MB for a moment, a third of rc's peak memory.
// The baseline compiler's code parses registry answers just as well (measured: no slower).
setFlagsFromString('--liftoff-only');

await execute({ dir: import.meta.url });
