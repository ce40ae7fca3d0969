import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { removeScratch, scratchDir } from './scratch.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The CLI under test: `bin/run.cjs` of the repository, or of the frozen copy `freezeRc` made. */
let rcBin = path.join(repoRoot, 'bin', 'run.cjs');
/** Where the frozen copy keeps its V8 code cache (RC_COMPILE_CACHE): it starts empty, as an installed rc does. */
let rcCompileCache: string | undefined;

/**
 * Runs rc from a copy of `bin/`, `dist/`, `package.json` and `oclif.manifest.json` taken now
 * (node_modules linked), so that a rebuild of dist/ by someone else while the benchmark runs
 * (`npm test` builds) cannot break or change the CLI between measurements. Returns the copy's
 * directory.
 */
export function freezeRc(): string {
  const dir = scratchDir('rc-bench-cli-');
  for (const name of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) cpSync(path.join(repoRoot, name), path.join(dir, name), { recursive: true });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  rcBin = path.join(dir, 'bin', 'run.cjs');
  rcCompileCache = path.join(dir, 'compile-cache');
  return dir;
}
const probe = path.join(repoRoot, 'bench', 'rss-probe.cjs');
const gnuTime = '/usr/bin/time';

export interface ProcessResult {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  stdout: string;
  stderr: string;
  /** Each stderr line with when it arrived, in ms after the spawn (rc's plain progress lines). */
  stderrLines: Array<{ ms: number; line: string }>;
  /** Peak RSS of the rc process itself (VmHWM at exit), in kB. */
  peakRssKb: number | undefined;
  /** `/usr/bin/time -v` "Maximum resident set size": the largest of rc and the commands it waited for (GC), in kB. */
  timeMaxRssKb: number | undefined;
  /** CPU time (user + system) from `/usr/bin/time -v`, in ms: rc's own, plus the commands it waited for (GC). */
  cpuMs: number | undefined;
  /** V8 heap in use when rc exited, in kB. */
  heapAtExitKb: number | undefined;
  /** Every 100 ms: [ms since rc started, VmRSS kB, V8 heap used kB]. */
  memorySamples: Array<[number, number, number]>;
}

/** Runs `argv`, collecting stdout and stderr; wall time from spawn to exit. */
export function runProcess(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Omit<ProcessResult, 'peakRssKb' | 'timeMaxRssKb' | 'cpuMs' | 'heapAtExitKb' | 'memorySamples'>> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv;
    const start = performance.now();
    const child = spawn(command!, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const stderrLines: Array<{ ms: number; line: string }> = [];
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      const ms = performance.now() - start;
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) if (stderrLines.length < 10_000) stderrLines.push({ ms, line });
    });
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.once('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        argv,
        exitCode,
        signal,
        wallMs: performance.now() - start,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stderrLines,
      });
    });
  });
}

/**
 * Runs the built CLI (`bin/run.cjs ARGS`) as a user would, under `/usr/bin/time -v` when
 * it is installed, with a preload that records the process's own VmHWM at exit.
 */
