/**
 * A Node built-in module, loaded on first use instead of at start-up (scripts/bundle.mjs points
 * some built-ins here, naming which in `__lazyBuiltin`). Dependencies require them at the top of
 * modules every command loads, for code many runs never reach: cosmiconfig needs `crypto` only to
 * compile a TypeScript config with the `typescript` package (rc uses jiti), oclif `perf_hooks`
 * only under OCLIF_PERF and `readline` only to read arguments from standard input. `rc ls` loads
 * none of the three now; `rc clean` still loads `crypto` (listr2 names its tasks with UUIDs).
 * About 10 ms of every start (40 interleaved runs of each command refusing bad input: clean 246
 * to 237 ms, ls 234 to 225 ms, measured together with the ASCII bundle, see bundle.mjs).
 *
 * Reading any property loads it, as does `in`. Nothing else differs.
 */
/* global __lazyBuiltin, __lazyBuiltinKeys */
let loaded;
const real = () => (loaded ??= require(__lazyBuiltin));
// The module's export names as of the Node that built the bundle: a bundled ES module imports a
// built-in by copying getters for each of its names (esbuild's __toESM), which must not load it.
const keys = __lazyBuiltinKeys;

module.exports = new Proxy(
  {},
  {
    get: (_, key) => real()[key],
    has: (_, key) => key in real(),
    ownKeys: () => (loaded ? Reflect.ownKeys(loaded) : keys),
    getOwnPropertyDescriptor: (_, key) => {
      if (loaded || !keys.includes(key)) {
        const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
        // The proxy's target is an empty object: a property it reports must be configurable.
        return descriptor && { ...descriptor, configurable: true };
      }
      return { get: () => real()[key], enumerable: true, configurable: true };
    },
  },
);
