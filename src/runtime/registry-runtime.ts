import type { CommandResult } from '../process/run-command.js';

/**
 * How `rc` runs the registry's own maintenance: its `garbage-collect` command and a restart.
 * Which flags GC gets, and what its output means, is decided in core (`steps/garbage-collect.ts`),
 * never in a runtime.
 */
export interface RegistryRuntime {
  /** Shown to users: `local commands`, `docker container registry`. */
  readonly description: string;
  /** Runs `registry garbage-collect [flags…] <config>` wherever the registry lives. */
  garbageCollect(flags: string[], io: CommandIO): Promise<CommandResult>;
  /** Restarts the registry (it may still be starting when this returns); absent when there is no way to. */
  restart?: (io: CommandIO) => Promise<void>;
  /** Why `restart` is absent, for the warning shown instead. */
  readonly restartUnavailable?: string;
}

/** Where a runtime's commands report lines, and how they are cancelled. */
export interface CommandIO {
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}
