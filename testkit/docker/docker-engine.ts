import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker, dockerChildEnv } from './docker-cli.js';

export { docker, dockerChildEnv, DockerCommandError, type DockerCommandOptions, type DockerResult } from './docker-cli.js';

/**
 * A Docker engine for the tests: the one `RC_TEST_DOCKER_HOST` names, or the kit's own dockerd
 * under a fixed directory (default /tmp/rc-test-docker, `RC_TEST_DOCKER_DIR` overrides), which
 * the first test file that needs it starts and every later one reuses. The kit never stops it:
 * on CI the machine ends after the run; by hand, `npx tsx testkit/docker/stop-engine.ts`.
 */
export interface DockerEngine {
  /** `unix:///…/docker.sock` (or whatever `RC_TEST_DOCKER_HOST` says). */
  readonly host: string;
  /** `{ DOCKER_HOST: host }`: merge into a child's environment to point its docker CLI here. */
  readonly env: Record<string, string>;
  /** Where it came from: `RC_TEST_DOCKER_HOST`, the kit's engine already running, or started now. */
  readonly source: 'env' | 'reused' | 'started';
}

export interface EnginePaths {
  dir: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  log: string;
  lock: string;
}

const DEFAULT_ENGINE_DIR = '/tmp/rc-test-docker';
const START_TIMEOUT_MS = 90_000;

/** The kit's engine files, all under one directory that nothing else uses. */
export function enginePaths(dir: string = process.env.RC_TEST_DOCKER_DIR || DEFAULT_ENGINE_DIR): EnginePaths {
  return {
    dir,
    socket: join(dir, 'docker.sock'),
    dataRoot: join(dir, 'data'),
    execRoot: join(dir, 'exec'),
    pidfile: join(dir, 'docker.pid'),
    log: join(dir, 'dockerd.log'),
    lock: join(dir, 'start.lock'),
  };
}

/**
 * The dockerd command line: no bridge, no iptables or masquerading (containers run with
 * `--network host` on 127.0.0.1), and all state in the kit's directory, so it can run beside
 * another engine on the same machine. A containerd namespace of its own keeps it apart even
 * if it finds a system containerd and shares it.
 */
export function dockerdArgs(paths: EnginePaths): string[] {
  return [
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    `--data-root=${paths.dataRoot}`,
    `--exec-root=${paths.execRoot}`,
    `--pidfile=${paths.pidfile}`,
    `--host=unix://${paths.socket}`,
    '--containerd-namespace=rc-test',
    '--containerd-plugins-namespace=rc-test-plugins',
  ];
}

