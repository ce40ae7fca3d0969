import { existsSync } from 'node:fs';
import { listPath, type LoadedConfig } from '../config/load-config.js';
import { InputError, type InputProblem } from '../errors/input-error.js';
import { readImageList } from '../list/image-list.js';
import { parseRegistryHost, ReferenceSyntaxError } from '../list/image-reference.js';

/**
 * The registries a command works on: those given with `--registry`, else the config's
 * `registries`, else the hosts named in the image list.
 */
export async function registriesInvolved(flags: { registry?: string[]; file?: string }, loaded: LoadedConfig): Promise<string[]> {
  if (flags.registry && flags.registry.length > 0) return registryFlags(flags.registry);
  const configured = Object.keys(loaded.config.registries);
  if (configured.length > 0) return configured;
  const file = listPath(flags.file, loaded);
  if (!flags.file && !loaded.config.file && !existsSync(file)) {
    throw new InputError('no registries to work on', [], `pass --registry HOST, configure registries, or keep a ${file} here`);
  }
  const list = await readImageList(file);
  return [...new Set(list.entries.map((e) => e.ref.registry))];
}

/** `--registry` values as hosts, every bad one named before anything is sent. */
function registryFlags(values: string[]): string[] {
  const problems: InputProblem[] = [];
  const hosts: string[] = [];
  for (const value of values) {
    try {
      hosts.push(parseRegistryHost(value));
    } catch (error) {
      if (!(error instanceof ReferenceSyntaxError)) throw error;
      problems.push({ file: '--registry', message: error.message });
    }
  }
  if (problems.length > 0) throw new InputError('bad --registry value; nothing was touched', problems, 'pass --registry host[:port], as image references name the registry');
  return [...new Set(hosts)];
}
