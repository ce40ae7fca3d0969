import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../http.js';
import { type Image, type PushOptions, pushImage } from '../images.js';
import { freePort } from '../registry-server.js';
import { type DockerResult, docker, dockerChildEnv } from './docker-cli.js';
import type { DockerEngine } from './docker-engine.js';
import { ensureRegistryImage } from './registry-image.js';

/**
 * A registry container run the way the seed scenario runs one:
 *   docker run -d --restart=no --name NAME --network host -e REGISTRY_HTTP_ADDR=127.0.0.1:PORT
 *     [-e REGISTRY_STORAGE_DELETE_ENABLED=true] -v STORAGE:/var/lib/registry IMAGE
 * STORAGE is a host directory (bind mount) or a named volume (no host path to reach into).
 */

export interface RegistryContainerOptions {
  /** Container name; default `rc-registry-<random>`. */
  name?: string;
  /** Image reference; default the kit's registry:2-like image (`ensureRegistryImage`). */
  image?: string;
  /** Adds `-e REGISTRY_STORAGE_DELETE_ENABLED=true`; default true. False leaves the image's config to decide. */
  deleteEnabled?: boolean;
  /** More `-e NAME=VALUE` settings, after the kit's (so they win). */
  env?: Record<string, string>;
  /** Host directory to bind-mount at /var/lib/registry; kept by `remove()`. Default: a new temp dir that `remove()` deletes. */
  storageDir?: string;
  /** A named volume instead of a bind mount: `true` for a new one that `remove()` deletes, or the name of one to use (and keep). */
  volume?: string | true;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** How long start and `restart()` wait for `/v2/`; default 30 s. */
  readyTimeoutMs?: number;
}

export interface RegistryContainer {
  readonly name: string;
  /** `127.0.0.1:PORT`, for image references. */
  readonly host: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly image: string;
  /** The bind-mounted host directory; undefined with a named volume. */
  readonly storageDir: string | undefined;
  /** The named volume; undefined with a bind mount. */
  readonly volume: string | undefined;
  readonly engine: DockerEngine;
  /** `docker exec NAME ...args`; rejects with the output when it exits non-zero. */
  exec(args: readonly string[]): Promise<DockerResult>;
  /** `pushImage` (testkit/images.ts) against this registry. Returns the manifest digest. */
  push(repository: string, tags: string | readonly string[], image: Image, options?: PushOptions): Promise<string>;
  /** `docker restart`, then waits until `/v2/` answers. */
  restart(): Promise<void>;
  /** Waits until `GET /v2/` answers 200 or 401; fails early, with the logs, if the container stopped. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** `docker logs` so far (the registry logs to stderr). */
  logs(): Promise<string>;
  /** `docker rm -f`, then the storage the kit created (temp dir or volume). Idempotent. */
  remove(): Promise<void>;
}

/** Labels that let a later run find what a crashed run left behind: `<hostname>:<pid>` of the starter. */
export const OWNER_LABEL = 'io.rc-test.owner';
const TEMP_DIR_LABEL = 'io.rc-test.temp-storage-dir';
const TEMP_DIR_PREFIX = 'rc-registry-container-';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const ownerId = `${hostname()}:${process.pid}`;

interface Owned {
  name: string;
  /** Set once `docker run` printed it; until then the container is found by name and owner label. */
  id: string | undefined;
  engine: DockerEngine;
  tempDir: string | undefined;
  tempVolume: string | undefined;
}

/** Containers this process started and has not removed: for `removeAllRegistryContainers` and the exit hook. */
const live = new Map<string, { owned: Owned; remove(): Promise<void> }>();
const staleSwept = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a run ends without remove(): synchronous, as 'exit' handlers must be.
  process.once('exit', () => {
    for (const { owned } of live.values()) {
      const options = { env: dockerChildEnv(owned.engine.env), timeout: 30_000, stdio: 'ignore' as const };
      // Without an id (run still in flight), the next run's stale sweep finds it by label.
      if (owned.id) spawnSync('docker', ['rm', '-f', '-v', owned.id], options);
      if (owned.tempVolume) spawnSync('docker', ['volume', 'rm', '-f', owned.tempVolume], options);
      if (owned.tempDir) rmSync(owned.tempDir, { recursive: true, force: true });
    }
  });
}

