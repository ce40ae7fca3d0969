/**
 * `import()` for what rc loads at run time from outside its bundle: config files, plugins, jiti.
 * `bin/run.cjs` runs the bundle as a script compiled with V8's code cache (src/cli/compile-cache.ts),
 * and in such a script Node 20 has no `import()` that works: it fails once the code comes from the
 * cache. So the loader, an ordinary module, provides its own `import()` here, and this uses it.
 * Anywhere else (tests, a program importing registry-clean) the language's own is used.
 */
export function importModule<T = Record<string, unknown>>(specifier: string): Promise<T> {
  const provided = (globalThis as HostImport)[hostImport];
  return (provided ? provided(specifier) : import(specifier)) as Promise<T>;
}

/** Gives `importModule` the loader's own `import()`. */
export function provideImport(importer: (specifier: string) => Promise<unknown>): void {
  (globalThis as HostImport)[hostImport] = importer;
}

/** A registered symbol on globalThis: the bundle and the loader are bundled apart and share no module. */
const hostImport = Symbol.for('registry-clean.import');

interface HostImport {
  [hostImport]?: (specifier: string) => Promise<unknown>;
}
