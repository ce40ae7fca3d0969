/**
 * A Node built-in module, loaded on first use instead of at start-up (scripts/bundle.mjs points
 * some built-ins here, naming which in `__lazyBuiltin`). Dependencies require them at the top of
 * modules every command loads, for code many runs never reach: cosmiconfig needs `crypto` only to
 * compile a TypeScript config with the `typescript` package (rc uses jiti), oclif `perf_hooks`
 * only under OCLIF_PERF and `readline` only to read arguments from standard input. `rc ls` loads
 * none of the three now; `rc clean` still loads `crypto` (listr2 names its tasks with UUIDs).
 * About 9 ms of every start (40 interleaved runs of each command refusing bad input: clean 246
 * to 237 ms, ls 234 to 225 ms; measured with the bundle's one non-ASCII character escaped too,
 * whose effect alone was within the noise: 218 against 213 ms, ± 5, in 40 runs each).
 *
 * Reading or writing any property loads it, as do `in` and `delete`. What differs before it is
 * loaded: listing its keys gives the names (and which are enumerable) of the Node that built the
 * bundle, Node 20, the oldest rc runs on, whose names later versions keep; its prototype reads
 * as Object.prototype without loading it (as esbuild's __toESM asks), which it is.
 */
/* global __lazyBuiltin, __lazyBuiltinKeys */
let loaded;
const real = () => (loaded ??= require(__lazyBuiltin));
// [name, enumerable] of each export, as of the Node that built the bundle: a bundled ES module
// imports a built-in by copying a getter for each name (esbuild's __toESM), which must not load it.
const exported = new Map(__lazyBuiltinKeys);

module.exports = new Proxy(
  {},
  {
    get: (_, key) => real()[key],
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => key in real(),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
    ownKeys: () => (loaded ? Reflect.ownKeys(loaded) : [...exported.keys()]),
    getOwnPropertyDescriptor: (_, key) => {
      if (loaded || !exported.has(key)) {
        const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
        // The proxy's target is an empty object: a property it reports must be configurable.
        return descriptor && { ...descriptor, configurable: true };
      }
      return { get: () => real()[key], enumerable: exported.get(key), configurable: true };
    },
  },
);
