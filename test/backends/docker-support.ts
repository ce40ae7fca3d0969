import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  docker,
  type DockerEngine,
  ensureDockerEngine,
  ensureRegistryImage,
  type RegistryContainer,
  removeAllRegistryContainers,
  startRegistryContainer,
} from '../../testkit/docker/index.js';
import { call, v2Url } from '../../testkit/http.js';
import { makeImage, pushImage } from '../../testkit/images.js';
import { pullImage } from '../../testkit/pull.js';
import type { CliResult } from '../support/run-cli.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

/** What the helpers below need of a registry container: the kit's, or one a test ran by hand. */
export type RegistryHandle = Pick<RegistryContainer, 'name' | 'url' | 'exec'>;

/** The label `rc` puts on its read-only stand-in containers (src/container/container-runtime.ts). */
export const STAND_IN_LABEL = 'io.registry-clean.stand-in-for';

/** Inside the kit's registry image. */
export const STORAGE_ROOT = '/var/lib/registry';
export const V2_ROOT = `${STORAGE_ROOT}/docker/registry/v2`;

/**
 * Runs the built `rc` against the engine, the way a user with DOCKER_HOST set would. The other
 * engineer may rebuild dist/ meanwhile: a run that could not even load its command is retried
 * (nothing was touched by it).
 */
export async function rcDocker(workspace: Workspace, engine: DockerEngine, ...args: string[]): Promise<CliResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await workspace.rcWith(engine.env, ...args);
    const output = `${result.stdout}\n${result.stderr}`;
    const notLoaded = /command \S+ not found|ERR_MODULE_NOT_FOUND|Cannot find module|does not provide an export named/.test(output);
    if (!notLoaded || attempt >= 10) return result;
    await sleep(2000);
  }
}

