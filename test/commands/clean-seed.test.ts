import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog, listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages, seedCleanupList, SEED_TAGS_AFTER, type SeedImages } from '../../testkit/seed-images.js';
import { blobStored, repositoryDir, snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

/** The seed walkthrough, end to end through the built binary, against a real registry. */
describe('rc clean on the seed walkthrough', () => {
  let registry: RegistryServer;
  let seed: SeedImages;
  let workspace: Workspace;

  beforeAll(async () => {
    registry = await startRegistry();
    seed = await pushSeedImages(registry.url);
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
    workspace.writeConfig(filesystemConfig(registry));
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('lists every repository and tag before cleaning, like the seed script', async () => {
    const result = await workspace.rc('ls');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`${registry.host} repositories:`);
    for (const line of ['demo/nginx:1.26', 'demo/nginx:latest', 'demo/nginx:stable', 'library/busybox:1.35.0', 'library/busybox:1.36.1', 'registry:latest']) {
      expect(result.stdout).toContain(`  ${line}\n`);
    }
  });

  it('dry run prints the plan and leaves storage byte-identical', async () => {
    const before = snapshotStorage(registry.storageRoot);
    const result = await workspace.rc('clean', '--dry-run');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/would delete\s+\S+\/library\/busybox:1\.36\.1/);
    expect(result.stdout).toMatch(/would delete\s+\S+\/demo\/nginx:1\.26 .*keeps stable/);
    expect(result.stdout).toMatch(/absent\s+\S+\/demo\/nginx:noexist/);
    expect(result.stdout).toMatch(/would prune\s+\S+\/registry\n/);
    expect(result.stdout).toContain('would run garbage collection');
    expect(result.stdout).toContain('would restart');
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
    expect(registry.restartCount()).toBe(0);
  });

  it('deletes exactly the listed images, reports the absent one, prunes, collects garbage and restarts', async () => {
    const result = await workspace.rc('clean');
    expect(result.stderr).not.toContain('Error');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/deleted\s+\S+\/library\/busybox:1\.36\.1/);
    expect(result.stdout).toMatch(/deleted\s+\S+\/registry:latest/);
    expect(result.stdout).toMatch(/deleted\s+\S+\/demo\/nginx:1\.26 .*kept stable/);
    expect(result.stdout).toMatch(/absent\s+\S+\/demo\/nginx:noexist/);
    expect(result.stdout).toContain('3 deleted, 1 absent, 0 failed');

    for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) {
      expect((await listTags(registry.url, repository))?.sort()).toEqual([...tags].sort());
    }
    expect(await catalog(registry.url)).toEqual(['demo/nginx', 'library/busybox']);
    expect(existsSync(repositoryDir(registry.storageRoot, 'registry'))).toBe(false);
    expect(registry.restartCount()).toBe(1);
  });

  it('keeps the tag that shared a digest with a deleted tag, pullable', async () => {
    expect(await manifestDigest(registry.url, 'demo/nginx', 'stable')).toBe(seed.digests['demo/nginx:1.26']);
    expect(await manifestDigest(registry.url, 'demo/nginx', '1.26')).toBeNull();
    const pulled = await pullImage(registry.url, 'demo/nginx', 'stable');
    expect(pulled.digest).toBe(seed.digests['demo/nginx:1.26']);
  });

  it('garbage collection freed the deleted images\' own blobs while every kept image still pulls completely', async () => {
    for (const blob of seed.images['registry:latest']!.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(false);
    const busybox136 = seed.images['library/busybox:1.36.1']!;
    expect(blobStored(registry.storageRoot, busybox136.layers[1]!.digest)).toBe(false);
    // The base layer is shared with 1.35.0, which stays.
    expect(blobStored(registry.storageRoot, seed.sharedLayers.busybox.digest)).toBe(true);
    for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) {
      for (const tag of tags) {
        const pulled = await pullImage(registry.url, repository, tag);
        expect(pulled.digest).toBe(seed.digests[`${repository}:${tag}`]);
      }
    }
  });

  it('rerunning the same list succeeds, reports everything absent and runs no GC or restart', async () => {
    const before = snapshotStorage(registry.storageRoot);
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('0 deleted, 4 absent, 0 failed');
    expect(result.stdout).toContain('gc       skipped: nothing was deleted');
    expect(registry.restartCount()).toBe(1);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });

  it('lists what is left after cleaning', async () => {
    const result = await workspace.rc('ls');
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim()).sort();
    expect(lines).toEqual(['demo/nginx:latest', 'demo/nginx:stable', 'library/busybox:1.35.0']);
  });
});
