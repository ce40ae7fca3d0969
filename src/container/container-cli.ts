import { RunError } from '../errors/run-error.js';
import { runCommand, type CommandResult, type RunCommandOptions } from '../process/run-command.js';
import { lastLines } from '../util/last-lines.js';

export type ContainerRuntimeName = 'docker' | 'podman' | 'nerdctl';

/**
 * The container runtime's own CLI (`docker`, `podman`, `nerdctl`: the same verbs), so
 * `DOCKER_HOST`, contexts and remote engines work exactly as they do for the user.
 * Arguments always go as an array; nothing is ever built into a shell string.
 */
export class ContainerCli {
  constructor(
    readonly runtime: ContainerRuntimeName,
    private readonly context: string | undefined,
  ) {}

  /** Runs `<runtime> [--context X] args…` and returns its result, whatever the exit status. */
  async run(args: string[], options: RunCommandOptions = {}): Promise<CommandResult> {
    const global = this.context ? ['--context', this.context] : [];
    return runCommand([this.runtime, ...global, ...args], options);
  }

  /** Like `run`, but a non-zero exit is an error naming the command and what it printed; returns stdout. */
  async must(args: string[], options: RunCommandOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.exitCode !== 0) {
      throw new RunError(`${this.runtime} ${args.slice(0, 2).join(' ')} failed (exit status ${result.exitCode}): ${lastLines(result.output)}`);
    }
    return result.stdout;
  }
}
