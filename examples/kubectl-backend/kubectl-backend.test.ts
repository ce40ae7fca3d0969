import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { catalog, listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages, seedCleanupList, SEED_CATALOG_AFTER, SEED_TAGS_AFTER, type SeedImages } from '../../testkit/seed-images.js';
import type { CliResult } from '../../test/support/run-cli.js';
import { blobStored, repositoryDir, snapshotStorage } from '../../test/support/storage-snapshot.js';
import { createWorkspace, type Workspace } from '../../test/support/workspace.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The plugin as a user's config names it: a path to its module. */
const PLUGIN = path.join(here, 'index.ts');
const FAKE = path.join(here, 'fake-kubectl.mjs');

/** Paths inside the "pod", as the official image has them: the backend's defaults. */
const POD_ROOT = '/var/lib/registry';
const POD_BINARY = '/bin/registry';
const POD_CONFIG = '/etc/docker/registry/config.yml';

interface FakePod {
  name: string;
  labels: Record<string, string>;
  /** The kind of its controller; '' for a bare pod that nothing recreates. */
  owner: string;
  containers: string[];
  /** The Deployment whose rollout replaces it. */
  workload?: string;
}

interface FakeState {
  log: string;
  context: string;
  namespace: string;
  pods: FakePod[];
  deployments: string[];
  mounts: Record<string, string>;
  binaries: Record<string, string>;
  restartCommand: string[];
}

/**
 * A fake cluster around one real registry: the fake kubectl (fake-kubectl.mjs) behind an
 * executable wrapper in a temp dir, its state file, and the log of every argv it received.
 */
interface FakeCluster {
  /** The executable to configure as `kubectl`. */
  kubectl: string;
  state(): FakeState;
  update(change: (state: FakeState) => void): void;
  /** Every argv received so far. */
  calls(): string[][];
  remove(): void;
}

function fakeCluster(registry: RegistryServer, pods: FakePod[], deployments: string[] = []): FakeCluster {
  const dir = mkdtempSync(path.join(tmpdir(), 'rc-fake-kubectl-'));
  const statePath = path.join(dir, 'state.json');
  const log = path.join(dir, 'kubectl.log');
  const state: FakeState = {
    log,
    context: 'kind-registry',
    namespace: 'registry',
    pods,
    deployments,
    // The pod's volume and config mounts, as its spec would declare them, onto the real registry's.
    mounts: { [POD_ROOT]: registry.storageRoot, [POD_CONFIG]: registry.configPath },
    binaries: { [POD_BINARY]: 'docker-registry' },
    restartCommand: registry.restartCommand,
  };
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  writeFileSync(log, '');
  const kubectl = path.join(dir, 'kubectl');
  writeFileSync(kubectl, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE)} ${JSON.stringify(statePath)} "$@"\n`);
  chmodSync(kubectl, 0o755);
  const read = (): FakeState => JSON.parse(readFileSync(statePath, 'utf8')) as FakeState;
  return {
    kubectl,
    state: read,
    update(change) {
      const current = read();
      change(current);
      writeFileSync(statePath, JSON.stringify(current, null, 2));
    },
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as string[]),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs the built `rc`. Other engineers may rebuild dist/ meanwhile: a run that could not even
 * load its command touched nothing, and is retried.
 */
async function rc(workspace: Workspace, ...args: string[]): Promise<CliResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await workspace.rc(...args);
    const notLoaded = /command \S+ not found|ERR_MODULE_NOT_FOUND|Cannot find module/.test(`${result.stdout}\n${result.stderr}`);
    if (!notLoaded || attempt >= 10) return result;
    await sleep(2000);
  }
}

interface CleanReportJson {
  images: Array<{ image: string; status: string; keptTags?: string[] }>;
  summary: Record<string, number>;
  pruned: Array<{ registry: string; repository: string; directoryRemoved: boolean }>;
  gc: Array<{ status: string; mode?: string; result?: { ok: boolean; blobsDeleted: number }; storage?: { before: { bytes: number }; after?: { bytes: number } } }>;
  restart: Array<{ registry: string; status: string; reason?: string }>;
  error?: { message: string; exitCode: number };
}

async function cleanJson(workspace: Workspace, ...args: string[]): Promise<{ exitCode: number; report: CleanReportJson }> {
  const result = await rc(workspace, 'clean', '--json', ...args);
  try {
    return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as CleanReportJson };
  } catch {
    throw new Error(`rc clean --json printed no JSON (exit ${result.exitCode})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

