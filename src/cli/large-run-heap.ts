/**
 * Memory over speed for a clean of a long list, and only for that (see README, Performance).
 *
 * A clean of 100,000 tags makes garbage steadily; V8's default heap sizing lets it pile up to
 * about twice what is live, and lets the young generation grow to 16 MB semi-spaces under a
 * steady stream of requests: 176 MB of RSS where 128 MB would do. Optimising for size keeps the
 * heap near the live data, and a growth factor of 1 keeps the young generation at the size it
 * has when this is called. Both cost CPU (a smaller young generation is scavenged more often):
 * about 20 ms on a 500-image clean, which is 2% of it, so short runs go without them.
 *
 * They are set at run time because only a command that has read its config knows how long its
 * list is. V8 reads both each time it sizes the heap, so changing them mid-run is safe: the
 * worst an unexpected V8 could do is use more memory, never compute anything differently.
 * Node calls `v8.setFlagsFromString` "use with care" for flags that change behaviour; these two
 * only tune the collector. The same flags on `rc ls` of 100,000 tags save 20 MB of 90: not
 * worth its start-up cost, so `ls` never sets them.
 */
import { statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

/** A list this long is a large run: 5,000 images, or a file of this many bytes (about 50 a line). */
const largeListImages = 5_000;
export const largeListBytes = 256 * 1024;

/** What decides: the images given as arguments, or else the list file's size (a missing file is not large). */
export function isLargeList(source: { images: readonly string[] } | { file: string }): boolean {
  if ('images' in source) return source.images.length >= largeListImages;
  try {
    return statSync(source.file).size >= largeListBytes;
  } catch {
    return false;
  }
}

// Process-wide, not module state: the code cache loader (bundled on its own, see
// compile-cache.ts) reads it from its own copy of this module.
const flagsChanged = Symbol.for('registry-clean.v8-flags-changed');

export function keepHeapSmall(): void {
  setFlagsFromString('--optimize-for-size');
  setFlagsFromString('--semi-space-growth-factor=1');
  (globalThis as Record<symbol, unknown>)[flagsChanged] = true;
}

/**
 * Whether this process changed V8's flags: V8 stamps a code cache with a hash of its flags, so a
 * cache made now would be refused by every later run, which starts with the defaults.
 */
export function v8FlagsChanged(): boolean {
  return (globalThis as Record<symbol, unknown>)[flagsChanged] === true;
}
