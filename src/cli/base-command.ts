import { Command, Flags, type Interfaces } from '@oclif/core';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { ExitCode } from '../errors/exit-codes.js';
import { errorMessage } from '../errors/error-message.js';
import { InputError } from '../errors/input-error.js';
import { RcError } from '../errors/rc-error.js';
import { chooseRenderer, type RendererChoice } from './renderer.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

/**
 * What every `rc` command shares: `--config`, `--verbose`, `--silent`, `--json` (owned by
 * oclif: the value `run` returns *is* the JSON document), the renderer choice, and one way
 * of reporting errors with their exit code and a hint.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    config: Flags.string({
      char: 'c',
      summary: 'Config file to use instead of searching for registry-clean.config.* from the current directory up.',
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({ char: 'v', summary: 'Print a line for every event, with details.', helpGroup: 'GLOBAL', exclusive: ['silent'] }),
    silent: Flags.boolean({ char: 's', summary: 'Print errors only.', helpGroup: 'GLOBAL' }),
  };

  protected async loadUserConfig(explicitPath: string | undefined): Promise<LoadedConfig> {
    return loadConfig({ explicitPath, env: { command: this.id ?? '' } });
  }

  protected renderer(flags: { json?: boolean; silent?: boolean; verbose?: boolean }): RendererChoice {
    return chooseRenderer({ ...flags, json: this.jsonEnabled() });
  }

  /**
   * The JSON document, pretty-printed without colour: oclif colours it token by token, which
   * for a large report costs more memory than the report itself.
   */
  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  /** Prints the error (JSON on stdout with --json, text on stderr otherwise) and sets its exit code. */
  protected override async catch(error: Interfaces.CommandError): Promise<void> {
    const exitCode = exitCodeOf(error);
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(error));
    } else {
      const hint = error instanceof RcError && error.hint ? `\nHint: ${error.hint}` : '';
      process.stderr.write(`Error: ${error.message}${hint}\n`);
    }
    process.exitCode = exitCode;
  }

  protected override toErrorJson(error: unknown): unknown {
    const problems = error instanceof InputError ? error.problems : undefined;
    return {
      error: {
        message: errorMessage(error),
        ...(error instanceof RcError && error.hint ? { hint: error.hint } : {}),
        ...(problems?.length ? { problems } : {}),
        exitCode: exitCodeOf(error),
      },
    };
  }
}

/** Our errors carry their code; oclif's own (bad flags) carry `oclif.exit` (2); anything else is a failure. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof RcError) return error.exitCode;
  const oclifExit = (error as { oclif?: { exit?: number } })?.oclif?.exit;
  if (typeof oclifExit === 'number') return oclifExit === 0 ? 0 : ExitCode.badInput;
  return ExitCode.failed;
}
