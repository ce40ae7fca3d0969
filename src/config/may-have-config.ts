import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Whether cosmiconfig's search (strategy `project`) could find a config from `from`: the same
 * places, checked for existence only, as cosmiconfig 9.0 searches them (its meta config in the
 * working directory, then each directory up to the first one holding a package file); the
 * config tests cover every place. A run without a config then never loads cosmiconfig and its
 * YAML and JSON parsers, about 20 ms of every start. When unsure it says yes, and the search
 * proper decides.
 */
export function mayHaveConfig(from: string, moduleName: string, searchPlaces: readonly string[]): boolean {
  if (hasMetaConfig(process.cwd())) return true;
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    for (const place of searchPlaces) {
      const file = path.join(dir, place);
      if (place === 'package.json' ? fileMentions(file, `"${moduleName}"`) : existsSync(file)) return true;
    }
    // The project strategy stops at the first directory holding a package file.
    const projectRoot = existsSync(path.join(dir, 'package.json')) || existsSync(path.join(dir, 'package.yaml'));
    if (projectRoot || path.dirname(dir) === dir) return false;
  }
}

/** cosmiconfig's own meta config in the working directory, which can add search places. */
function hasMetaConfig(cwd: string): boolean {
  if (existsSync(path.join(cwd, 'package.yaml')) || fileMentions(path.join(cwd, 'package.json'), '"cosmiconfig"')) return true;
  return ['json', 'yaml', 'yml', 'js', 'ts', 'cjs', 'mjs'].some((ext) => existsSync(path.join(cwd, '.config', `config.${ext}`)));
}

function fileMentions(file: string, text: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes(text);
  } catch {
    return false;
  }
}
