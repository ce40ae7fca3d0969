import { readFile } from 'node:fs/promises';
import type { InputProblem } from '../errors/input-error.js';

/**
 * Best-effort line (1-based) of a key path in a config file's text, so an error can say
 * `registry-clean.config.yaml:7`. Walks the path's keys in order through the lines; it reads
 * JSON, YAML and JS/TS object literals alike because it only looks for `key:` / `"key":`.
 */
export function locateKey(text: string, path: ReadonlyArray<PropertyKey>): number | undefined {
  const lines = text.split(/\r?\n/);
  let from = 0;
  let found: number | undefined;
  for (const key of path) {
    if (typeof key !== 'string') continue;
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`(^|[\\s{,])(["']?)${escaped}\\2\\s*:`);
    const index = lines.findIndex((line, i) => i >= from && pattern.test(line));
    if (index === -1) break;
    found = index + 1;
    from = index + 1;
  }
  return found;
}

/** `file:line: key: message` as a problem, the line found in the config file's text when possible. */
export async function configProblem(file: string, keyPath: ReadonlyArray<PropertyKey>, message: string): Promise<InputProblem> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = locateKey(text, keyPath);
  return line === undefined ? { file, message } : { file, line, message };
}
