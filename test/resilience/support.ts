import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { binPath, cliEnvironment, type CliResult } from '../support/run-cli.js';

/** A running `rc`, started the way a user starts it, that a test can send signals to. */
export interface RunningRc {
  child: ChildProcess;
  /** Resolves when rc exits (SIGKILLed after `killAfterMs` as a safety net, which the result says). */
  result: Promise<CliResult & { killed: boolean }>;
  stdout(): string;
  stderr(): string;
}

/** Starts `node bin/run.cjs …` in `cwd` with the environment `runCli` uses; never waits longer than `killAfterMs`. */
export function startRc(args: string[], options: { cwd: string; env?: Record<string, string>; killAfterMs?: number }): RunningRc {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: options.cwd, env: cliEnvironment(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, options.killAfterMs ?? 45_000);
  const result = new Promise<CliResult & { killed: boolean }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr, killed });
    });
  });
  return { child, result, stdout: () => stdout, stderr: () => stderr };
}

/** Polls `condition` every 25 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(25);
  }
}

/** Parses `rc --json` output, with the raw output in the error when it is not JSON. */
export function parseReport<T = CleanReportJson>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`rc did not print JSON (exit ${result.exitCode})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** The parts of `rc clean --json` these tests read. */
export interface CleanReportJson {
  images: Array<{ image: string; status: string; method?: string; digest?: string; reason?: string }>;
  summary: Record<string, number>;
  gc: Array<{ registry: string; status: string; mode?: string; cameBack?: boolean; reason?: string }>;
  restart: Array<{ registry: string; status: string; reason?: string }>;
  skipped: Record<string, string>;
  warnings: string[];
  error?: { message: string; hint?: string; exitCode: number };
}

/** A real manifest DELETE (by digest), not the all-zero probe rc sends to learn whether deletion is enabled. */
export const manifestDeletePath = /\/manifests\/sha256:(?!0{64})[0-9a-f]{64}$/;

/** `text` as a literal inside a RegExp. */
export function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