export async function runRc(args: string[], options: { cwd: string; timeoutMs?: number; env?: Record<string, string> }): Promise<ProcessResult> {
  const scratch = scratchDir('rc-bench-rss-');
  const rssFile = path.join(scratch, 'rss.json');
  const timeFile = path.join(scratch, 'time.txt');
  // bin/run.cjs itself, as an installed `rc` runs (and as a long clean tunes V8 for itself). This Node first on PATH.
  const argv = existsSync(gnuTime) ? [gnuTime, '-v', '-o', timeFile, rcBin, ...args] : [rcBin, ...args];
  try {
    const env = {
      ...process.env,
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
      // Quoted: NODE_OPTIONS splits on spaces outside quotes, and the checkout's path may hold one.
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require=${JSON.stringify(probe)}`.trim(),
      BENCH_RSS_FILE: rssFile,
      BENCH_RSS_SAMPLE_MS: '100',
      CI: 'true',
      NO_COLOR: '1',
      ...(rcCompileCache && { RC_COMPILE_CACHE: rcCompileCache }),
      ...options.env,
    };
    const result = await runProcess(argv, { cwd: options.cwd, env, timeoutMs: options.timeoutMs });
    let peakRssKb: number | undefined;
    let heapAtExitKb: number | undefined;
    let memorySamples: Array<[number, number, number]> = [];
    try {
      const probed = JSON.parse(readFileSync(rssFile, 'utf8')) as { vmHwmKb?: number; heapUsed?: number; samples?: Array<[number, number, number]> };
      memorySamples = probed.samples ?? [];
      peakRssKb = Number.isFinite(probed.vmHwmKb) ? probed.vmHwmKb : undefined;
      heapAtExitKb = probed.heapUsed !== undefined ? Math.round(probed.heapUsed / 1024) : undefined;
    } catch {
      peakRssKb = undefined;
    }
    const { timeMaxRssKb, cpuMs } = readGnuTime(timeFile);
    return { ...result, argv: ['rc', ...args], peakRssKb: peakRssKb ?? timeMaxRssKb, timeMaxRssKb, cpuMs, heapAtExitKb, memorySamples };
  } finally {
    removeScratch(scratch);
  }
}

/** CPU time (user + system, ms) and maximum RSS (kB) from a `/usr/bin/time -v` report; undefined when it is missing. */
function readGnuTime(timeFile: string): { timeMaxRssKb: number | undefined; cpuMs: number | undefined } {
  let text: string;
  try {
    text = readFileSync(timeFile, 'utf8');
  } catch {
    return { timeMaxRssKb: undefined, cpuMs: undefined };
  }
  const field = (name: string): number | undefined => {
    const match = new RegExp(`${name}: ([\\d.]+)`).exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const user = field('User time \\(seconds\\)');
  const system = field('System time \\(seconds\\)');
  return { timeMaxRssKb: field('Maximum resident set size \\(kbytes\\)'), cpuMs: user !== undefined && system !== undefined ? Math.round((user + system) * 1000) : undefined };
}

/** Runs a plain Node.js script (no preload, Node's default flags) under `/usr/bin/time -v` when it is installed. */
export async function runNodeScript(script: string, args: string[]): Promise<{ result: Awaited<ReturnType<typeof runProcess>>; cpuMs: number | undefined; maxRssKb: number | undefined }> {
  const scratch = scratchDir('rc-bench-node-');
  const timeFile = path.join(scratch, 'time.txt');
  const node = [process.execPath, script, ...args];
  try {
    const result = await runProcess(existsSync(gnuTime) ? [gnuTime, '-v', '-o', timeFile, ...node] : node);
    const { timeMaxRssKb, cpuMs } = readGnuTime(timeFile);
    return { result, cpuMs, maxRssKb: timeMaxRssKb };
  } finally {
    removeScratch(scratch);
  }
}

/** The run whose wall time is nearest the median: the one whose details (CPU, memory, steps) are reported. */
export function nearestMedian<T>(runs: readonly T[], wallOf: (run: T) => number): { run: T; wallMs: number } {
  const wallMs = median(runs.map(wallOf));
  const run = runs.reduce((best, r) => (Math.abs(wallOf(r) - wallMs) < Math.abs(wallOf(best) - wallMs) ? r : best));
  return { run, wallMs };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A step of rc's plain progress output (`❯ Title` … `✔ Title: result`) and how long it took. */
export interface StepTime {
  step: string;
  startMs: number;
  ms: number;
  result: string;
  /** Highest VmRSS sampled during the step, MB. */
  peakRssMb?: number;
  /** Highest V8 heap in use sampled during the step, MB. */
  peakHeapMb?: number;
}

/** Step timings from the plain progress lines rc prints with CI set and no --json. */
export function stepTimes(lines: ReadonlyArray<{ ms: number; line: string }>, samples: ReadonlyArray<[number, number, number]> = []): StepTime[] {
  const steps: StepTime[] = [];
  let open: { step: string; startMs: number } | undefined;
  for (const { ms, line } of lines) {
    const started = /^❯ (.+)$/.exec(line);
    if (started) {
      open = { step: started[1]!, startMs: ms };
      continue;
    }
    const ended = /^[✔↓✖] (.+)$/.exec(line);
    if (ended && open) {
      const from = open.startMs;
      // A sample belongs to the step it falls in, or to the step that ends just after it (the last one of a step).
      const inStep = samples.filter(([t]) => t >= from - 50 && t <= ms + 50);
      const peak = (i: 1 | 2): number | undefined => (inStep.length ? Math.round(Math.max(...inStep.map((x) => x[i])) / 102.4) / 10 : undefined);
      steps.push({ step: open.step, startMs: Math.round(from), ms: Math.round(ms - from), result: ended[1]!, peakRssMb: peak(1), peakHeapMb: peak(2) });
      open = undefined;
    }
  }
  return steps;
}
