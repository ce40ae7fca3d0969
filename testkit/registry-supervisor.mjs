#!/usr/bin/env node
// @ts-check
/**
 * Keeps one `docker-registry serve` running on a fixed config, so that killing it is a
 * restart (what `systemctl restart` or `docker restart` is in production). Plain JS so it
 * runs under bare `node`, both from the test kit and as the restart command of the tool
 * under test.
 *
 *   node registry-supervisor.mjs run     STATE_DIR REGISTRY_BINARY
 *   node registry-supervisor.mjs restart STATE_DIR   kill the registry; return once a new one is spawned (writable)
 *   node registry-supervisor.mjs restart-readonly STATE_DIR   the same, but the new one runs with
 *     REGISTRY_STORAGE_MAINTENANCE_READONLY='{"enabled":true}' until the next restart
 *   node registry-supervisor.mjs stop    STATE_DIR   kill it and hold it down; return once it is gone
 *   node registry-supervisor.mjs start   STATE_DIR   release the hold; return once it is spawned
 *
 * Control commands return when the process exists, not when it answers HTTP, as
 * `systemctl restart` does for a simple service: callers poll `/v2/` themselves.
 *
 * STATE_DIR holds config.yml, registry.log (registry stdout+stderr, appended), supervisor.pid,
 * registry.pid (present only while a registry process runs), starts (spawn count) and hold.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CONTROL_TIMEOUT_MS = 30_000;
const POLL_MS = 25;

const [mode, dirArg, binary] = process.argv.slice(2);
if (!mode || !dirArg) {
  process.stderr.write('usage: registry-supervisor.mjs run|restart|restart-readonly|stop|start STATE_DIR [REGISTRY_BINARY]\n');
  process.exit(2);
}
const dir = resolve(dirArg);
const file = (/** @type {string} */ name) => join(dir, name);

/** Atomic write, so a reader never sees a half-written pid or count. */
function writeAtomic(/** @type {string} */ name, /** @type {string} */ text) {
  const tmp = file(`.${name}.${process.pid}`);
  writeFileSync(tmp, text);
  renameSync(tmp, file(name));
}

function readNumber(/** @type {string} */ name) {
  try {
    const n = Number.parseInt(readFileSync(file(name), 'utf8'), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

function alive(/** @type {number | undefined} */ pid) {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
  }
}

async function waitFor(/** @type {() => boolean} */ condition, /** @type {string} */ what) {
  const deadline = Date.now() + CONTROL_TIMEOUT_MS;
  while (!condition()) {
    if (!alive(readNumber('supervisor.pid'))) fail(`supervisor for ${dir} is not running (while waiting until ${what})`);
    if (Date.now() > deadline) fail(`timed out after ${CONTROL_TIMEOUT_MS} ms waiting until ${what} (${dir})`);
    await sleep(POLL_MS);
  }
}

function fail(/** @type {string} */ message) {
  process.stderr.write(`registry-supervisor: ${message}\n`);
  process.exit(1);
}

async function supervise() {
  if (!binary) fail('run needs REGISTRY_BINARY');
  writeAtomic('supervisor.pid', String(process.pid));
  const log = openSync(file('registry.log'), 'a');
  let starts = readNumber('starts') ?? 0;
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  let stopping = false;

  let orphaned = false;
  const exit = () => {
    // Nobody is left to clean up after us: the state dir (with the default storage) goes too.
    if (orphaned) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return exit();
    // The run loop exits once the registry is gone; one that ignores SIGTERM gets SIGKILL.
    running.kill('SIGTERM');
    setTimeout(() => running.kill('SIGKILL'), 5_000).unref();
  };
  for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) process.on(signal, shutdown);
  // The parent holds an IPC channel: when it dies (even by SIGKILL), the channel closes and we go too.
  if (process.connected) {
    process.on('disconnect', () => {
      orphaned = !stopping;
      shutdown();
    });
  }

  while (!stopping) {
    while (existsSync(file('hold')) && !stopping) await sleep(POLL_MS);
    if (stopping) break;
    const startedAt = Date.now();
    // Read-only maintenance the way an operator sets it: the environment form that works (#2974).
    const env = existsSync(file('readonly')) ? { ...process.env, REGISTRY_STORAGE_MAINTENANCE_READONLY: '{"enabled":true}' } : process.env;
    const proc = spawn(/** @type {string} */ (binary), ['serve', file('config.yml')], { stdio: ['ignore', log, log], env });
    child = proc;
    /** @type {Promise<NodeJS.Signals | null>} */
    const exited = new Promise((done) => {
      proc.once('error', (error) => {
        appendFileSync(file('registry.log'), `registry-supervisor: cannot start ${binary}: ${error.message}\n`);
        process.exit(127);
      });
      proc.once('exit', (_code, signal) => done(signal));
    });
    if (proc.pid !== undefined) {
      starts += 1;
      writeAtomic('registry.pid', String(proc.pid));
      writeAtomic('starts', String(starts));
    }
    const signal = await exited;
    rmSync(file('registry.pid'), { force: true });
    // It exited by itself soon after start (a taken port, a bad config): don't spin; the
    // caller's readiness timeout reports the log. A kill by signal is a wanted restart.
    if (signal === null && Date.now() - startedAt < 1_000) await sleep(250);
  }
  exit();
}

async function control() {
  const before = readNumber('starts') ?? 0;
  if (mode === 'stop') {
    writeAtomic('hold', 'held by registry-supervisor stop\n');
    const pid = readNumber('registry.pid');
    if (alive(pid)) process.kill(/** @type {number} */ (pid), 'SIGTERM');
    await waitFor(() => !existsSync(file('registry.pid')), 'the registry has exited');
    return;
  }
  if (mode === 'restart-readonly' && existsSync(file('hold'))) fail('restart-readonly of a stopped registry');
  if (mode === 'start' || existsSync(file('hold'))) {
    // `restart` of a stopped registry is a start, as with systemctl.
    const wasHeld = existsSync(file('hold'));
    rmSync(file('hold'), { force: true });
    if (wasHeld || !existsSync(file('registry.pid'))) {
      await waitFor(() => (readNumber('starts') ?? 0) > before, 'a new registry process is spawned');
    }
    return;
  }
  if (mode === 'restart' || mode === 'restart-readonly') {
    if (mode === 'restart-readonly') writeAtomic('readonly', 'restarted read-only by registry-supervisor\n');
    else rmSync(file('readonly'), { force: true });
    const pid = readNumber('registry.pid');
    if (alive(pid)) process.kill(/** @type {number} */ (pid), 'SIGTERM');
    await waitFor(() => (readNumber('starts') ?? 0) > before, 'a new registry process is spawned');
    return;
  }
  fail(`unknown mode ${mode}`);
}

if (mode === 'run') await supervise();
else await control();
