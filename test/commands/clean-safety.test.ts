import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, makeLayer, pushImage, pushIndex, tagDigest } from '../../testkit/images.js';
import { catalog, listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { blobStored, repositoryDir } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

/**
 * The traps every existing cleaner falls into, each against a real registry: multi-arch
 * images, nested repositories, digest references, shared digests.
 */
describe('rc clean keeps what was not asked for', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  const digests: Record<string, string> = {};
  const platformDigests: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    const url = registry.url;
    const base = makeLayer('safety/base', 4096);
    // A multi-arch image (OCI index) with a platform child also tagged on its own, and a plain old tag.
    const amd64 = makeImage({ seed: 'multi/amd64', layers: [base, makeLayer('multi/amd64-app')], platform: 'linux/amd64', mediaType: 'oci' });
    const arm64 = makeImage({ seed: 'multi/arm64', layers: [makeLayer('multi/arm64-app')], platform: 'linux/arm64', mediaType: 'oci' });
    digests['multi:latest'] = await pushIndex(url, 'multi/app', ['latest', 'v2'], [amd64, arm64], 'oci');
    platformDigests.push(amd64.digest, arm64.digest);
    await tagDigest(url, 'multi/app', 'v2-amd64', amd64.digest);
    digests['multi:old'] = await pushImage(url, 'multi/app', 'old', makeImage({ seed: 'multi/old', layers: [base, makeLayer('multi/old-app')] }));
    // A Docker manifest list whose every tag is listed: it goes, its platform images stay stored until GC.
    const listChild = makeImage({ seed: 'list/amd64' });
    digests['list:1'] = await pushIndex(url, 'list/app', ['1'], [listChild, makeImage({ seed: 'list/arm64', platform: 'linux/arm64' })], 'docker');
    await pushImage(url, 'list/app', '2', makeImage({ seed: 'list/two' }));
    // Nested repositories: team, team/app.
    digests['team:1'] = await pushImage(url, 'team', '1', makeImage({ seed: 'team/1' }));
    digests['team/app:1'] = await pushImage(url, 'team/app', '1', makeImage({ seed: 'team/app/1' }));
    // Two tags on one digest, both listed: a single DELETE by digest.
    digests['pair:a'] = await pushImage(url, 'pair', ['a', 'b'], makeImage({ seed: 'pair' }));
    await pushImage(url, 'pair', 'keep', makeImage({ seed: 'pair/keep' }));
    // A manifest listed by digest, carrying two tags.
    digests['bydigest:x'] = await pushImage(url, 'bydigest', ['x', 'y'], makeImage({ seed: 'bydigest' }));
    await pushImage(url, 'bydigest', 'z', makeImage({ seed: 'bydigest/z' }));

    workspace = createWorkspace();
    workspace.writeConfig(filesystemConfig(registry));
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('refuses to delete a platform image of a kept multi-arch index by digest, and changes nothing for it', async () => {
    workspace.writeList([`${registry.host}/multi/app@${platformDigests[1]}`], 'child.txt');
    const result = await workspace.rc('clean', '--file', 'child.txt', '--json');
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.images[0].status).toBe('failed');
    expect(report.images[0].reason).toMatch(/platform image of the multi-arch index latest, v2/);
    expect(await manifestDigest(registry.url, 'multi/app', platformDigests[1]!)).toBe(platformDigests[1]);
  });

  it('deleting a platform tag and another image leaves the multi-arch index whole', async () => {
    workspace.writeList([`${registry.host}/multi/app:v2-amd64`, `${registry.host}/multi/app:old`], 'multi.txt');
    const result = await workspace.rc('clean', '--file', 'multi.txt', '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    const byImage = Object.fromEntries(report.images.map((i: { image: string }) => [i.image.split('/').pop(), i]));
    expect(byImage['app:v2-amd64']).toMatchObject({ status: 'deleted', method: 'storage-tag-remove' });
    expect(byImage['app:old']).toMatchObject({ status: 'deleted', method: 'manifest-delete' });
    expect(report.gc[0].status).toBe('collected');
    expect((await listTags(registry.url, 'multi/app'))?.sort()).toEqual(['latest', 'v2']);
    const pulled = await pullImage(registry.url, 'multi/app', 'latest');
    expect(pulled.digest).toBe(digests['multi:latest']);
    expect(pulled.children?.map((c) => c.digest).sort()).toEqual([...platformDigests].sort());
  });

  it('deletes a manifest list whose every tag is listed with one request, and other tags of the repository stay', async () => {
    workspace.writeList([`${registry.host}/list/app:1`], 'list.txt');
    const result = await workspace.rc('clean', '--file', 'list.txt', '--json', '--no-gc');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).images[0]).toMatchObject({ status: 'deleted', method: 'manifest-delete', digest: digests['list:1'] });
    expect(await listTags(registry.url, 'list/app')).toEqual(['2']);
    await pullImage(registry.url, 'list/app', '2');
  });

  it('prunes an emptied repository from the catalog while the repository nested in it survives', async () => {
    workspace.writeList([`${registry.host}/team:1`], 'team.txt');
    const result = await workspace.rc('clean', '--file', 'team.txt');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/pruned\s+\S+\/team \(directory kept: it holds app\)/);
    const repositories = await catalog(registry.url);
    expect(repositories).not.toContain('team');
    expect(repositories).toContain('team/app');
    expect(existsSync(repositoryDir(registry.storageRoot, 'team/app/_manifests'))).toBe(true);
    expect((await pullImage(registry.url, 'team/app', '1')).digest).toBe(digests['team/app:1']);
  });

  it('deletes two tags that share a digest with a single DELETE when both are listed', async () => {
    workspace.writeList([`${registry.host}/pair:a`, `${registry.host}/pair:b`], 'pair.txt');
    const result = await workspace.rc('clean', '--file', 'pair.txt', '--json', '--no-gc');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.images.map((i: { method: string }) => i.method)).toEqual(['manifest-delete', 'manifest-delete']);
    expect(await listTags(registry.url, 'pair')).toEqual(['keep']);
    expect(await manifestDigest(registry.url, 'pair', digests['pair:a']!)).toBeNull();
  });

  it('deletes a manifest listed by digest and says which tags went with it', async () => {
    workspace.writeList([`${registry.host}/bydigest@${digests['bydigest:x']}`], 'digest.txt');
    const result = await workspace.rc('clean', '--file', 'digest.txt', '--no-gc');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/deleted\s+\S+bydigest@sha256:\S+ .*tags gone with it: x, y/);
    expect(await listTags(registry.url, 'bydigest')).toEqual(['z']);
  });

  it('frees the blobs only the deleted images used, and keeps every blob a kept image uses', async () => {
    // GC ran in the multi-arch test; the old image's own layer is gone, the shared base stays.
    const oldOnly = makeLayer('multi/old-app');
    expect(blobStored(registry.storageRoot, oldOnly.digest)).toBe(false);
    expect(blobStored(registry.storageRoot, makeLayer('safety/base', 4096).digest)).toBe(true);
  });
});