function writeConfig(workspace: Workspace, name: string, config: unknown): string {
  writeFileSync(path.join(workspace.dir, name), JSON.stringify(config, null, 2));
  return name;
}

const statusOf = (report: CleanReportJson, host: string, image: string) => report.images.find((i) => i.image === `${host}/${image}`)?.status;
const isExec = (call: string[]) => call.includes('exec');
const afterDoubleDash = (call: string[]) => call.slice(call.indexOf('--') + 1);

describe('rc clean with the kubectl backend on the seed walkthrough (a StatefulSet pod named registry-0)', () => {
  let registry: RegistryServer;
  let seed: SeedImages;
  let workspace: Workspace;
  let cluster: FakeCluster;
  let clean: { exitCode: number; report: CleanReportJson };
  let cleanCalls: string[][];

  const storage = () => ({ backend: 'kubectl', pod: 'registry-0', namespace: 'registry', container: 'registry', context: 'kind-registry', kubectl: [cluster.kubectl] });

  beforeAll(async () => {
    registry = await startRegistry();
    seed = await pushSeedImages(registry.url);
    cluster = fakeCluster(registry, [{ name: 'registry-0', labels: { app: 'registry' }, owner: 'StatefulSet', containers: ['registry'] }]);
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
    workspace.writeConfig({ plugins: [PLUGIN], storage: storage() });
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
    cluster?.remove();
  });

  it('rc plugins lists the kubectl backend as coming from the kubectl-backend plugin', async () => {
    const result = await rc(workspace, 'plugins', '--json');
    expect(result.exitCode).toBe(0);
    const { backends } = JSON.parse(result.stdout) as { backends: Array<{ id: string; plugin: string; summary: string }> };
    expect(backends).toContainEqual(expect.objectContaining({ id: 'kubectl', plugin: 'kubectl-backend' }));
    expect(cluster.calls()).toEqual([]); // Listing plugins reaches no cluster.
  });

  it('deletes exactly the listed images through kubectl exec, prunes the emptied repository, collects garbage in the pod and restarts it by deleting the pod', async () => {
    clean = await cleanJson(workspace);
    cleanCalls = cluster.calls();
    const { report } = clean;
    expect(report.error).toBeUndefined();
    expect(clean.exitCode).toBe(0);
    expect(statusOf(report, registry.host, 'library/busybox:1.36.1')).toBe('deleted');
    expect(statusOf(report, registry.host, 'registry:latest')).toBe('deleted');
    expect(statusOf(report, registry.host, 'demo/nginx:1.26')).toBe('deleted');
    expect(statusOf(report, registry.host, 'demo/nginx:noexist')).toBe('absent');
    expect(report.images.find((i) => i.image.endsWith('/demo/nginx:1.26'))?.keptTags).toEqual(['stable']);
    expect(report.summary).toMatchObject({ deleted: 3, absent: 1, failed: 0 });
    expect(report.pruned).toEqual([{ registry: registry.host, repository: 'registry', directoryRemoved: true }]);
    for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) {
      expect((await listTags(registry.url, repository))?.sort()).toEqual([...tags].sort());
    }
    expect(await catalog(registry.url)).toEqual([...SEED_CATALOG_AFTER].sort());
    expect(existsSync(repositoryDir(registry.storageRoot, 'registry'))).toBe(false);

    const [gc] = report.gc;
    expect(gc).toMatchObject({ status: 'collected', mode: 'online', result: { ok: true } });
    expect(gc!.result!.blobsDeleted).toBeGreaterThan(0);
    // Measured through `kubectl exec … find | wc` before and after.
    expect(gc!.storage!.after!.bytes).toBeLessThan(gc!.storage!.before.bytes);
    expect(report.restart).toEqual([expect.objectContaining({ registry: registry.host, status: 'restarted' })]);
    expect(registry.restartCount()).toBe(1);
  });

  it('every kept image still pulls completely, while the deleted images\' own blobs are gone', async () => {
    expect(clean?.exitCode).toBe(0);
    for (const blob of seed.images['registry:latest']!.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(false);
    expect(blobStored(registry.storageRoot, seed.images['library/busybox:1.36.1']!.layers[1]!.digest)).toBe(false);
    expect(blobStored(registry.storageRoot, seed.sharedLayers.busybox.digest)).toBe(true);
    expect(await manifestDigest(registry.url, 'demo/nginx', 'stable')).toBe(seed.digests['demo/nginx:1.26']);
    for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) {
      for (const tag of tags) expect((await pullImage(registry.url, repository, tag)).digest).toBe(seed.digests[`${repository}:${tag}`]);
    }
  });

  it('every kubectl call names the context, namespace, pod and container, and runs only pod paths after --', () => {
    expect(cleanCalls?.length).toBeGreaterThan(3);
    for (const call of cleanCalls) expect(call.slice(0, 2)).toEqual(['--context', 'kind-registry']);
    const [first, second, ...rest] = cleanCalls.map((call) => call.slice(2));
    expect(first).toEqual(['get', 'pods', '-n', 'registry', 'registry-0', '-o', 'name']);
    // delete-pod is refused up front for a pod nothing would recreate: its owner is read first.
    expect(second).toEqual(['get', 'pods', '-n', 'registry', 'registry-0', '-o', 'jsonpath={.metadata.ownerReferences[*].kind}']);

    const execs = cleanCalls.filter(isExec);
    expect(execs.length).toBe(rest.length - 1); // Everything else is exec, but for the one restart.
    for (const call of execs) expect(call.slice(2, 9)).toEqual(['exec', '-n', 'registry', 'registry-0', '-c', 'registry', '--']);

    const gcCalls = execs.filter((call) => afterDoubleDash(call)[0] === POD_BINARY);
    expect(gcCalls.map(afterDoubleDash)).toEqual([[POD_BINARY, 'garbage-collect', POD_CONFIG]]);
    const storageCalls = execs.filter((call) => afterDoubleDash(call)[0] === 'sh');
    expect(storageCalls.length).toBe(execs.length - 1);
    for (const call of storageCalls) {
      const [sh, dashC, script, argv0, ...paths] = afterDoubleDash(call);
      expect([sh, dashC, argv0]).toEqual(['sh', '-c', 'sh']);
      // Paths reach the pod only as arguments, never inside the script, and only below its storage root.
      expect(script).not.toContain(POD_ROOT);
      expect(script).not.toContain(registry.storageRoot);
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) expect(p.startsWith(`${POD_ROOT}/docker/registry/v2/`)).toBe(true);
    }
    expect(storageCalls.some((call) => call.includes(`${POD_ROOT}/docker/registry/v2/repositories/registry`))).toBe(true);

    const deletes = cleanCalls.filter((call) => call[2] === 'delete');
    expect(deletes).toEqual([['--context', 'kind-registry', 'delete', 'pod', '-n', 'registry', 'registry-0']]);
    expect(cleanCalls.at(-1)).toEqual(deletes[0]); // The restart comes after the GC, last.
  });

  it('a pod name that does not exist stops the run with kubectl\'s NotFound error, exit 1, and changes nothing', async () => {
    const config = writeConfig(workspace, 'wrong-pod.json', { plugins: [PLUGIN], storage: { ...storage(), pod: 'registry-x' } });
    workspace.writeList([`${registry.host}/demo/nginx:latest`], 'keep.txt');
    const before = snapshotStorage(registry.storageRoot);
    const restarts = registry.restartCount();
    const callsBefore = cluster.calls().length;

    const result = await rc(workspace, 'clean', '--config', config, '--file', 'keep.txt');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Error from server (NotFound): pods "registry-x" not found');
    expect(result.stderr).toContain('finding pod registry/registry-x');
    expect(result.stderr).toContain('nothing was changed');
    expect(cluster.calls().slice(callsBefore)).toEqual([['--context', 'kind-registry', 'get', 'pods', '-n', 'registry', 'registry-x', '-o', 'name']]);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
    expect(registry.restartCount()).toBe(restarts);
    expect(await listTags(registry.url, 'demo/nginx')).toEqual(['latest', 'stable']);
  });

  it('a storage block naming neither a pod nor a selector is a config error naming storage.pod, exit 2, before kubectl runs', async () => {
    const { pod: _pod, ...withoutPod } = storage();
    const config = writeConfig(workspace, 'no-pod.json', { plugins: [PLUGIN], storage: withoutPod });
    const callsBefore = cluster.calls().length;
    const result = await rc(workspace, 'clean', '--config', config, '--file', 'keep.txt');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('invalid options for storage backend "kubectl"');
    expect(result.stderr).toMatch(/storage\.pod: missing: name the registry's pod, or give a label selector/);
    expect(cluster.calls().length).toBe(callsBefore);
  });

  it('asking for a read-only garbage collection is a config error: a pod offers only online GC, exit 2', async () => {
    const config = writeConfig(workspace, 'readonly.json', { plugins: [PLUGIN], storage: storage(), gc: { mode: 'readonly' } });
    const before = snapshotStorage(registry.storageRoot);
    const result = await rc(workspace, 'clean', '--config', config, '--file', 'keep.txt');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/gc\.mode: readonly needs a runtime that can stop the registry \(kubectl pod registry\/registry-0 cannot\)/);
    expect(cluster.calls().filter(isExec)).toEqual(cleanCalls.filter(isExec)); // No exec since the clean.
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });
});

