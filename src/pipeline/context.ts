import type { Config } from '../config/schema.js';
import type { CleanReport } from '../report/clean-report.js';
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
  /** Collect garbage even where nothing was deleted (to finish an interrupted run's collection). */
  forceGc: boolean;
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
 * What every step sees, plugins' included: the run's options and services, and read-only
 * views of the state so far. A plugin changes the plan only through `veto`, which can keep an
 * image but never add a deletion; the core plans and carries out every deletion itself.
 */
export interface StepContext {
  readonly options: Readonly<CleanOptions>;
  readonly signal: AbortSignal;
  /** One per registry named in the list (from the parse step on): its API client and, if configured, storage and runtime. */
  readonly registries: ReadonlyMap<string, RegistryTarget>;
  /** The listed images with their outcomes so far (digest, method, kept tags, status, reason). */
  readonly images: ReadonlyArray<Readonly<ImageOutcome>>;
  /** The deletions planned (from the resolve step on). */
  readonly plan: ReadonlyArray<Readonly<DeletionAction>>;
  readonly warnings: readonly string[];
  /**
   * Keeps a listed image (a protection rule): it is reported as `skipped` with the reason and
   * its repository is planned again without it, so a sibling tag that shared its digest is
   * removed on its own. Only before the delete step starts.
   */
  veto(image: string, reason: string): void;
  /** The run's report as it stands now (what `--json` prints at the end). */
  report(): CleanReport;
}

/**
 * Everything the steps share. The first group is read-only services; the rest is the state
 * each step leaves for the next: the list, what the registry showed, the plan, the outcomes.
 */
export interface CleanContext extends StepContext {
  readonly options: CleanOptions;
  readonly config: Config;
  readonly signal: AbortSignal;
  readonly plugins: PluginRegistry;
  /** The config file's path as shown in messages (or "config" without one). */
  readonly configFile: string;
  /** The config file's directory (the current directory without one). */
  readonly configDir: string;
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
  /** Steps the pipeline has reached, run or skipped: once `delete` is reached, nothing may veto. */
  reached: Set<string>;
  /** The first step failure, as soon as it happens (so a step that always runs can report it). */
  failure?: unknown;
}
