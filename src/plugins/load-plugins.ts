import path from 'node:path';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors/input-error.js';
import { importModule } from '../util/import-module.js';
import { PluginRegistry } from './plugin-registry.js';
import type { Plugin } from './types.js';

/**
 * The built-in plugin, then the config's plugins, as every command that runs or shows the
 * pipeline registers them. The built-in one loads here, not at start-up: its backends'
 * option schemas bring zod (70 ms to load), which `rc ls` without a config never needs.
 */
export async function loadPluginRegistry(entries: Config['plugins'], configFile: string | undefined): Promise<PluginRegistry> {
  const { corePlugin } = await import('./core-plugin.js');
  return new PluginRegistry([corePlugin(), ...(await loadPlugins(entries, configFile))]);
}

/**
 * The config's `plugins`: plugin objects as they are; a module specifier (a path relative to
 * the config file, or a package name) is imported and its default export — a plugin or a
 * factory — used, with `[specifier, options]` passing options to the factory.
 */
export async function loadPlugins(entries: Config['plugins'], configFile: string | undefined): Promise<Plugin[]> {
  const base = configFile ? path.dirname(configFile) : process.cwd();
  // jiti (TypeScript without the typescript package) is loaded only when a plugin is named by path or package.
  const jiti = entries.some((entry) => typeof entry === 'string' || Array.isArray(entry))
    ? (await importModule<typeof import('jiti')>('jiti')).createJiti(path.join(base, 'noop.js'), { interopDefault: true })
    : undefined;
  const plugins: Plugin[] = [];
  for (const [index, entry] of entries.entries()) {
    const where = `${configFile ?? 'config'}: plugins[${index}]`;
    if (typeof entry === 'object' && !Array.isArray(entry)) {
      plugins.push(checkPlugin(entry, where));
      continue;
    }
    const [specifier, options] = typeof entry === 'string' ? [entry, undefined] : entry;
    let loaded: unknown;
    try {
      const resolved = specifier.startsWith('.') ? path.resolve(base, specifier) : specifier;
      loaded = await jiti!.import(resolved, { default: true });
    } catch (error) {
      throw new InputError(`${where}: cannot load plugin "${specifier}": ${(error as Error).message.split('\n')[0]}`, [], 'check the path (relative to the config file) or install the package');
    }
    let plugin: unknown;
    try {
      plugin = typeof loaded === 'function' ? (loaded as (options?: unknown) => unknown)(options) : loaded;
    } catch (error) {
      throw new InputError(`${where}: plugin "${specifier}" refused its options: ${(error as Error).message.split('\n')[0]}`, [], 'check the options given to the plugin in the config');
    }
    plugins.push(checkPlugin(plugin, `${where} ("${specifier}")`));
  }
  return plugins;
}

function checkPlugin(value: unknown, where: string): Plugin {
  const plugin = value as Partial<Plugin> | null;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string' || !plugin.name) {
    throw new InputError(`${where}: not a plugin (expected an object with a "name", as definePlugin returns)`);
  }
  for (const step of plugin.steps ?? []) {
    if (typeof step?.id !== 'string' || typeof step.run !== 'function') {
      throw new InputError(`${where}: plugin ${plugin.name} has a step without an id or a run function`);
    }
  }
  return plugin as Plugin;
}
