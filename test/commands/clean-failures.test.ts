import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages, seedCleanupList, SEED_TAGS_BEFORE } from '../../testkit/seed-images.js';
import { listTags } from '../../testkit/pull.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

describe('rc clean when the registry cannot do the job', () => {
  let registry: RegistryServer;
  let workspace: Workspace;

  beforeAll(async () => {
    registry = await startRegistry({ deleteEnabled: false });
    await pushSeedImages(registry.url);
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
    workspace.writeConfig(filesystemConfig(registry));
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('stops with exit 1 and says how to enable deletion when the registry has it disabled, changing nothing', async () => {
    const before = snapshotStorage(registry.storageRoot);
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('deletion disabled');
    expect(result.stderr).toContain('REGISTRY_STORAGE_DELETE_ENABLED=true');
    expect(result.stderr).toContain('storage: { delete: { enabled: true } }');
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
    for (const [repository, tags] of Object.entries(SEED_TAGS_BEFORE)) {
      expect((await listTags(registry.url, repository))?.sort()).toEqual([...tags].sort());
    }
    expect(registry.restartCount()).toBe(0);
  });

  it('reports every image as not reached in the JSON report when deletion is disabled', async () => {
    const result = await workspace.rc('clean', '--json');
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.error.message).toContain('deletion disabled');
    expect(report.summary.deleted).toBe(0);
    expect(report.gc).toEqual([]);
  });

  it('stops with exit 1 and names the address when the registry is down', async () => {
    const port = await freePort();
    workspace.writeList([`127.0.0.1:${port}/demo/nginx:1.26`], 'down.txt');
    const result = await workspace.rc('clean', '--file', 'down.txt');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot reach registry 127.0.0.1:${port}`);
    expect(result.stderr).toContain('Hint: check that the registry runs');
  });

  it('lists a down registry with exit 1 and a clear error', async () => {
    const port = await freePort();
    const result = await workspace.rc('ls', '--registry', `127.0.0.1:${port}`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot reach registry 127.0.0.1:${port}`);
  });

  it('refuses to use a storage root that does not hold the registry\'s repositories', async () => {
    const other = await startRegistry();
    try {
      await pushSeedImages(other.url);
      workspace.writeList([`${other.host}/demo/nginx:1.26`], 'wrong-root.txt');
      // The config points at the first registry's storage, not this one's.
      const before = snapshotStorage(registry.storageRoot);
      const result = await workspace.rc('clean', '--file', 'wrong-root.txt');
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/is not the storage of registry 127\.0\.0\.1:\d+: an upload started on the registry did not appear in it/);
      expect(snapshotStorage(registry.storageRoot)).toEqual(before);
      expect((await listTags(other.url, 'demo/nginx'))?.sort()).toEqual(['1.26', 'latest', 'stable']);
    } finally {
      await other.stop();
    }
  });
});
