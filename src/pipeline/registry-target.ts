import type { GcSettings, RestartSettings } from '../config/schema.js';
import type { DeletionSupport, RegistryClient } from '../registry/client.js';
import type { GcMode, RegistryRuntime } from '../runtime/registry-runtime.js';
import type { RegistryStorage } from '../storage/registry-storage.js';
import type { ProbeLeftover } from './confirm-storage.js';

/** One registry the run works on, with everything needed to reach and maintain it. */
export interface RegistryTarget {
  host: string;
  client: RegistryClient;
  /** Its storage, when configured: needed for prune and storage tag removal. */
  storage?: RegistryStorage;
  /** An upload started through the API appeared in `storage`: it is this registry's, and may be read instead of asking per tag. */
  storageProven?: boolean;
  /**
   * The upload that proved `storage`, being cancelled and cleared away while the clean goes on:
   * awaited (`probeUploadsCleared`) at the end of the delete step, before garbage collection, and
   * at the end of the run.
   */
  probeUpload?: Promise<ProbeLeftover | undefined>;
  /** How to run its GC and restart it, when the backend can. */
  runtime?: RegistryRuntime;
  /** The GC mode `gc.mode` resolves to for this runtime (`auto`: the safest it can do). */
  gcMode?: GcMode;
  gc: GcSettings;
  restart: RestartSettings;
  /** Learned in the verify step, before anything changes. */
  support?: DeletionSupport;
}
