import type { BackendDefinition, Plugin, PluginStep } from './types.js';

/** Types a plugin factory: `export default definePlugin((options: {path: string}) => ({ name, steps }))`. */
export function definePlugin<Options extends unknown[]>(factory: (...options: Options) => Plugin): (...options: Options) => Plugin {
  return factory;
}

/** Types a pipeline step. */
export function defineStep(step: PluginStep): PluginStep {
  return step;
}

/** Types a storage backend; `create` receives options already validated by `options`. */
export function defineBackend<Options>(backend: BackendDefinition<Options>): BackendDefinition<Options> {
  return backend;
}
