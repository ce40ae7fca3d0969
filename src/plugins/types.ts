import type { GcSettings, RestartSettings } from '../config/schema.js';
import type { Step } from '../pipeline/step.js';
import type { RegistryRuntime } from '../runtime/registry-runtime.js';
import type { StorageBackend } from '../storage/storage-backend.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/** A step contributed by a plugin, placed relative to another step (by default at the end). */
export interface PluginStep extends Step {
  before?: string;
  after?: string;
}

/** What a backend is given besides its own options. */
export interface BackendContext {
  /** The registry this storage belongs to (`host[:port]`). */
  host: string;
  /** The directory of the config file (the current directory without one): resolve relative paths in options against it. */
  configDir: string;
  gc: GcSettings;
  restart: RestartSettings;
}

/** What a backend gives: access to the registry's storage and, if it can, to its maintenance. */
export interface Backend {
  storage: StorageBackend;
  /** GC and restart; without it, prune still works but GC and restart are skipped. */
  runtime?: RegistryRuntime;
}

/** A storage backend type, selected by `storage.backend: '<id>'`. */
export interface BackendDefinition<Options = unknown> {
  id: string;
  /** One line for `rc plugins` and docs. */
  summary: string;
  /** Validates the `storage` keys other than `backend`: any Standard Schema (zod 4, valibot, arktype…). */
  options: StandardSchemaV1<unknown, Options>;
  create(options: Options, context: BackendContext): Backend | Promise<Backend>;
}

export interface Plugin {
  /** Shown in the pipeline listing and in errors that involve the plugin. */
  name: string;
  steps?: PluginStep[];
  backends?: BackendDefinition<any>[];
}
