import { RunError } from '../errors/run-error.js';
import { runCommand } from '../process/run-command.js';
import type { CommandIO, GcMode, RegistryRuntime } from './registry-runtime.js';

export interface LocalCommands {
  gc: string[];
  restart?: string[];
  restartReadOnly?: string[];
  stop?: string[];
  start?: string[];
  /** How long a restart, stop or start command may take. */
  timeoutMs: number;
}

/**
 * A registry on this machine, maintained by configured commands: `gc.command` (flags are
 * inserted before its last argument, the config path), and the restart, read-only restart,
 * stop and start commands. A mode is available when its commands are configured.
 */
export function localCommandsRuntime(commands: LocalCommands): RegistryRuntime {
  const control = (argv: string[] | undefined, what: string) =>
    argv
      ? async (io: CommandIO) => {
          const result = await runCommand(argv, { onLine: io.onLine, timeoutMs: commands.timeoutMs });
          if (result.exitCode !== 0) {
            throw new RunError(`${what} command ${argv.join(' ')} exited with status ${result.exitCode}`, {
              hint: `its last lines:\n${result.output.split('\n').slice(-10).join('\n')}`,
            });
          }
        }
      : undefined;
  const gc = (flags: string[], io: CommandIO) => runCommand(withFlags(commands.gc, flags), { onLine: io.onLine, signal: io.signal });
  const modes: GcMode[] = ['online'];
  if (commands.restartReadOnly && commands.restart) modes.push('readonly');
  if (commands.stop && commands.start) modes.push('stopped');
  return {
    description: 'local commands',
    async version() {
      const result = await runCommand([commands.gc[0] as string, '--version'], { timeoutMs: 10_000 }).catch(() => undefined);
      return result?.exitCode === 0 ? /\bv?(\d+\.\d+\.\d+)/.exec(result.output)?.[1] : undefined;
    },
    modes,
    garbageCollect: gc,
    restart: control(commands.restart, 'restart'),
    restartUnavailable: commands.restart ? undefined : 'no restart.command is configured',
    restartReadOnly: control(commands.restartReadOnly, 'read-only restart'),
    stop: control(commands.stop, 'stop'),
    start: control(commands.start, 'start'),
    garbageCollectStopped: commands.stop && commands.start ? gc : undefined,
  };
}

/** `registry garbage-collect CONFIG` + `--dry-run` → `registry garbage-collect --dry-run CONFIG` (flags before the config, as the registry's CLI documents). */
export function withFlags(argv: string[], flags: string[]): string[] {
  if (flags.length === 0 || argv.length < 2) return [...argv, ...flags];
  return [...argv.slice(0, -1), ...flags, argv[argv.length - 1] as string];
}
