/** The public API of registry-clean: config typing and the plugin API. */
export { defineConfig, type ConfigEnv } from './config/define-config.js';
export type { UserConfig, Config } from './config/schema.js';
export { definePlugin, defineStep, defineBackend } from './plugins/define.js';
export type { Plugin, PluginStep, Backend, BackendDefinition, BackendContext } from './plugins/types.js';
export type { StandardSchemaV1 } from './plugins/standard-schema.js';
export type { Step, StepIO } from './pipeline/step.js';
export type { StepContext, CleanOptions, GcReport, RestartReport, PrunedRepository } from './pipeline/context.js';
export type { RegistryTarget } from './pipeline/registry-target.js';
export type { ImageOutcome, ImageStatus, RemovalMethod } from './plan/image-outcome.js';
export type { DeletionAction, DeleteManifestAction, RemoveTagAction } from './plan/deletion-action.js';
export type { StorageBackend, StorageEntry, StorageUsage } from './storage/storage-backend.js';
export type { RegistryRuntime, CommandIO, GcMode } from './runtime/registry-runtime.js';
export type { CommandResult } from './process/run-command.js';
export type { CleanReport, ImageReport, ReportedStatus } from './report/clean-report.js';
export type { RegistryClient } from './registry/client.js';
export type { ImageReference } from './list/image-reference.js';
export { runCommand, toArgv } from './process/run-command.js';
export { ExitCode } from './errors/exit-codes.js';
