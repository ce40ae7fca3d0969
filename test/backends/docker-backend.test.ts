import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerEngine, type RegistryContainer, ensureDockerEngine, ensureRegistryImage, removeAllRegistryContainers, startRegistryContainer } from '../../testkit/docker/index.js';
import { pushBlob, pushImage } from '../../testkit/images.js';
import { catalog, listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { pushSeedImages, seedCleanupList, SEED_CATALOG_AFTER, SEED_TAGS_AFTER, SEED_TAGS_BEFORE, type SeedImages } from '../../testkit/seed-images.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';
import { blobDataStored, blobHeadStatus, cleanJson, containerState, leftoverContainers, rcDocker, removeStandIns, statusOf, V2_ROOT, type CleanReportJson, type ContainerState } from './docker-support.js';

// A real dockerd and real containers: generous limits for a loaded 2-core machine, no timing assertions.
const SLOW = { timeout: 120_000 };

/**
 * The seed walkthrough with the registry in a container on a named volume, and a config that
 * names only the container: no host path anywhere, storage, GC and restart all through docker.
 */
describe('rc clean on the seed walkthrough through the registry container (named volume, no host path)', SLOW, () => {
  let engine: DockerEngine;
  let registry: RegistryContainer;
  let seed: SeedImages;
  let workspace: Workspace;
  let before: ContainerState;
  let clean: { exitCode: number; stderr: string; report: CleanReportJson };

  beforeAll(async () => {
    engine = await ensureDockerEngine();
    await ensureRegistryImage(engine);
    registry = await startRegistryContainer(engine, { volume: true });
    seed = await pushSeedImages(registry.url);
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
    workspace.writeConfig({ storage: { backend: 'docker', container: registry.name } });
    before = await containerState(engine, registry.name);
  }, 240_000);

  afterAll(async () => {
    if (registry) await removeStandIns(engine, registry.name).catch(() => undefined);
    await removeAllRegistryContainers();
    workspace?.remove();
  }, 120_000);

  it('lists every repository and tag before cleaning, like the seed script', async () => {
    const result = await rcDocker(workspace, engine, 'ls');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`${registry.host} repositories:`);
    const lines = result.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim()).sort();
    expect(lines).toEqual(Object.entries(SEED_TAGS_BEFORE).flatMap(([repository, tags]) => tags.map((tag) => `${repository}:${tag}`)).sort());
  });

  it('deletes exactly the listed images, reports the absent one, prunes, collects garbage and restarts', async () => {
    clean = await cleanJson(workspace, engine);
    expect(clean.report.error?.message).toBeUndefined();
    expect(clean.exitCode).toBe(0);
    const { report } = clean;
    expect(statusOf(report, registry.host, 'library/busybox:1.36.1')).toBe('deleted');
    expect(statusOf(report, registry.host, 'registry:latest')).toBe('deleted');
    expect(statusOf(report, registry.host, 'demo/nginx:1.26')).toBe('deleted');
    expect(statusOf(report, registry.host, 'demo/nginx:noexist')).toBe('absent');
    expect(report.images.find((i) => i.image.endsWith('/demo/nginx:1.26'))?.keptTags).toEqual(['stable']);
    expect(report.summary).toMatchObject({ deleted: 3, absent: 1, failed: 0, 'not-reached': 0 });
    expect(report.pruned).toEqual([{ registry: registry.host, repository: 'registry', directoryRemoved: true }]);

    for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) {
      expect(await listTags(registry.url, repository)).toEqual([...tags].sort());
    }
    expect(await catalog(registry.url)).toEqual([...SEED_CATALOG_AFTER].sort());
    expect(await manifestDigest(registry.url, 'demo/nginx', 'stable')).toBe(seed.digests['demo/nginx:1.26']);
    // Pruned in the volume itself, not only hidden from the catalog.
    await expect(registry.exec(['test', '-e', `${V2_ROOT}/repositories/registry`])).rejects.toThrow();
  });

  it('collects garbage in the container while it is read-only, and reports storage shrinking', () => {
    const [gc] = clean.report.gc;
    expect(gc).toMatchObject({ registry: registry.host, status: 'collected', mode: 'readonly', cameBack: true, result: { ok: true } });
    expect(gc!.result!.blobsDeleted).toBeGreaterThan(0);
    const storage = gc!.storage!;
    expect(storage.before.bytes).toBeGreaterThan(0);
    expect(storage.after).toBeDefined();
    expect(storage.after!.bytes).toBeLessThan(storage.before.bytes);
    expect(storage.after!.files).toBeLessThan(storage.before.files);
    expect(clean.report.restart).toEqual([expect.objectContaining({ registry: registry.host, status: 'restarted' })]);
  });

  it('freed the deleted images\' own blobs from the volume and keeps the shared base layer', async () => {
    for (const blob of seed.images['registry:latest']!.blobs) expect(await blobDataStored(registry, blob.digest)).toBe(false);
    expect(await blobDataStored(registry, seed.images['library/busybox:1.36.1']!.layers[1]!.digest)).toBe(false);
    expect(await blobDataStored(registry, seed.sharedLayers.busybox.digest)).toBe(true);
  });

  it('leaves the same registry container running and no maintenance container behind', async () => {
    const after = await containerState(engine, registry.name);
    expect(after.id).toBe(before.id);
    expect(after.running).toBe(true);
    expect(await leftoverContainers(engine, registry)).toEqual([]);
  });

  it('every kept image pulls completely after the cleanup', async () => {
    for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) {
      for (const tag of tags) {
        const pulled = await pullImage(registry.url, repository, tag);
        expect(pulled.digest).toBe(seed.digests[`${repository}:${tag}`]);
      }
    }
  });

  it('lists what is left after cleaning', async () => {
    const result = await rcDocker(workspace, engine, 'ls');
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim()).sort();
    expect(lines).toEqual(['demo/nginx:latest', 'demo/nginx:stable', 'library/busybox:1.35.0']);
  });

  it('a re-push of a deleted image really uploads its layers and pulls completely', async () => {
    const image = seed.images['registry:latest']!;
    // A client skips blobs the registry says it has; after GC and the restart the registry must say no.
    for (const blob of image.blobs) expect(await blobHeadStatus(registry, 'registry', blob.digest)).toBe(404);
    const outcomes = await Promise.all(image.blobs.map((blob) => pushBlob(registry.url, 'registry', blob)));
    expect(outcomes).toEqual(image.blobs.map(() => 'uploaded'));
    await pushImage(registry.url, 'registry', 'latest', image);
    expect((await pullImage(registry.url, 'registry', 'latest')).digest).toBe(image.digest);

    // The one that lived beside a kept image: its own layer comes back too, the shared base is rightly still there.
    const busybox = seed.images['library/busybox:1.36.1']!;
    expect(await pushBlob(registry.url, 'library/busybox', busybox.layers[1]!)).toBe('uploaded');
    expect(await pushBlob(registry.url, 'library/busybox', busybox.layers[0]!)).toBe('exists');
    await pushImage(registry.url, 'library/busybox', '1.36.1', busybox);
    expect((await pullImage(registry.url, 'library/busybox', '1.36.1')).digest).toBe(busybox.digest);
  });
});
