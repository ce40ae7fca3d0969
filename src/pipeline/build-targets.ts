import type { Config, RegistrySettings, StorageSettings } from '../config/schema.js';
import { keyIssues } from '../config/issue-message.js';
import { configProblem } from '../config/locate-key.js';
import { InputError } from '../errors/input-error.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { RegistryClient } from '../registry/client.js';
import { registryUrl, type RegistryCredentials } from '../registry/endpoint.js';
import { RegistryStorage } from '../storage/registry-storage.js';
import type { RegistryTarget } from './registry-target.js';

/**
 * One target per registry host: client, credentials and — when configured — storage.
 * Everything is validated here, before any request: a storage config that cannot be tied to
 * exactly one registry is refused, because pruning the wrong registry's storage destroys data.
 */
export async function buildTargets(
  hosts: string[],
  config: Config,
  plugins: PluginRegistry,
  options: { concurrency: number; configFile: string },
): Promise<Map<string, RegistryTarget>> {
  if (config.storage && hosts.length > 1 && !hosts.every((h) => config.registries[h]?.storage)) {
    throw new InputError(
      'the storage config cannot be tied to one registry; nothing was touched',
      [await configProblem(options.configFile, ['storage'], `storage: ambiguous at the top level: the images name ${hosts.length} registries (${hosts.join(', ')})`)],
      'move it under registries["<host>"].storage for the registry whose storage it is',
    );
  }
  const targets = new Map<string, RegistryTarget>();
  for (const host of hosts) {
    const settings = config.registries[host];
    const gc = settings?.gc ?? config.gc;
    const restart = settings?.restart ?? config.restart;
    const client = new RegistryClient(
      { host, url: registryUrl(host, settings ?? {}), credentials: await buildCredentials(host, settings, options.configFile) },
      { connections: options.concurrency },
    );
    const storageSettings = settings?.storage ?? config.storage;
    const target: RegistryTarget = { host, client, gc, restart };
    const storagePath = settings?.storage ? ['registries', host, 'storage'] : ['storage'];
    if (storageSettings) {
      const backend = await createBackend(storageSettings, plugins, { host, gc, restart }, options.configFile, storagePath);
      target.storage = new RegistryStorage(backend, options.concurrency);
    }
    targets.set(host, target);
  }
  return targets;
}

export async function buildCredentials(host: string, settings: RegistrySettings | undefined, file: string): Promise<RegistryCredentials | undefined> {
  if (!settings) return undefined;
  if (settings.token) return { token: settings.token };
  if (!settings.username) return undefined;
  let password = settings.password;
  if (settings.passwordEnv) {
    password = process.env[settings.passwordEnv];
    if (password === undefined) {
      throw new InputError(
        'a registry password is missing; nothing was touched',
        [await configProblem(file, ['registries', host, 'passwordEnv'], `registries["${host}"].passwordEnv names ${settings.passwordEnv}, which is not set`)],
        `export ${settings.passwordEnv} before running rc`,
      );
    }
  }
  if (password === undefined) {
    throw new InputError('a registry password is missing; nothing was touched', [
      await configProblem(file, ['registries', host, 'username'], `registries["${host}"] has a username but no password or passwordEnv`),
    ]);
  }
  return { username: settings.username, password };
}

async function createBackend(
  storage: StorageSettings,
  plugins: PluginRegistry,
  context: { host: string; gc: Config['gc']; restart: Config['restart'] },
  file: string,
  keyPath: string[],
) {
  const name = keyPath.join('.');
  const definition = plugins.backend(storage.backend);
  if (!definition) {
    const known = plugins.backendList().map((b) => b.id).join(', ');
    throw new InputError('unknown storage backend; nothing was touched', [
      await configProblem(file, [...keyPath, 'backend'], `${name}.backend: unknown backend "${storage.backend}" (known: ${known})`),
    ]);
  }
  const { backend: _id, ...rest } = storage;
  const parsed = definition.options.safeParse(rest);
  if (!parsed.success) {
    const problems = await Promise.all(
      parsed.error.issues.flatMap(keyIssues).map(({ path: keys, message }) =>
        configProblem(file, [...keyPath, ...keys], `${[name, ...keys].join('.')}: ${message}`),
      ),
    );
    throw new InputError(`invalid options for storage backend "${storage.backend}"; nothing was touched`, problems);
  }
  return definition.create(parsed.data, context);
}
