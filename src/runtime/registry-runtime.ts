import type { CommandResult } from '../process/run-command.js';

/**
 * How garbage collection is kept from racing pushes (distribution has no grace period: GC
 * deletes the blobs of a push in flight). `online`: GC in the serving registry, then restart.
 * `readonly`: restart it read-only, confirm uploads are refused, GC, restart it writable.
 * `stopped`: stop it, GC against the same storage and config, start it.
 */
export type GcMode = 'online' | 'readonly' | 'stopped';

/**
 * How `rc` runs the registry's own maintenance: its `garbage-collect` command, restarts, and
 * the maintenance windows of the GC modes. Which flags GC gets, what its output means and the
 * order of a maintenance window (with its way back) are decided in core, never in a runtime.
 */
export interface RegistryRuntime {
  /** Shown to users: `local commands`, `docker container registry`. */
  readonly description: string;
  /** The registry's version (`registry --version`), when the runtime can ask. */
  version?: () => Promise<string | undefined>;
  /** The GC modes this runtime can carry out. `online` needs only `garbageCollect`. */
  readonly modes: GcMode[];
  /** Runs `registry garbage-collect [flags…] <config>` in the serving registry (online, or inside a read-only window). */
  garbageCollect(flags: string[], io: CommandIO): Promise<CommandResult>;
  /** Restarts the registry writable (it may still be starting when this returns); absent when there is no way to. */
  restart?: (io: CommandIO) => Promise<void>;
  /** Why `restart` is absent, for the warning shown instead. */
  readonly restartUnavailable?: string;
  /** Restarts the registry in read-only maintenance mode; `restart` makes it writable again. */
  restartReadOnly?: (io: CommandIO) => Promise<void>;
  stop?: (io: CommandIO) => Promise<void>;
  start?: (io: CommandIO) => Promise<void>;
  /**
   * Brings back a registry that an interrupted run left stopped or read-only; says what it
   * did, or undefined when there was nothing to do. Called before anything else in a real run;
   * a recovery means that run's garbage collection did not finish, so this run collects.
   */
  recover?: (io: CommandIO) => Promise<string | undefined>;
  /** GC while the registry is stopped, against the same storage, config and environment. */
  garbageCollectStopped?: (flags: string[], io: CommandIO) => Promise<CommandResult>;
}

/** Where a runtime's commands report lines, and how they are cancelled. */
export interface CommandIO {
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}