/** Whether `docker version` gets an answer from the engine at `host`; the error text when not. */
async function probe(host: string): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
  try {
    const { stdout } = await docker(['version', '--format', '{{.Server.Version}}'], { DOCKER_HOST: host }, { timeoutMs: 15_000 });
    return { ok: true, version: stdout.trim() };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

let kitEngine: { dir: string; engine: Promise<DockerEngine> } | undefined;

/**
 * The engine the Docker tests run against (see `DockerEngine`). Throws, with the end of
 * dockerd's log, when the kit's engine cannot be started.
 */
export async function ensureDockerEngine(): Promise<DockerEngine> {
  const fromEnv = process.env.RC_TEST_DOCKER_HOST;
  if (fromEnv) {
    const answer = await probe(fromEnv);
    if (!answer.ok) throw new Error(`RC_TEST_DOCKER_HOST=${fromEnv} does not answer: ${answer.error}`);
    return engine(fromEnv, 'env');
  }
  const paths = enginePaths();
  // One promise per process: test files in one worker share the engine without probing again.
  if (kitEngine?.dir !== paths.dir) {
    const pending = ensureKitEngine(paths);
    kitEngine = { dir: paths.dir, engine: pending };
    pending.catch(() => {
      if (kitEngine?.engine === pending) kitEngine = undefined;
    });
  }
  return kitEngine.engine;
}

function engine(host: string, source: DockerEngine['source']): DockerEngine {
  return { host, env: { DOCKER_HOST: host }, source };
}

async function ensureKitEngine(paths: EnginePaths): Promise<DockerEngine> {
  const host = `unix://${paths.socket}`;
  if (existsSync(paths.socket) && (await probe(host)).ok) return engine(host, 'reused');
  mkdirSync(paths.dir, { recursive: true });
  // Test files run in parallel workers: one starts dockerd, the others wait on the lock and reuse it.
  return withLock(paths.lock, async () => {
    if (existsSync(paths.socket) && (await probe(host)).ok) return engine(host, 'reused');
    await startDockerd(paths);
    return engine(host, 'started');
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** The pid in the kit's pidfile, if it is a live dockerd on the kit's data root (pids get reused). */
function kitDockerdPid(paths: EnginePaths): number | undefined {
  const pid = readPid(paths.pidfile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  const argv = commandLine(pid);
  const isKit = basename(argv[0] ?? '') === 'dockerd' && argv.some((arg) => arg === `--data-root=${paths.dataRoot}` || arg === paths.dataRoot);
  return isKit ? pid : undefined;
}

/**
 * A dead engine's daemons still running on the kit's directory: a second containerd would wait
 * forever on the first one's database lock. (Its container shims are fine: the new containerd
 * takes them over and dockerd stops their containers.)
 */
function daemonsUsing(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = commandLine(Number(entry));
    const daemon = ['containerd', 'dockerd'].includes(basename(argv[0] ?? ''));
    if (daemon && argv.some((arg) => arg.includes(`${dir}/`))) found.push(`${entry} ${argv.join(' ').slice(0, 200)}`);
  }
  return found;
}

function logTail(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n') || '(empty)';
  } catch {
    return '(no log)';
  }
}

function findDockerd(): string | undefined {
  // /usr/sbin is not on a non-root PATH on Debian.
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'dockerd')), '/usr/sbin/dockerd', '/usr/bin/dockerd'];
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

async function startDockerd(paths: EnginePaths): Promise<void> {
  const host = `unix://${paths.socket}`;
  const running = kitDockerdPid(paths);
  if (running !== undefined) {
    // Ours, alive, but not answering yet: give it the start timeout rather than starting a second one.
    await waitForAnswer(host, paths, START_TIMEOUT_MS, () => (isAlive(running) ? undefined : `dockerd ${running} exited`));
    return;
  }
  const dockerd = findDockerd();
  if (!dockerd) throw new Error('dockerd is not installed: run scripts/install-deps.sh (it installs docker.io), or set RC_TEST_DOCKER_HOST');
  if (process.getuid?.() !== 0) throw new Error('starting dockerd needs root: run as root, or set RC_TEST_DOCKER_HOST to an engine you can use');
  const leftovers = daemonsUsing(paths.dir);
  if (leftovers.length) {
    // The kit only ever stops what it can prove is its own dockerd: report, don't kill.
    throw new Error(`the kit's dockerd is gone but these still run on ${paths.dir}; stop them, then retry:\n${leftovers.join('\n')}`);
  }
  // A dead engine's pidfiles: if the pid is reused, dockerd (or its containerd supervisor) takes
  // it for a live daemon. The rest of exec-root stays: dockerd leaves netns/default mounted.
  rmSync(paths.pidfile, { force: true });
  rmSync(join(paths.execRoot, 'containerd', 'containerd.pid'), { force: true });
  mkdirSync(paths.dataRoot, { recursive: true });

  const log = openSync(paths.log, 'w');
  // Detached, output to a file: it outlives this test worker and holds none of its pipes.
  const child = spawn(dockerd, dockerdArgs(paths), { detached: true, stdio: ['ignore', log, log], cwd: paths.dir, env: dockerChildEnv({}) });
  closeSync(log);
  child.unref();
  let exited: string | undefined;
  child.once('error', (error) => (exited = `could not run ${dockerd}: ${error.message}`));
  child.once('exit', (code, signal) => (exited = `dockerd exited (${code ?? signal})`));
  try {
    await waitForAnswer(host, paths, START_TIMEOUT_MS, () => exited);
  } catch (error) {
    if (exited === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    throw error;
  }
}

async function waitForAnswer(host: string, paths: EnginePaths, timeoutMs: number, gone: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const died = gone();
    if (died) throw new Error(`${died} before answering on ${host}\ndockerd log (${paths.log}):\n${logTail(paths.log)}`);
    if (existsSync(paths.socket)) {
      const answer = await probe(host);
      if (answer.ok) return;
      last = answer.error;
    }
    if (Date.now() > deadline) throw new Error(`dockerd not answering on ${host} after ${timeoutMs} ms (${last})\ndockerd log (${paths.log}):\n${logTail(paths.log)}`);
    await sleep(250);
  }
}

/** Runs `fn` holding a lock directory; a lock whose owner died is taken over. */
async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + START_TIMEOUT_MS + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'owner'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readPid(join(lock, 'owner'));
    const stale = owner === undefined ? ageMs(lock) > 10_000 : !isAlive(owner);
    if (stale) rmSync(lock, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (held by pid ${owner ?? 'unknown'})`);
    else await sleep(200);
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Stops the kit's own dockerd (only when its pidfile names a live dockerd on the kit's data
 * root) and waits for it to exit. Never touches `RC_TEST_DOCKER_HOST` or other engines.
 * Returns whether there was one to stop.
 */
export async function stopDockerEngine(paths: EnginePaths = enginePaths()): Promise<boolean> {
  const pid = kitDockerdPid(paths);
  kitEngine = undefined;
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  // dockerd stops its containers and its containerd first; SIGKILL only if that stalls.
  const deadline = Date.now() + 45_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}
