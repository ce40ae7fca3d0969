import type { Config } from '../config/schema.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ImageList } from '../list/image-list.js';
import type { DeletionAction } from '../plan/deletion-action.js';
import type { ImageOutcome } from '../plan/image-outcome.js';
import type { RepositorySnapshot } from '../plan/repository-snapshot.js';
import type { GcResult } from '../runtime/gc-result.js';
import type { GcMode } from '../runtime/registry-runtime.js';
import type { StorageUsage } from '../storage/storage-backend.js';
import type { RegistryTarget } from './registry-target.js';

export interface CleanOptions {
  dryRun: boolean;
  /** Requests in flight at once per registry. */
  concurrency: number;
  gc: boolean;
  restart: boolean;
  /** Where the images come from: a list file, or arguments. */
  source: { file: string } | { images: string[] };
}

export interface PrunedRepository {
  registry: string;
  repository: string;
  /** False when the directory stayed because a nested repository (or a stray file) lives in it. */
  directoryRemoved: boolean;
  /** What kept the directory: the names of the entries left in it. */
  keptFor?: string[];
}

export interface GcReport {
  registry: string;
  /** `not-reached` until it starts; `failed` from the moment it starts until it succeeds. */
  status: 'collected' | 'would-collect' | 'failed' | 'skipped' | 'not-reached';
  reason?: string;
  mode?: GcMode;
  /** GC ran with `--dry-run` (gc.dryRun): it reported what it would delete and deleted nothing. */
  dryRun?: boolean;
  result?: Omit<GcResult, 'output'>;
  /** Blob files and bytes in storage before and after, measured through the backend. */
  storage?: { before: StorageUsage; after?: StorageUsage };
  /** readonly/stopped: the maintenance window ended with the registry serving writable again. */
  cameBack?: boolean;
}

export interface RestartReport {
  registry: string;
  status: 'restarted' | 'would-restart' | 'failed' | 'skipped';
  reason?: string;
}

/**
 * Everything the steps share. The first group is read-only services; the rest is the state
 * each step leaves for the next: the list, what the registry showed, the plan, the outcomes.
 */
export interface CleanContext {
  readonly options: CleanOptions;
  readonly config: Config;
  readonly signal: AbortSignal;
  readonly plugins: PluginRegistry;
  /** The config file's path as shown in messages (or "defaults"). */
  readonly configFile: string;
  /** Filled by the parse step: one target per registry named in the list. */
  registries: Map<string, RegistryTarget>;
  list: ImageList;
  /** One per distinct listed image, in list order. */
  images: ImageOutcome[];
  repositories: Map<string, RepositorySnapshot>;
  plan: DeletionAction[];
  pruned: PrunedRepository[];
  /** Repositories the plan empties, which prune will remove (dry run: would remove). */
  pruneCandidates: Array<{ registry: string; repository: string }>;
  gc: GcReport[];
  restart: RestartReport[];
  warnings: string[];
  /** Registries whose garbage collection an interrupted run left unfinished: collected even if nothing is deleted now. */
  gcOwed: Set<string>;
  /** Steps that did not run, with the reason shown to the user. */
  skipped: Map<string, string>;
}
