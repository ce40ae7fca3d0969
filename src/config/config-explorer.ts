import { pathToFileURL } from 'node:url';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { importModule } from '../util/import-module.js';

/**
 * TypeScript configs load through jiti: it needs no `typescript` package (cosmiconfig's own
 * `.ts` loader does, and fails with typescript 7) and follows relative imports.
 */
const loadWithJiti: Loader = async (filepath) => {
  // Loaded only when a TypeScript config is: it is heavy, and most runs never need it.
  const { createJiti } = await importModule<typeof import('jiti')>('jiti');
  const jiti = createJiti(import.meta.url, { interopDefault: true, moduleCache: false });
  return jiti.import(filepath, { default: true });
};

/** JavaScript configs, ES module or CommonJS, by import() as cosmiconfig's own loader does, but through `importModule`. */
const loadWithImport: Loader = async (filepath) => (await importModule(pathToFileURL(filepath).href)).default;

/**
 * cosmiconfig, set up to search from a directory up to the project root (the first directory
 * with a package.json). This module is imported only when a config may exist: cosmiconfig
 * brings its YAML and JSON parsers, about 20 ms to load.
 */
export function configExplorer(moduleName: string, searchPlaces: string[]) {
  return cosmiconfig(moduleName, {
    searchPlaces,
    searchStrategy: 'project',
    loaders: { '.js': loadWithImport, '.mjs': loadWithImport, '.cjs': loadWithImport, '.ts': loadWithJiti, '.mts': loadWithJiti },
  });
}