describe('rc clean with the kubectl backend on a Deployment pod found by label selector', () => {
  const FIRST_POD = 'registry-7c9f8b6d5-k2x7p';
  let registry: RegistryServer;
  let workspace: Workspace;
  let cluster: FakeCluster;
  let digests: Record<string, string>;
  const runs: Array<{ exitCode: number; report: CleanReportJson; calls: string[][] }> = [];

  const storage = (extra: Record<string, unknown> = {}) => ({ backend: 'kubectl', selector: 'app=registry', namespace: 'registry', container: 'registry', kubectl: [cluster.kubectl], ...extra });
  /** `rc clean` of one image with this config; what kubectl received during the run. */
  const cleanOne = async (image: string, config: Record<string, unknown>) => {
    const name = writeConfig(workspace, `run-${runs.length}.json`, { plugins: [PLUGIN], ...config });
    workspace.writeList([`${registry.host}/${image}`], `run-${runs.length}.txt`);
    const callsBefore = cluster.calls().length;
    const run = await cleanJson(workspace, '--config', name, '--file', `run-${runs.length}.txt`);
    runs.push({ ...run, calls: cluster.calls().slice(callsBefore) });
    return runs.at(-1)!;
  };
  /** The pods the run's `exec -n NS POD …` calls went to. */
  const podOf = (calls: string[][]) => [...new Set(calls.filter(isExec).map((call) => call[call.indexOf('exec') + 3]))];
  const registryPod = () => cluster.state().pods.find((pod) => pod.labels.app === 'registry')!.name;

  beforeAll(async () => {
    registry = await startRegistry();
    digests = {};
    for (const tag of ['1', '2', '3', '4', 'keep']) digests[tag] = await pushImage(registry.url, 'team/app', [tag], makeImage({ seed: `team/app:${tag}`, layers: 2 }));
    cluster = fakeCluster(
      registry,
      [
        { name: FIRST_POD, labels: { app: 'registry' }, owner: 'ReplicaSet', containers: ['registry'], workload: 'registry' },
        // Another app in the same namespace: the selector must not pick it.
        { name: 'web-5f6d7c8b9-q4w2e', labels: { app: 'web' }, owner: 'ReplicaSet', containers: ['web'], workload: 'web' },
      ],
      ['registry', 'web'],
    );
    workspace = createWorkspace();
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
    cluster?.remove();
  });

  it('finds the registry\'s pod by its label, and restarts it by deleting the pod, which the Deployment replaces', async () => {
    const run = await cleanOne('team/app:1', { storage: storage() });
    expect(run.report.error).toBeUndefined();
    expect(run.exitCode).toBe(0);
    expect(statusOf(run.report, registry.host, 'team/app:1')).toBe('deleted');
    expect(run.report.gc[0]).toMatchObject({ status: 'collected', mode: 'online' });
    expect(run.calls[0]).toEqual(['get', 'pods', '-n', 'registry', '-l', 'app=registry', '--field-selector', 'status.phase=Running', '-o', 'name']);
    expect(podOf(run.calls)).toEqual([FIRST_POD]);
    expect(run.calls.at(-1)).toEqual(['delete', 'pod', '-n', 'registry', FIRST_POD]);
    expect(run.report.restart).toEqual([expect.objectContaining({ status: 'restarted' })]);
    expect(registry.restartCount()).toBe(1);
    expect(registryPod()).not.toBe(FIRST_POD);
  });

  it('the next run finds the pod the Deployment created in place of the deleted one', async () => {
    const replacement = registryPod();
    const run = await cleanOne('team/app:2', { storage: storage({ restart: 'rollout', deployment: 'registry' }) });
    expect(run.exitCode).toBe(0);
    expect(statusOf(run.report, registry.host, 'team/app:2')).toBe('deleted');
    expect(podOf(run.calls)).toEqual([replacement]);
  });

  it('restart "rollout" restarts the Deployment and waits for its rollout to finish', () => {
    const run = runs[1];
    expect(run?.exitCode).toBe(0);
    const restartCalls = run!.calls.filter((call) => call[0] === 'rollout' || call[0] === 'delete');
    expect(restartCalls).toEqual([
      ['rollout', 'restart', '-n', 'registry', 'deployment/registry'],
      ['rollout', 'status', '-n', 'registry', 'deployment/registry', '--timeout=120s'],
    ]);
    expect(run!.report.restart).toEqual([expect.objectContaining({ status: 'restarted' })]);
    expect(registry.restartCount()).toBe(2);
  });

  it('a custom restart command runs on this machine as given, not through kubectl', async () => {
    const run = await cleanOne('team/app:3', { storage: storage({ restart: registry.restartCommand }) });
    expect(run.exitCode).toBe(0);
    expect(run.report.restart).toEqual([expect.objectContaining({ status: 'restarted' })]);
    expect(registry.restartCount()).toBe(3);
    expect(run.calls.filter((call) => !isExec(call) && call[0] !== 'get')).toEqual([]);
  });

  it('without storage.restart, the top-level restart.command restarts the registry', async () => {
    const run = await cleanOne('team/app:4', { storage: storage(), restart: { command: registry.restartCommand } });
    expect(run.exitCode).toBe(0);
    expect(run.report.restart).toEqual([expect.objectContaining({ status: 'restarted' })]);
    expect(registry.restartCount()).toBe(4);
    // No owner check and no delete: the pod is not the way this registry restarts.
    expect(run.calls.filter((call) => !isExec(call))).toEqual([run.calls[0]]);
  });

  it('a selector matching two running pods is refused, naming both, before anything changes', async () => {
    cluster.update((state) => state.pods.push({ name: 'registry-7c9f8b6d5-zz9zz', labels: { app: 'registry' }, owner: 'ReplicaSet', containers: ['registry'], workload: 'registry' }));
    try {
      const before = snapshotStorage(registry.storageRoot);
      const run = await cleanOne('team/app:keep', { storage: storage() });
      expect(run.exitCode).toBe(1);
      expect(run.report.error?.message).toMatch(/selector app=registry matches 2 running pods in namespace registry \(registry-\S+, registry-7c9f8b6d5-zz9zz\)/);
      expect(run.calls.filter(isExec)).toEqual([]);
      expect(snapshotStorage(registry.storageRoot)).toEqual(before);
    } finally {
      cluster.update((state) => (state.pods = state.pods.filter((pod) => pod.name !== 'registry-7c9f8b6d5-zz9zz')));
    }
  });

  it('a pod no controller would recreate is not deleted to restart it: the run stops before changing anything', async () => {
    const bare = 'registry-by-hand';
    cluster.update((state) => state.pods.push({ name: bare, labels: { app: 'registry-by-hand' }, owner: '', containers: ['registry'] }));
    const before = snapshotStorage(registry.storageRoot);
    const restarts = registry.restartCount();
    const run = await cleanOne('team/app:keep', { storage: storage({ selector: 'app=registry-by-hand' }) });
    expect(run.exitCode).toBe(1);
    expect(run.report.error?.message).toContain(`restart "delete-pod" would delete pod registry/${bare} for good`);
    expect(run.calls.filter((call) => isExec(call) || call[0] === 'delete')).toEqual([]);
    expect(cluster.state().pods.map((pod) => pod.name)).toContain(bare);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
    expect(registry.restartCount()).toBe(restarts);
  });

  it('restart "rollout" without the deployment to restart is a config error naming storage.deployment, exit 2', async () => {
    const name = writeConfig(workspace, 'rollout-no-deployment.json', { plugins: [PLUGIN], storage: storage({ restart: 'rollout' }) });
    const callsBefore = cluster.calls().length;
    const result = await rc(workspace, 'clean', '--config', name, '--file', 'run-0.txt');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/storage\.deployment: missing: restart "rollout" needs the workload to restart/);
    expect(cluster.calls().length).toBe(callsBefore);
  });

  it('the image that was never listed still pulls completely after four cleanings and restarts', async () => {
    expect(runs.filter((run) => run.exitCode === 0).length).toBe(4);
    expect(await listTags(registry.url, 'team/app')).toEqual(['keep']);
    expect((await pullImage(registry.url, 'team/app', 'keep')).digest).toBe(digests.keep);
  });
});
