import { RunError } from '../errors/run-error.js';
import { runCommand } from '../process/run-command.js';
import type { RegistryRuntime } from './registry-runtime.js';

/**
 * A registry on this machine, maintained by configured commands: `gc.command` (flags are
 * inserted before its last argument, the config path) and `restart.command`.
 */
export function localCommandsRuntime(gcArgv: string[], restartArgv: string[] | undefined, restartTimeoutMs: number): RegistryRuntime {
  return {
    description: 'local commands',
    garbageCollect(flags, io) {
      return runCommand(withFlags(gcArgv, flags), { onLine: io.onLine, signal: io.signal });
    },
    restartUnavailable: restartArgv ? undefined : 'no restart.command is configured',
    restart: restartArgv
      ? async (io) => {
          const result = await runCommand(restartArgv, { onLine: io.onLine, signal: io.signal, timeoutMs: restartTimeoutMs });
          if (result.exitCode !== 0) {
            throw new RunError(`restart command ${restartArgv.join(' ')} exited with status ${result.exitCode}`, {
              hint: `its last lines:\n${result.output.split('\n').slice(-10).join('\n')}`,
            });
          }
        }
      : undefined,
  };
}

/** `registry garbage-collect CONFIG` + `--dry-run` → `registry garbage-collect --dry-run CONFIG` (flags before the config, as the registry's CLI documents). */
export function withFlags(argv: string[], flags: string[]): string[] {
  if (flags.length === 0 || argv.length < 2) return [...argv, ...flags];
  return [...argv.slice(0, -1), ...flags, argv[argv.length - 1] as string];
}
