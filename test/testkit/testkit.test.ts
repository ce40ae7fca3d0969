import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MediaType,
  PullError,
  type RegistryServer,
  SEED_CATALOG_AFTER,
  SEED_LISTING_AFTER,
  SEED_TAGS_BEFORE,
  bcryptHash,
  catalog,
  fillRegistry,
  listTags,
  makeImage,
  makeLayer,
  manifestDigest,
  pullImage,
  pushImage,
  pushIndex,
  pushSeedImages,
  seedCleanupList,
  startRegistry,
  stopAllRegistries,
  tagDigest,
} from '../../testkit/index.js';
import { call } from '../../testkit/http.js';

// Real registries and real clients: generous limits for a loaded 2-core machine, no timing assertions.
const SLOW = { timeout: 60_000 };

afterAll(stopAllRegistries);

const blobPath = (server: RegistryServer, digest: string): string => {
  const hex = digest.slice('sha256:'.length);
  return join(server.storageRoot, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
};

describe('startRegistry', SLOW, () => {
  it('serves /v2/ on a loopback port and leaves nothing behind when stopped', async () => {
    const server = await startRegistry();
    expect(server.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await call(`${server.url}/v2/`)).status).toBe(200);
    expect(readFileSync(server.configPath, 'utf8')).toContain(server.storageRoot);
    const supervisorPid = Number(readFileSync(join(server.stateDir, 'supervisor.pid'), 'utf8'));
    const registryPid = Number(readFileSync(join(server.stateDir, 'registry.pid'), 'utf8'));

    await server.stop();

    await expect(call(`${server.url}/v2/`)).rejects.toThrow();
    expect(existsSync(server.stateDir)).toBe(false);
    for (const pid of [supervisorPid, registryPid]) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('fails with the registry log when the registry cannot start', async () => {
    await expect(startRegistry({ binary: 'no-such-registry-binary' })).rejects.toThrow(/cannot start no-such-registry-binary/);
  });

  it('keeps a given storage directory, so a second registry sees the first one’s images', async () => {
    const storageDir = mkdtempSync(join(tmpdir(), 'rc-storage-'));
    try {
      const first = await startRegistry({ storageDir });
      const digest = await pushImage(first.url, 'keep/me', 'v1', makeImage({ seed: 'kept' }));
      await first.stop();
      const second = await startRegistry({ storageDir });
      expect((await pullImage(second.url, 'keep/me', 'v1')).digest).toBe(digest);
      await second.stop();
    } finally {
      rmSync(storageDir, { recursive: true, force: true });
    }
  });
});

describe('pushing and pulling', SLOW, () => {
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startRegistry();
  });

  it('pushes an image whose every blob pulls back and verifies', async () => {
    const image = makeImage({ seed: 'push-pull', layers: 3, layerSize: 4096 });
    const digest = await pushImage(server.url, 'team/app', ['1.0', 'latest'], image);

    const pulled = await pullImage(server.url, 'team/app', '1.0');
    expect(pulled).toEqual({ digest, mediaType: MediaType.dockerManifest, blobs: image.blobs.map((b) => b.digest) });
    expect(await manifestDigest(server.url, 'team/app', 'latest')).toBe(digest);
    expect(await manifestDigest(server.url, 'team/app', 'nope')).toBeNull();
    expect(await listTags(server.url, 'team/app')).toEqual(['1.0', 'latest']);
    expect(await listTags(server.url, 'team/none')).toBeNull();
    expect(await catalog(server.url)).toContain('team/app');
  });

  it('builds layers whose config diff_ids are the uncompressed tar digests', () => {
    const image = makeImage({ seed: 'diff-ids', layers: 2, mediaType: 'oci', platform: 'linux/arm64/v8' });
    const config = JSON.parse(image.config.data.toString()) as { architecture: string; variant: string; rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(image.layers.map((l) => l.diffId));
    expect(image.layers.every((l) => l.diffId !== l.digest)).toBe(true);
    expect([config.architecture, config.variant]).toEqual(['arm64', 'v8']);
    expect(makeImage({ seed: 'diff-ids', layers: 2, mediaType: 'oci', platform: 'linux/arm64/v8' }).digest).toBe(image.digest);
  });

  it('names the missing blob when storage lost a layer', async () => {
    const image = makeImage({ seed: 'lose-a-layer', layers: 2 });
    await pushImage(server.url, 'broken/missing', 'v1', image);
    const lost = image.layers[1]!.digest;
    rmSync(blobPath(server, lost));

    const failure = await pullImage(server.url, 'broken/missing', 'v1').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PullError);
    expect(failure).toMatchObject({ problem: 'blob-missing', digest: lost });
  });

  it('names the corrupt blob when a layer’s bytes changed', async () => {
    const image = makeImage({ seed: 'corrupt-a-layer', layers: 1 });
    await pushImage(server.url, 'broken/corrupt', 'v1', image);
    const layer = image.layers[0]!;
    writeFileSync(blobPath(server, layer.digest), Buffer.alloc(layer.data.length, 0x41));

    await expect(pullImage(server.url, 'broken/corrupt', 'v1')).rejects.toMatchObject({ problem: 'blob-corrupt', digest: layer.digest });
  });

  it.each(['docker', 'oci'] as const)('pushes a %s index whose children each pull', async (flavor) => {
    const images = ['linux/amd64', 'linux/arm64/v8'].map((platform) => makeImage({ seed: `index-${flavor}-${platform}`, platform, mediaType: flavor }));
    const digest = await pushIndex(server.url, `multi/${flavor}`, ['v1'], images, flavor);

    const pulled = await pullImage(server.url, `multi/${flavor}`, 'v1');
    expect(pulled.digest).toBe(digest);
    expect(pulled.mediaType).toBe(flavor === 'docker' ? MediaType.dockerManifestList : MediaType.ociIndex);
    expect(pulled.children?.map((c) => c.digest)).toEqual(images.map((i) => i.digest));
    for (const image of images) expect((await pullImage(server.url, `multi/${flavor}`, image.digest)).blobs).toHaveLength(2);
    // Children are pushed by digest only, as buildx leaves them.
    expect(await listTags(server.url, `multi/${flavor}`)).toEqual(['v1']);
  });

  it('makes two tags share one digest', async () => {
    const digest = await pushImage(server.url, 'shared/tags', '1.26', makeImage({ seed: 'shared-digest' }));
    await tagDigest(server.url, 'shared/tags', 'stable', digest);
    expect(await manifestDigest(server.url, 'shared/tags', 'stable')).toBe(digest);
    expect(await listTags(server.url, 'shared/tags')).toEqual(['1.26', 'stable']);
  });

  it('shares a layer between images by sharing its bytes, and mounts it across repositories', async () => {
    const base = makeLayer('shared-base', 2048);
    const a = makeImage({ seed: 'uses-base-a', layers: [base, makeLayer('a-top')] });
    const b = makeImage({ seed: 'uses-base-b', layers: [base.data, makeLayer('b-top')] });
    expect(b.layers[0]!.digest).toBe(base.digest);
    await pushImage(server.url, 'base/a', 'v1', a);
    await pushImage(server.url, 'base/b', 'v1', b, { mountFrom: 'base/a' });
    expect((await pullImage(server.url, 'base/b', 'v1')).blobs).toContain(base.digest);
  });

  it('fills many repositories concurrently', async () => {
    const filled = await fillRegistry(server.url, { repositories: 3, tagsPerRepository: 4, concurrency: 4, repositoryName: (i) => `fill/r${i}` });
    expect(filled.images).toHaveLength(12);
    expect(new Set(filled.images.map((i) => i.digest)).size).toBe(12);
    for (const repository of filled.repositories) {
      expect(await listTags(server.url, repository)).toEqual(['tag-000', 'tag-001', 'tag-002', 'tag-003']);
      const hex = filled.baseLayer!.digest.slice('sha256:'.length);
      expect(existsSync(join(server.storageRoot, 'docker/registry/v2/repositories', repository, '_layers/sha256', hex, 'link'))).toBe(true);
    }
    const last = filled.images.at(-1)!;
    expect((await pullImage(server.url, last.repository, last.tag)).digest).toBe(last.digest);
  });
});

