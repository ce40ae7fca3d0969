import { configProblem } from '../config/locate-key.js';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors/input-error.js';
import { createBackend } from '../plugins/create-backend.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { connectRegistry } from '../registry/connect-registry.js';
import type { GcMode, RegistryRuntime } from '../runtime/registry-runtime.js';
import { RegistryStorage } from '../storage/registry-storage.js';
import type { RegistryTarget } from './registry-target.js';

/**
 * One target per registry host: client, credentials and — when configured — storage and
 * runtime. Everything is validated here, before any request: a storage config that cannot be
 * tied to exactly one registry is refused, because pruning the wrong registry's storage destroys data.
 */
export async function buildTargets(
  hosts: string[],
  config: Config,
  plugins: PluginRegistry,
  options: { concurrency: number; configFile: string; configDir: string; warn: (message: string) => void },
): Promise<Map<string, RegistryTarget>> {
  const file = options.configFile;
  if (config.storage && hosts.length > 1 && !hosts.every((h) => config.registries[h]?.storage)) {
    throw new InputError(
      'the storage config cannot be tied to one registry; nothing was touched',
      [await configProblem(file, ['storage'], `storage: ambiguous at the top level: the images name ${hosts.length} registries (${hosts.join(', ')})`)],
      'move it under registries["<host>"].storage for the registry whose storage it is',
    );
  }
  const targets = new Map<string, RegistryTarget>();
  for (const host of hosts) {
    const settings = config.registries[host];
    const gc = { ...config.gc, ...definedKeys(settings?.gc) };
    const restart = { ...config.restart, ...definedKeys(settings?.restart) };
    const client = await connectRegistry(host, settings, { file, concurrency: options.concurrency, warn: options.warn });
    const target: RegistryTarget = { host, client, gc, restart };
    const storage = settings?.storage ?? config.storage;
    if (storage) {
      const keyPath = settings?.storage ? ['registries', host, 'storage'] : ['storage'];
      const backend = await createBackend(storage, plugins, { host, configDir: options.configDir, gc, restart }, { file, keyPath });
      target.storage = new RegistryStorage(backend.storage, options.concurrency);
      target.runtime = backend.runtime;
      if (backend.runtime) target.gcMode = await resolveGcMode(gc.mode, backend.runtime, { file, host, keyPath: settings?.gc?.mode ? ['registries', host, 'gc', 'mode'] : ['gc', 'mode'] });
    }
    targets.set(host, target);
  }
  return targets;
}

/** `auto` is the safest mode the runtime can do; a mode it cannot do is a config error that says what it needs. */
async function resolveGcMode(mode: Config['gc']['mode'], runtime: RegistryRuntime, where: { file: string; host: string; keyPath: string[] }): Promise<GcMode> {
  if (mode === 'auto') return (['readonly', 'stopped', 'online'] as const).find((m) => runtime.modes.includes(m)) ?? 'online';
  if (runtime.modes.includes(mode)) return mode;
  const needs =
    runtime.description === 'local commands'
      ? mode === 'readonly'
        ? 'restart.readOnlyCommand and restart.command'
        : 'restart.stopCommand and restart.startCommand'
      : `a runtime that can stop the registry (${runtime.description} cannot)`;
  throw new InputError(`gc.mode ${mode} is not possible for ${where.host}; nothing was touched`, [
    await configProblem(where.file, where.keyPath, `gc.mode: ${mode} needs ${needs}`),
  ]);
}

/** The keys of an override block that are set (an explicit `undefined` must not erase a top-level value). */
function definedKeys<T extends object>(block: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(block ?? {}).filter(([, value]) => value !== undefined)) as Partial<T>;
}
