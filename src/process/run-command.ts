import { spawn } from 'node:child_process';
import { RunError } from '../errors/run-error.js';

export interface CommandResult {
  exitCode: number;
  /** stdout and stderr interleaved as printed: what a user would have seen. */
  output: string;
  /** stdout alone: what to parse (stderr may carry notices such as kubectl's "Defaulted container …"). */
  stdout: string;
}

export interface RunCommandOptions {
  /** Each line printed, as it comes, for live progress and `--verbose`. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Written to the command's stdin (a credential helper reads the registry host there). */
  input?: string;
}

/**
 * A configured command as an argument array: arrays stay as they are, strings split on spaces
 * (a backslash keeps a space in an argument, as execa's parseCommandString does). No shell.
 */
export function toArgv(command: string | readonly string[]): string[] {
  if (typeof command !== 'string') return [...command];
  return (command.trim().match(/(?:\\ |[^ ])+/g) ?? []).map((token) => token.replace(/\\ /g, ' '));
}

/**
 * The only place `rc` starts processes. Arguments go as an array, never through a shell, so
 * nothing from an image list can become a command. A non-zero exit is returned, not thrown:
 * callers decide what a failure means (GC on an empty registry fails, and that is fine).
 */
export async function runCommand(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) throw new RunError('empty command');
  const lines: string[] = [];
  const stdout: string[] = [];
  // execa is loaded when a command first runs: many runs start none.
  const { execa } = await import('execa');
  try {
    const result = await execa(file, args, {
      reject: false,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
      env: options.env,
      cancelSignal: options.signal,
      timeout: options.timeoutMs,
      forceKillAfterDelay: 5_000,
      lines: false,
      stdout: ['pipe', lineSink(lines, options.onLine, stdout)],
      stderr: ['pipe', lineSink(lines, options.onLine)],
    });
    // Cancelled counts as cancelled even when the command caught the signal and exited with a status of its own.
    if (result.isCanceled || (result.failed && result.exitCode === undefined)) {
      const reason = result.isCanceled ? 'was interrupted' : result.timedOut ? 'timed out' : `could not run: ${result.shortMessage}`;
      throw new RunError(`command ${argv.join(' ')} ${reason}`, {
        hint: result.code === 'ENOENT' ? `install ${file} or configure the command's full path` : undefined,
      });
    }
    return { exitCode: result.exitCode ?? 1, output: lines.join('\n'), stdout: stdout.join('\n') };
  } catch (error) {
    if (error instanceof RunError) throw error;
    throw new RunError(`command ${argv.join(' ')} could not run: ${(error as Error).message}`);
  }
}

/**
 * A short command run with nothing to stream and nothing to cancel (`rm -rf` of removed tags),
 * through `child_process` directly (loaded at start-up anyway): loading execa and its streams
 * costs more main-thread time than such a command does. Arguments as an array, no shell, as above.
 */
export async function runQuietly(argv: readonly string[]): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) throw new RunError('empty command');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', (error) => reject(new RunError(`command ${argv.join(' ')} could not run: ${error.message}`)));
    child.on('close', (code) => resolve({ exitCode: code ?? 1, output, stdout: '' }));
  });
}

function lineSink(lines: string[], onLine: ((line: string) => void) | undefined, also?: string[]) {
  return function* (line: unknown) {
    const text = String(line);
    lines.push(text);
    also?.push(text);
    onLine?.(text);
    yield text;
  };
}