describe('the seed walkthrough', SLOW, () => {
  it('pushes the walkthrough’s images with stable on 1.26’s digest', async () => {
    const server = await startRegistry();
    const seed = await pushSeedImages(server.url);

    expect(await catalog(server.url, { pageSize: 1 })).toEqual(Object.keys(SEED_TAGS_BEFORE).sort());
    for (const [repository, tags] of Object.entries(SEED_TAGS_BEFORE)) {
      expect(await listTags(server.url, repository)).toEqual(tags);
      for (const tag of tags) expect((await pullImage(server.url, repository, tag)).digest).toBe(seed.digests[`${repository}:${tag}`]);
    }
    expect(seed.digests['demo/nginx:stable']).toBe(seed.digests['demo/nginx:1.26']);
    const busyboxLayers = ['1.36.1', '1.35.0'].map((tag) => seed.images[`library/busybox:${tag}`]!.layers[0]!.digest);
    expect(busyboxLayers).toEqual([seed.sharedLayers.busybox.digest, seed.sharedLayers.busybox.digest]);

    expect(seedCleanupList(server.host).trim().split('\n')).toEqual([
      `${server.host}/library/busybox:1.36.1`,
      `${server.host}/registry:latest`,
      `${server.host}/demo/nginx:1.26`,
      `${server.host}/demo/nginx:noexist`,
    ]);
    expect(SEED_LISTING_AFTER).toBe('demo/nginx:latest\ndemo/nginx:stable\nlibrary/busybox:1.35.0\n');
    expect(SEED_CATALOG_AFTER).toEqual(['demo/nginx', 'library/busybox']);
    await server.stop();
  });
});