/** Removes every registry container (and its temp storage) this process started; pass it to `afterAll`. */
export async function removeAllRegistryContainers(): Promise<void> {
  await Promise.all([...live.values()].map((entry) => entry.remove()));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An owner label from this machine whose process is gone. */
function deadOwner(owner: string): boolean {
  const at = owner.lastIndexOf(':');
  const pid = Number(owner.slice(at + 1));
  return owner.slice(0, at) === hostname() && Number.isInteger(pid) && pid > 0 && !isAlive(pid);
}

/**
 * Removes containers and volumes the kit labelled for a process on this machine that no
 * longer runs (a killed test run), with their temp storage dirs. Runs once per engine
 * before the first container starts; safe beside live runs, whose owners are alive.
 */
export async function removeStaleRegistryContainers(engine: DockerEngine): Promise<string[]> {
  const removed: string[] = [];
  const containers = await docker(['ps', '-a', '--filter', `label=${OWNER_LABEL}`, '--format', `{{.Names}}\t{{.Label "${OWNER_LABEL}"}}\t{{.Label "${TEMP_DIR_LABEL}"}}`], engine.env);
  for (const line of containers.stdout.split('\n').filter(Boolean)) {
    const [name = '', owner = '', tempDir = ''] = line.split('\t');
    if (!deadOwner(owner)) continue;
    await docker(['rm', '-f', '-v', name], engine.env);
    // Only ever a directory the kit itself made.
    if (tempDir.startsWith(join(tmpdir(), TEMP_DIR_PREFIX))) rmSync(tempDir, { recursive: true, force: true });
    removed.push(name);
  }
  const volumes = await docker(['volume', 'ls', '--filter', `label=${OWNER_LABEL}`, '--format', `{{.Name}}\t{{.Label "${OWNER_LABEL}"}}`], engine.env);
  for (const line of volumes.stdout.split('\n').filter(Boolean)) {
    const [name = '', owner = ''] = line.split('\t');
    if (!deadOwner(owner)) continue;
    await docker(['volume', 'rm', '-f', name], engine.env);
    removed.push(name);
  }
  return removed;
}

async function ownedContainerIds(engine: DockerEngine, name: string): Promise<string[]> {
  const found = await docker(['ps', '-a', '--quiet', '--no-trunc', '--filter', `name=^/${name}$`, '--filter', `label=${OWNER_LABEL}=${ownerId}`], engine.env);
  return found.stdout.split('\n').filter(Boolean);
}

const randomName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Starts a registry container (see the file comment) and waits until `/v2/` answers. */
export async function startRegistryContainer(engine: DockerEngine, options: RegistryContainerOptions = {}): Promise<RegistryContainer> {
  installExitHook();
  if (!staleSwept.has(engine.host)) {
    staleSwept.add(engine.host);
    await removeStaleRegistryContainers(engine);
  }
  if (options.volume !== undefined && options.storageDir !== undefined) throw new Error('startRegistryContainer: give storageDir or volume, not both');
  const image = options.image ?? (await ensureRegistryImage(engine)).reference;
  const port = options.port ?? (await freePort());
  const name = options.name ?? randomName('rc-registry');
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const labels = ['--label', `${OWNER_LABEL}=${ownerId}`];

  const owned: Owned = { name, id: undefined, engine, tempDir: undefined, tempVolume: undefined };
  let source: string;
  if (options.volume === true) {
    owned.tempVolume = randomName('rc-registry-data');
    await docker(['volume', 'create', ...labels, owned.tempVolume], engine.env);
    source = owned.tempVolume;
  } else if (options.volume !== undefined) {
    source = options.volume;
  } else if (options.storageDir !== undefined) {
    source = options.storageDir;
  } else {
    owned.tempDir = mkdtempSync(join(tmpdir(), TEMP_DIR_PREFIX));
    labels.push('--label', `${TEMP_DIR_LABEL}=${owned.tempDir}`);
    source = owned.tempDir;
  }

  const env: Record<string, string> = { REGISTRY_HTTP_ADDR: `127.0.0.1:${port}` };
  if (options.deleteEnabled ?? true) env.REGISTRY_STORAGE_DELETE_ENABLED = 'true';
  Object.assign(env, options.env);
  const url = `http://127.0.0.1:${port}`;

  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    live.delete(name);
    // By id or by name *and* this process's label: a failed run (name taken) must not remove someone else's container.
    const ids = owned.id ? [owned.id] : await ownedContainerIds(engine, name);
    if (ids.length) {
      await docker(['rm', '-f', '-v', ...ids], engine.env).catch((error: Error) => {
        if (!/no such container/i.test(error.message)) throw error;
      });
    }
    if (owned.tempVolume) await docker(['volume', 'rm', '-f', owned.tempVolume], engine.env);
    if (owned.tempDir) rmSync(owned.tempDir, { recursive: true, force: true });
  };
  // Registered before `docker run`, so a run that half-failed is still cleaned up.
  live.set(name, { owned, remove });

  const logs = async (): Promise<string> => {
    const result = await docker(['logs', name], engine.env);
    return `${result.stdout}${result.stderr}`;
  };
  const logsForError = async (): Promise<string> => logs().then((text) => text.trim().split('\n').slice(-30).join('\n') || '(empty)', (error: Error) => `(no logs: ${error.message})`);

  const waitUntilReady = async (timeoutMs = readyTimeoutMs): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await call(`${url}/v2/`, { headers: { connection: 'close' } });
        if (response.status === 200 || response.status === 401) return;
        last = `GET /v2/ answered ${response.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      // Every second or so: a container that exited won't answer, so don't wait out the timeout.
      if (attempt % 20 === 19) {
        const state = (await docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name], engine.env)).stdout.trim();
        if (!state.startsWith('running')) throw new Error(`registry container ${name} is ${state} (expected running)\nlogs:\n${await logsForError()}`);
      }
      if (Date.now() > deadline) throw new Error(`registry container ${name} not answering at ${url} after ${timeoutMs} ms (${last})\nlogs:\n${await logsForError()}`);
      await sleep(50);
    }
  };

  const container: RegistryContainer = {
    name,
    host: `127.0.0.1:${port}`,
    url,
    port,
    image,
    storageDir: owned.tempDir ?? options.storageDir,
    volume: owned.tempVolume ?? (typeof options.volume === 'string' ? options.volume : undefined),
    engine,
    exec: (args) => docker(['exec', name, ...args], engine.env),
    push: (repository, tags, pushed, pushOptions) => pushImage(url, repository, tags, pushed, pushOptions),
    async restart() {
      await docker(['restart', name], engine.env);
      await waitUntilReady();
    },
    waitUntilReady,
    logs,
    remove,
  };

  try {
    const run = await docker(
      [
        'run', '-d', '--restart=no', '--name', name, '--network', 'host', ...labels,
        ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
        '-v', `${source}:/var/lib/registry`,
        image,
      ],
      engine.env,
    );
    owned.id = run.stdout.trim();
    await waitUntilReady();
  } catch (error) {
    // Keep the cause; logs are already in the message when the container ran at all.
    await remove().catch(() => undefined);
    throw error;
  }
  return container;
}
