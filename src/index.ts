/** The public API of registry-clean: config typing and the plugin API. */
export { defineConfig, type ConfigEnv } from './config/define-config.js';
export type { UserConfig, Config } from './config/schema.js';
export { definePlugin, defineStep, defineBackend } from './plugins/define.js';
export type { Plugin, PluginStep, Backend, BackendDefinition, BackendContext } from './plugins/types.js';
export type { Step, StepIO } from './pipeline/step.js';
export type { CleanContext, CleanOptions } from './pipeline/context.js';
export type { RegistryTarget } from './pipeline/registry-target.js';
export type { ImageOutcome, RemovalMethod } from './plan/image-outcome.js';
export type { DeletionAction } from './plan/deletion-action.js';
export type { StorageBackend, StorageEntry } from './storage/storage-backend.js';
export type { RegistryRuntime, CommandIO } from './runtime/registry-runtime.js';
export type { CleanReport } from './report/clean-report.js';
export { RegistryClient } from './registry/client.js';
export { ExitCode } from './errors/exit-codes.js';
