import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readGcResult } from '../../src/runtime/gc-result.js';
import { filesystemBackend } from '../../src/storage/backends/filesystem.js';
import { makeImage, pushBlob, pushImage } from '../../testkit/images.js';
import { catalog, pullImage } from '../../testkit/pull.js';
import { startRegistry, stopAllRegistries, type RegistryServer } from '../../testkit/registry-server.js';
import { blobStored } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

describe('garbage collection and restart', () => {
  let registry: RegistryServer;
  let workspace: Workspace;

  beforeEach(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
  });
  afterEach(async () => {
    await registry.stop();
    workspace.remove();
  });
  afterAll(stopAllRegistries);

  it('a re-push of a deleted image after cleanup really uploads its layers and pulls completely', async () => {
    const image = makeImage({ seed: 'repush', layers: 2 });
    await pushImage(registry.url, 'app', 'v1', image);
    await pushImage(registry.url, 'app', 'v2', makeImage({ seed: 'repush/v2' }));
    workspace.writeConfig(filesystemConfig(registry));
    workspace.writeList([`${registry.host}/app:v1`]);
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(0);
    for (const blob of image.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(false);
    // A client skips blobs the registry says it has; after the restart the registry must say no.
    const outcomes = await Promise.all(image.blobs.map((blob) => pushBlob(registry.url, 'app', blob)));
    expect(outcomes).toEqual(image.blobs.map(() => 'uploaded'));
    await pushImage(registry.url, 'app', 'v1', image);
    expect((await pullImage(registry.url, 'app', 'v1')).digest).toBe(image.digest);
  });

  it('cleaning the last image leaves an empty catalog and garbage collection still succeeds', async () => {
    const image = makeImage({ seed: 'last' });
    await pushImage(registry.url, 'only', '1', image);
    workspace.writeConfig(filesystemConfig(registry));
    workspace.writeList([`${registry.host}/only:1`]);
    const result = await workspace.rc('clean', '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.pruned).toEqual([{ registry: registry.host, repository: 'only', directoryRemoved: true }]);
    expect(report.gc[0]).toMatchObject({ status: 'collected', result: { ok: true } });
    expect(report.restart[0]).toMatchObject({ status: 'restarted' });
    expect(await catalog(registry.url)).toEqual([]);
    for (const blob of image.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(false);
  });

  it('warns why a restart matters when no restart command is configured, and still succeeds', async () => {
    await pushImage(registry.url, 'app', ['a', 'b'], makeImage({ seed: 'norestart' }));
    await pushImage(registry.url, 'app', 'c', makeImage({ seed: 'norestart/c' }));
    const { restart: _restart, ...config } = filesystemConfig(registry);
    workspace.writeConfig(config);
    workspace.writeList([`${registry.host}/app:a`, `${registry.host}/app:b`]);
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/restart\s+\S+: not restarted \(no restart.command is configured\)/);
    expect(result.stdout).toMatch(/warning: \S+ was not restarted \(no restart.command is configured\): .*stale blob cache/);
    expect(registry.restartCount()).toBe(0);
  });

  it('with --no-gc deletes but neither collects garbage nor restarts', async () => {
    const image = makeImage({ seed: 'nogc' });
    await pushImage(registry.url, 'app', 'x', image);
    await pushImage(registry.url, 'app', 'y', makeImage({ seed: 'nogc/y' }));
    workspace.writeConfig(filesystemConfig(registry));
    workspace.writeList([`${registry.host}/app:x`]);
    const result = await workspace.rc('clean', '--no-gc');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('gc       skipped: skipped (--no-gc)');
    expect(blobStored(registry.storageRoot, image.layers[0]!.digest)).toBe(true);
    expect(registry.restartCount()).toBe(0);
  });

  it('a failing garbage collection fails the run with exit 1 and its output, and the registry keeps serving', async () => {
    await pushImage(registry.url, 'app', 'x', makeImage({ seed: 'gcfail' }));
    await pushImage(registry.url, 'app', 'y', makeImage({ seed: 'gcfail/y' }));
    workspace.writeConfig({ ...filesystemConfig(registry), gc: { command: ['docker-registry', 'garbage-collect', '/nonexistent/config.yml'] } });
    workspace.writeList([`${registry.host}/app:x`]);
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('garbage collection on');
    expect(result.stderr).toContain('/nonexistent/config.yml');
    expect(result.stdout).toMatch(/deleted\s+\S+\/app:x/);
    await pullImage(registry.url, 'app', 'y');
  });

  it('treats garbage collection of a registry that never held a repository as nothing to collect', async () => {
    const backend = await filesystemBackend.create(
      { root: registry.storageRoot },
      { host: registry.host, configDir: workspace.dir, gc: { enabled: true, deleteUntagged: false, mode: 'online', dryRun: false, command: ['docker-registry', 'garbage-collect', registry.configPath] }, restart: { enabled: true, timeoutSeconds: 5 } },
    );
    const result = readGcResult(await backend.runtime!.garbageCollect([], {}));
    expect(result).toMatchObject({ ok: true, emptyRegistry: true, blobsDeleted: 0 });
  });
});
