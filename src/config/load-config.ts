import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as z from 'zod/mini';
import { InputError, type InputProblem } from '../errors/input-error.js';
import { defaultConfig } from './default-config.js';
import type { ConfigEnv } from './define-config.js';
import { keyIssues } from './issue-message.js';
import { locateKey } from './locate-key.js';
import { mayHaveConfig } from './may-have-config.js';
import type { Config } from './schema.js';

export const moduleName = 'registry-clean';

export const searchPlaces = [
  'package.json',
  `.${moduleName}rc`,
  `.${moduleName}rc.json`,
  `.${moduleName}rc.yaml`,
  `.${moduleName}rc.yml`,
  `.${moduleName}rc.js`,
  `.${moduleName}rc.mjs`,
  `.${moduleName}rc.cjs`,
  `.${moduleName}rc.ts`,
  `.${moduleName}rc.mts`,
  `${moduleName}.config.ts`,
  `${moduleName}.config.mts`,
  `${moduleName}.config.js`,
  `${moduleName}.config.mjs`,
  `${moduleName}.config.cjs`,
  `${moduleName}.config.json`,
  `${moduleName}.config.yaml`,
  `${moduleName}.config.yml`,
];

export interface LoadedConfig {
  config: Config;
  /** The file it came from; undefined when no config file exists (all defaults). */
  filepath: string | undefined;
}

/**
 * Finds and validates the config: `--config PATH` if given, else the nearest config file from
 * the current directory up to the project root. Any problem is an InputError (exit 2) naming the
 * file, the key and, where it can be found, the line.
 */
export async function loadConfig(options: { explicitPath?: string; cwd?: string; env: ConfigEnv }): Promise<LoadedConfig> {
  const from = options.cwd ?? process.cwd();
  if (!options.explicitPath && !mayHaveConfig(from, moduleName, searchPlaces)) return { config: defaultConfig(), filepath: undefined };
  const { configExplorer } = await import('./config-explorer.js');
  const explorer = configExplorer(moduleName, searchPlaces);
  let result: { config: unknown; filepath: string } | null;
  const shown = options.explicitPath ?? 'config';
  try {
    result = options.explicitPath
      ? await explorer.load(path.resolve(from, options.explicitPath))
      : await explorer.search(from);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new InputError(`config file ${shown} not found`, [], 'pass an existing file to --config, or leave it out to search for one');
    }
    const file = displayPath(path.resolve(from, (error as { filepath?: string }).filepath ?? options.explicitPath ?? 'config'));
    const line = /\((\d+):\d+\)|line (\d+)/.exec(String((error as Error).message ?? ''));
    const lineNumber = line ? Number(line[1] ?? line[2]) : undefined;
    throw new InputError(
      'cannot load the config; nothing was touched',
      [{ file, ...(lineNumber !== undefined && { line: lineNumber }), message: firstLine(error) }],
      'fix the error in the config file shown above (a syntax error, or an error thrown while it loads)',
    );
  }
  if (!result) return { config: defaultConfig(), filepath: undefined };

  let raw = result.config;
  if (typeof raw === 'function') raw = await (raw as (env: ConfigEnv) => unknown)(options.env);
  if (raw === null || raw === undefined) raw = {};
  // zod loads only when there is a config to validate: a run without one needs just the defaults.
  const { configSchema } = await import('./schema.js');
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const text = await readFile(result.filepath, 'utf8').catch(() => '');
    throw new InputError(
      `invalid config ${displayPath(result.filepath)}; nothing was touched`,
      configProblems(parsed.error, displayPath(result.filepath), text),
      'fix the keys named above (see the README for every key)',
    );
  }
  return { config: parsed.data, filepath: result.filepath };
}

/**
 * The image list's path: `--file` as given (relative to the current directory), else the
 * config's `file` relative to the config file, else `registry-images-clean.txt` here.
 */
export function listPath(flag: string | undefined, loaded: LoadedConfig): string {
  if (flag) return flag;
  if (loaded.config.file && loaded.filepath) return displayPath(path.resolve(path.dirname(loaded.filepath), loaded.config.file));
  return loaded.config.file ?? defaultListFile;
}

export const defaultListFile = 'registry-images-clean.txt';

/** Turns zod issues into `file:line: key.path: what is wrong` problems. */
export function configProblems(error: z.core.$ZodError, file: string, text: string): InputProblem[] {
  return error.issues.flatMap(keyIssues).map(({ path: keys, message }) => {
    const line = locateKey(text, keys);
    const described = `${keys.length > 0 ? keys.join('.') : '(top level)'}: ${message}`;
    return line === undefined ? { file, message: described } : { file, line, message: described };
  });
}

export function displayPath(filepath: string): string {
  const relative = path.relative(process.cwd(), filepath);
  return relative.startsWith('..') ? filepath : relative;
}

/** The reason in a parser's message, without its "YAML Error in <path>:" preamble or code frame. */
function firstLine(error: unknown): string {
  const lines = String((error as Error).message ?? error).split('\n').map((l) => l.trim());
  const reason = lines.slice(1).find((l) => l && !/^(>|\||-+\^|\d+ \|)/.test(l));
  return (reason ?? lines[0] ?? '').replace(/ while parsing .*$/, '');
}