/** `rc clean --json …`: the report, with the exit code and stderr for messages. */
export async function cleanJson(workspace: Workspace, engine: DockerEngine, ...args: string[]): Promise<{ exitCode: number; stderr: string; report: CleanReportJson }> {
  const result = await rcDocker(workspace, engine, 'clean', '--json', ...args);
  let report: CleanReportJson;
  try {
    report = JSON.parse(result.stdout) as CleanReportJson;
  } catch {
    throw new Error(`rc clean --json printed no JSON (exit ${result.exitCode})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
  return { exitCode: result.exitCode, stderr: result.stderr, report };
}

export interface StorageUsageJson {
  files: number;
  bytes: number;
}

/** The parts of `rc clean --json` these tests read (src/report/clean-report.ts, src/pipeline/context.ts). */
export interface CleanReportJson {
  dryRun: boolean;
  images: Array<{ image: string; status: string; method?: string; keptTags?: string[]; reason?: string }>;
  summary: Record<string, number>;
  pruned: Array<{ registry: string; repository: string; directoryRemoved: boolean }>;
  gc: Array<{
    registry: string;
    status: string;
    reason?: string;
    mode?: string;
    dryRun?: boolean;
    result?: { ok: boolean; exitCode: number; blobsDeleted: number; manifestsDeleted: number; emptyRegistry: boolean };
    storage?: { before: StorageUsageJson; after?: StorageUsageJson };
    cameBack?: boolean;
  }>;
  restart: Array<{ registry: string; status: string; reason?: string }>;
  skipped: Record<string, string>;
  warnings: string[];
  error?: { message: string; hint?: string; exitCode: number };
}

/** The status `rc` reported for one image of the list, by its reference without the host. */
export function statusOf(report: CleanReportJson, host: string, image: string): string | undefined {
  return report.images.find((i) => i.image === `${host}/${image}`)?.status;
}

export interface ContainerState {
  id: string;
  status: string;
  running: boolean;
  startedAt: string;
  restartCount: number;
}

export async function containerState(engine: DockerEngine, name: string): Promise<ContainerState> {
  const format = '{{.Id}}|{{.State.Status}}|{{.State.Running}}|{{.State.StartedAt}}|{{.RestartCount}}';
  const [id = '', status = '', running = '', startedAt = '', restartCount = ''] = (await docker(['inspect', '--type', 'container', '--format', format, name], engine.env)).stdout.trim().split('|');
  return { id, status, running: running === 'true', startedAt, restartCount: Number(restartCount) };
}

interface InspectedContainer {
  Id: string;
  Name: string;
  Config?: { Labels?: Record<string, string> | null };
  HostConfig?: { VolumesFrom?: string[] | null };
}

/**
 * Every container on the engine, other than the registry's own, that belongs to its maintenance:
 * a stand-in labelled for it or named `<name>-rc-readonly`, or any container sharing its volumes
 * (`--volumes-from`, as the stopped-mode GC container does). Empty after a clean run.
 */
export async function leftoverContainers(engine: DockerEngine, registry: RegistryHandle): Promise<string[]> {
  const self = await containerState(engine, registry.name);
  const ids = (await docker(['ps', '-aq', '--no-trunc'], engine.env)).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  // Containers of other test files come and go meanwhile: inspect them one by one and skip those already gone.
  const found: string[] = [];
  for (const id of ids) {
    if (id === self.id) continue;
    let inspected: InspectedContainer | undefined;
    try {
      [inspected] = JSON.parse((await docker(['inspect', '--type', 'container', id], engine.env)).stdout) as InspectedContainer[];
    } catch {
      continue;
    }
    if (!inspected) continue;
    const name = inspected.Name.replace(/^\//, '');
    const volumesFrom = (inspected.HostConfig?.VolumesFrom ?? []).map((v) => v.replace(/:(ro|rw)$/, ''));
    if (
      name === `${registry.name}-rc-readonly` ||
      inspected.Config?.Labels?.[STAND_IN_LABEL] === registry.name ||
      volumesFrom.includes(self.id) ||
      volumesFrom.includes(registry.name)
    ) {
      found.push(name);
    }
  }
  return found;
}

/** Removes a stand-in a failed test may have left (it does not carry the kit's owner label). */
export async function removeStandIns(engine: DockerEngine, registryName: string): Promise<void> {
  const ids = (await docker(['ps', '-aq', '--filter', `label=${STAND_IN_LABEL}=${registryName}`], engine.env)).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', ...ids], engine.env);
}

/** The registry answers `/v2/` and takes a new push that then pulls completely. */
export async function expectWritable(registry: RegistryHandle, seed: string): Promise<void> {
  const answer = await call(`${registry.url}/v2/`);
  expect(answer.status).toBe(200);
  const image = makeImage({ seed: `writable/${seed}` });
  await pushImage(registry.url, 'writable-check', seed.replace(/[^\w.-]/g, '-'), image);
  expect((await pullImage(registry.url, 'writable-check', seed.replace(/[^\w.-]/g, '-'))).digest).toBe(image.digest);
}

/** Whether the registry still holds a blob's data file in its storage (read inside the container). */
export async function blobDataStored(registry: RegistryHandle, digest: string): Promise<boolean> {
  const hex = digest.replace(/^sha256:/, '');
  const file = `${V2_ROOT}/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
  return registry.exec(['test', '-f', file]).then(
    () => true,
    () => false,
  );
}

/** Every blob data file with its size, read inside the container: equal listings mean no blob came or went. */
export async function blobFiles(registry: RegistryHandle): Promise<string[]> {
  const { stdout } = await registry.exec(['find', `${V2_ROOT}/blobs`, '-type', 'f', '-name', 'data', '-exec', 'wc', '-c', '{}', '+']);
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.endsWith(' total'))
    .sort();
}

/** What a blob HEAD in a repository says now (200 present, 404 absent). */
export async function blobHeadStatus(registry: RegistryHandle, repository: string, digest: string): Promise<number> {
  return (await call(v2Url(registry.url, `${repository}/blobs/${digest}`), { method: 'HEAD' })).status;
}

export interface DockerSuite {
  /** The kit's engine (set once the suite's beforeAll ran). */
  readonly engine: DockerEngine;
  /** A registry container like the seed's, removed (with any stand-in) after the test. */
  startRegistry(options?: Parameters<typeof startRegistryContainer>[1]): Promise<RegistryContainer>;
  /** A workspace removed after the test. */
  workspace(): Workspace;
  /** Something else to undo after the test (hand-run containers). */
  afterTest(undo: () => Promise<void>): void;
}

/**
 * The hooks every Docker backend test file needs: the engine and image once, and after each
 * test its registries (stand-ins first: they do not carry the kit's label) and workspaces removed.
 */
export function dockerSuite(): DockerSuite {
  let engine: DockerEngine | undefined;
  const undo: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    engine = await ensureDockerEngine();
    await ensureRegistryImage(engine);
  }, 240_000);
  afterEach(async () => {
    for (const step of undo.splice(0)) await step().catch(() => undefined);
  }, 120_000);
  afterAll(removeAllRegistryContainers, 120_000);
  const suite: DockerSuite = {
    get engine() {
      if (!engine) throw new Error('the Docker engine is not ready yet');
      return engine;
    },
    async startRegistry(options) {
      const registry = await startRegistryContainer(suite.engine, options);
      undo.push(async () => {
        await removeStandIns(suite.engine, registry.name).catch(() => undefined);
        await registry.remove();
      });
      return registry;
    },
    workspace() {
      const workspace = createWorkspace();
      undo.push(async () => workspace.remove());
      return workspace;
    },
    afterTest(step) {
      undo.push(step);
    },
  };
  return suite;
}