describe('restart, stop and start commands', SLOW, () => {
  it('restarts the registry process on the same port, keeping its data', async () => {
    const server = await startRegistry();
    const digest = await pushImage(server.url, 'survives/restart', 'v1', makeImage({ seed: 'restart' }));
    const pidBefore = readFileSync(join(server.stateDir, 'registry.pid'), 'utf8');
    expect(server.restartCount()).toBe(0);

    const [command, ...args] = server.restartCommand;
    await execa(command!, args);
    await server.waitUntilReady();

    expect(server.restartCount()).toBe(1);
    expect(readFileSync(join(server.stateDir, 'registry.pid'), 'utf8')).not.toBe(pidBefore);
    expect((await pullImage(server.url, 'survives/restart', 'v1')).digest).toBe(digest);
    await server.stop();
  });

  it('stops the registry until the start command runs', async () => {
    const server = await startRegistry();
    const [stop, ...stopArgs] = server.stopCommand;
    await execa(stop!, stopArgs);
    await expect(call(`${server.url}/v2/`)).rejects.toThrow();

    const [start, ...startArgs] = server.startCommand;
    await execa(start!, startArgs);
    await server.waitUntilReady();
    expect(server.restartCount()).toBe(1);
    await server.stop();
  });

  it('garbage-collects the same storage through configPath, and a restart clears the stale blob cache', async () => {
    const server = await startRegistry();
    const kept = makeImage({ seed: 'gc-kept', layers: [makeLayer('gc-shared'), makeLayer('gc-kept-top')] });
    const dropped = makeImage({ seed: 'gc-dropped', layers: [makeLayer('gc-shared'), makeLayer('gc-dropped-top')] });
    await pushImage(server.url, 'gc/kept', 'v1', kept);
    const droppedDigest = await pushImage(server.url, 'gc/dropped', 'v1', dropped);
    expect((await call(`${server.url}/v2/gc/dropped/manifests/${droppedDigest}`, { method: 'DELETE' })).status).toBe(202);

    await execa('docker-registry', ['garbage-collect', server.configPath]);
    const uniqueLayer = `${server.url}/v2/gc/dropped/blobs/${dropped.layers[1]!.digest}`;
    expect(existsSync(blobPath(server, dropped.layers[1]!.digest))).toBe(false);
    // The in-memory blob descriptor cache still claims the swept blob until the registry restarts.
    expect((await call(uniqueLayer, { method: 'HEAD' })).status).toBe(200);
    await server.restart();
    expect((await call(uniqueLayer, { method: 'HEAD' })).status).toBe(404);
    expect((await pullImage(server.url, 'gc/kept', 'v1')).blobs).toContain(kept.layers[0]!.digest);
    await server.stop();
  });

  it('restarts read-only on reconfigure, refusing uploads', async () => {
    const server = await startRegistry();
    await server.reconfigure({ readonly: true });
    expect((await call(`${server.url}/v2/ro/app/blobs/uploads/`, { method: 'POST' })).status).toBe(405);
    await server.stop();
  });
});

