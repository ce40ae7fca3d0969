import { describe, expect, it } from 'vitest';
import { docker } from '../../testkit/docker/index.js';
import { makeImage, makeLayer, pushIndex } from '../../testkit/images.js';
import { listTags, pullImage } from '../../testkit/pull.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { blobDataStored, blobFiles, cleanJson, containerState, dockerSuite, leftoverContainers, rcDocker, statusOf } from './docker-support.js';

const SLOW = { timeout: 120_000 };

const suite = dockerSuite();

/** A bind-mounted registry container (so its storage can be snapshot from here) with `app:old` and `app:keep`. */
async function registryWithApp(seed: string) {
  const registry = await suite.startRegistry();
  const old = makeImage({ seed: `${seed}/old`, layers: [makeLayer(`${seed}/base`, 2048), makeLayer(`${seed}/old-top`, 4096)] });
  const keep = makeImage({ seed: `${seed}/keep`, layers: [makeLayer(`${seed}/base`, 2048), makeLayer(`${seed}/keep-top`, 1024)] });
  await registry.push('app', 'old', old);
  await registry.push('app', 'keep', keep);
  const workspace = suite.workspace();
  workspace.writeList([`${registry.host}/app:old`]);
  return { registry, workspace, old, keep };
}

describe('rc clean through a registry container: what it refuses and what it leaves alone', SLOW, () => {
  it('names a container that does not exist, hints at docker ps, exits 1 and touches nothing', async () => {
    const { registry, workspace } = await registryWithApp('missing');
    const missing = `rc-test-no-such-registry-${process.pid}`;
    workspace.writeConfig({ storage: { backend: 'docker', container: missing } });
    const storageBefore = snapshotStorage(registry.storageDir!);
    const stateBefore = await containerState(suite.engine, registry.name);

    const result = await rcDocker(workspace, suite.engine, 'clean');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`docker has no container named ${missing}`);
    expect(result.stderr).toMatch(/Hint: .*`docker ps` lists them/);
    expect(result.stdout).not.toMatch(/deleted\s/);

    expect(await listTags(registry.url, 'app')).toEqual(['keep', 'old']);
    expect(snapshotStorage(registry.storageDir!)).toEqual(storageBefore);
    expect(await containerState(suite.engine, registry.name)).toEqual(stateBefore);
    const named = await docker(['ps', '-aq', '--filter', `name=${missing}`], suite.engine.env);
    expect(named.stdout.trim()).toBe('');
  });

  it('refuses gc.deleteUntagged on this 2.8 registry while it holds a multi-arch index, before deleting anything', async () => {
    const { registry, workspace } = await registryWithApp('untagged');
    const index = await pushIndex(registry.url, 'multi', 'latest', [makeImage({ seed: 'untagged/amd64' }), makeImage({ seed: 'untagged/arm64', platform: 'linux/arm64' })]);
    workspace.writeConfig({ storage: { backend: 'docker', container: registry.name }, gc: { deleteUntagged: true } });
    const storageBefore = snapshotStorage(registry.storageDir!);
    const stateBefore = await containerState(suite.engine, registry.name);

    const { exitCode, report } = await cleanJson(workspace, suite.engine);
    expect(exitCode).toBe(1);
    expect(report.error?.message).toContain('gc.deleteUntagged is refused');
    expect(report.error?.message).toContain('multi:latest is a multi-arch index');
    expect(statusOf(report, registry.host, 'app:old')).toBe('not-reached');
    expect(report.gc.every((gc) => gc.status !== 'collected' && gc.status !== 'failed')).toBe(true);

    expect(await listTags(registry.url, 'app')).toEqual(['keep', 'old']);
    // The storage identity probe's upload leaves no trace either.
    expect(snapshotStorage(registry.storageDir!)).toEqual(storageBefore);
    expect(await containerState(suite.engine, registry.name)).toEqual(stateBefore);
    const pulled = await pullImage(registry.url, 'multi', 'latest');
    expect(pulled.digest).toBe(index);
    expect(pulled.children).toHaveLength(2);
  });

  it('with gc.dryRun reports what garbage collection would delete, deletes no blob and does not restart the registry', async () => {
    const { registry, workspace, old, keep } = await registryWithApp('gc-dry-run');
    workspace.writeConfig({ storage: { backend: 'docker', container: registry.name }, gc: { dryRun: true } });
    const blobsBefore = await blobFiles(registry);
    const stateBefore = await containerState(suite.engine, registry.name);

    const { exitCode, report } = await cleanJson(workspace, suite.engine);
    expect(report.error?.message).toBeUndefined();
    expect(exitCode).toBe(0);
    // The image itself is deleted; only its garbage stays, counted.
    expect(statusOf(report, registry.host, 'app:old')).toBe('deleted');
    const [gc] = report.gc;
    expect(gc).toMatchObject({ status: 'collected', dryRun: true, result: { ok: true } });
    expect(gc!.result!.blobsDeleted).toBe(3);
    expect(gc!.storage!.after).toEqual(gc!.storage!.before);
    expect(report.restart).toEqual([expect.objectContaining({ status: 'skipped' })]);

    expect(await blobFiles(registry)).toEqual(blobsBefore);
    for (const blob of old.blobs) expect(await blobDataStored(registry, blob.digest)).toBe(true);
    expect(await containerState(suite.engine, registry.name)).toEqual(stateBefore);
    expect(await leftoverContainers(suite.engine, registry)).toEqual([]);
    expect((await pullImage(registry.url, 'app', 'keep')).digest).toBe(keep.digest);
  });

  it('--dry-run prints the plan and leaves the container\'s storage byte-identical and the container untouched', async () => {
    const { registry, workspace } = await registryWithApp('dry-run');
    workspace.writeConfig({ storage: { backend: 'docker', container: registry.name } });
    const storageBefore = snapshotStorage(registry.storageDir!);
    const stateBefore = await containerState(suite.engine, registry.name);

    const result = await rcDocker(workspace, suite.engine, 'clean', '--dry-run');
    expect(result.stderr).not.toContain('Error');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/would delete\s+\S+\/app:old/);
    expect(result.stdout).toContain('would run garbage collection');
    expect(result.stdout).toContain('would restart');
    expect(result.stdout).toContain('Dry run, nothing changed');

    expect(snapshotStorage(registry.storageDir!)).toEqual(storageBefore);
    const stateAfter = await containerState(suite.engine, registry.name);
    expect(stateAfter).toEqual(stateBefore);
    expect(stateAfter.running).toBe(true);
    expect(await leftoverContainers(suite.engine, registry)).toEqual([]);
    expect(await listTags(registry.url, 'app')).toEqual(['keep', 'old']);
  });
});
