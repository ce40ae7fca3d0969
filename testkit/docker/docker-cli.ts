import { execFile } from 'node:child_process';

/** What `docker …` printed, once it exited 0. */
export interface DockerResult {
  stdout: string;
  stderr: string;
}

export interface DockerCommandOptions {
  /** Kill the CLI after this long; default 120 s, so a stuck engine fails the test instead of hanging it. */
  timeoutMs?: number;
}

/** A docker command that exited non-zero or timed out, with what it printed. */
export class DockerCommandError extends Error {
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(args: readonly string[], exitCode: number | null, stdout: string, stderr: string, reason: string) {
    super(`docker ${args.join(' ')} ${reason}${stderr.trim() ? `: ${stderr.trim().slice(-2000)}` : ''}`);
    this.name = 'DockerCommandError';
    this.args = args;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

/**
 * The environment for the docker CLI and other children: ours without the variables that
 * would point the CLI at another engine, plus `env` (the engine's `DOCKER_HOST`).
 */
export function dockerChildEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH'].includes(name)),
  );
  return { ...base, ...env };
}

/** Runs the docker CLI on PATH with an argument array (no shell) against the engine in `env`. */
export function docker(args: readonly string[], env: Record<string, string>, options: DockerCommandOptions = {}): Promise<DockerResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    execFile(
      'docker',
      [...args],
      { env: dockerChildEnv(env), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const failure = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        const reason =
          failure.code === 'ENOENT'
            ? 'failed: the docker CLI is not on PATH (scripts/install-deps.sh installs docker.io)'
            : failure.killed
              ? `timed out after ${timeoutMs} ms`
              : `exited ${String(failure.code)}`;
        reject(new DockerCommandError(args, typeof failure.code === 'number' ? failure.code : null, stdout, stderr, reason));
      },
    );
  });
}
