import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const binPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/run.cjs');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `rc` exactly as a user would: `node bin/run.cjs …` in a directory of the
 * test's choosing, with CI set so progress comes as plain lines. `input`, when given, is piped
 * to its standard input, which is then closed; otherwise stdin stays an open, silent pipe.
 */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined>; input?: string }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [binPath, ...args],
      { cwd: options.cwd, env: cliEnvironment(options.env), maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ exitCode: code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * The environment a user's shell would give `rc`: vitest's NODE_ENV=test removed (with it,
 * oclif tries to run the TypeScript sources instead of the built dist/), CI set for plain lines.
 */
export function cliEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const { NODE_ENV: _testMode, VITEST: _vitest, ...env } = process.env;
  return { ...env, CI: '1', NO_COLOR: '1', ...extra };
}