describe('basic auth', SLOW, () => {
  const credentials = { username: 'cleaner', password: 'pa55:word ü' };

  it('hashes passwords exactly as crypt(3) bcrypt does', () => {
    // OpenBSD's published vector; matches glibc/libxcrypt and Go's x/crypto/bcrypt.
    expect(bcryptHash('U*U', { cost: 5, salt: 'CCCCCCCCCCCCCCCCCCCCC.', prefix: '2a' })).toBe('$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
  });

  it('serves only requests with the htpasswd credentials', async () => {
    const server = await startRegistry({ htpasswd: credentials });
    expect((await call(`${server.url}/v2/`)).status).toBe(401);
    expect((await call(`${server.url}/v2/`, { credentials: { ...credentials, password: 'wrong' } })).status).toBe(401);

    const digest = await pushImage(server.url, 'private/app', 'v1', makeImage({ seed: 'auth' }), { credentials });
    expect((await pullImage(server.url, 'private/app', 'v1', { credentials })).digest).toBe(digest);
    await expect(pullImage(server.url, 'private/app', 'v1')).rejects.toThrow(/401/);
    await server.stop();
  });
});

describe('a real client accepts the images', SLOW, () => {
  let server: RegistryServer;
  let scratch: string;
  beforeAll(async () => {
    server = await startRegistry({ htpasswd: { username: 'u', password: 'p' } });
    scratch = mkdtempSync(join(tmpdir(), 'rc-skopeo-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const creds = ['--creds', 'u:p'];

  it('skopeo inspects a pushed image and copies it to an OCI layout', async () => {
    const image = makeImage({ seed: 'skopeo', layers: 2 });
    const digest = await pushImage(server.url, 'real/client', 'v1', image, { credentials: server.credentials! });

    const { stdout } = await execa('skopeo', ['inspect', '--tls-verify=false', ...creds, `docker://${server.host}/real/client:v1`]);
    const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[]; Architecture: string };
    expect(inspected).toMatchObject({ Digest: digest, Layers: image.layers.map((l) => l.digest), Architecture: 'amd64' });

    await execa('skopeo', ['copy', '--src-tls-verify=false', '--src-creds', 'u:p', `docker://${server.host}/real/client:v1`, `oci:${join(scratch, 'layout')}:v1`]);
    const index = JSON.parse(readFileSync(join(scratch, 'layout/index.json'), 'utf8')) as { manifests: unknown[] };
    expect(index.manifests).toHaveLength(1);
  });

  it('skopeo copies a multi-platform index unchanged', async () => {
    const images = ['linux/amd64', 'linux/arm64/v8'].map((platform) => makeImage({ seed: `skopeo-${platform}`, platform, mediaType: 'oci' }));
    const digest = await pushIndex(server.url, 'real/multi', ['v1'], images, 'oci', { credentials: server.credentials! });

    await execa('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', 'u:p', '--dest-creds', 'u:p', `docker://${server.host}/real/multi:v1`, `docker://${server.host}/real/copy:v1`]);
    const copied = await pullImage(server.url, 'real/copy', 'v1', { credentials: server.credentials! });
    expect(copied.digest).toBe(digest);
    expect(copied.children).toHaveLength(2);
  });
});
