import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, pushImage, pushManifest } from '../../testkit/images.js';
import { listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { repositoryDir } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

interface ReportImage {
  image: string;
  status: string;
  method?: string;
  reason?: string;
}

/**
 * Once its storage is proven to be the registry's own, rc reads tags and manifests from it
 * instead of asking per tag. It must come to the same decisions the registry's answers give:
 * a dry run (storage not yet proven, so every tag is asked for) plans what the real run does.
 */
describe('rc clean reading digests from proven storage', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let indexDigest: string;
  const children: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    // An OCI index without the optional mediaType field: only its `manifests` list says it is multi-arch.
    const amd64 = makeImage({ seed: 'bare/amd64', platform: 'linux/amd64', mediaType: 'oci' });
    const arm64 = makeImage({ seed: 'bare/arm64', platform: 'linux/arm64', mediaType: 'oci' });
    for (const child of [amd64, arm64]) {
      await pushImage(registry.url, 'bare/app', [], child);
      children.push(child.digest);
    }
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [amd64, arm64].map((image) => ({ mediaType: image.mediaType, size: image.bytes.length, digest: image.digest, platform: image.platform })),
      }),
    );
    indexDigest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await pushManifest(registry.url, 'bare/app', 'latest', { mediaType: 'application/vnd.oci.image.index.v1+json', bytes, digest: indexDigest } as never);
    await pushImage(registry.url, 'bare/app', 'amd64', amd64);
    await pushImage(registry.url, 'bare/app', 'old', makeImage({ seed: 'bare/old' }));
    // A tag whose manifest the repository no longer links (a revision link lost): the registry answers 404 for it.
    const ghost = makeImage({ seed: 'ghosts/ghost' });
    await pushImage(registry.url, 'ghosts', 'ghost', ghost);
    await pushImage(registry.url, 'ghosts', ['real', 'kept'], makeImage({ seed: 'ghosts/real' }));
    await pushImage(registry.url, 'ghosts', 'other', makeImage({ seed: 'ghosts/other' }));
    rmSync(path.join(repositoryDir(registry.storageRoot, 'ghosts'), '_manifests/revisions/sha256', ghost.digest.slice('sha256:'.length)), { recursive: true });

    workspace = createWorkspace();
    workspace.writeConfig(filesystemConfig(registry));
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  const plan = (report: { images: ReportImage[] }) => Object.fromEntries(report.images.map((i) => [i.image.split('/').slice(1).join('/'), `${i.status} ${i.method ?? ''}`.trim()]));

  it('recognises an index by its manifests list and keeps it whole when its platform tag is deleted', async () => {
    workspace.writeList([`${registry.host}/bare/app:amd64`, `${registry.host}/bare/app:old`], 'bare.txt');
    const dry = await workspace.rc('clean', '--file', 'bare.txt', '--json', '--dry-run');
    expect(dry.exitCode).toBe(0);
    const result = await workspace.rc('clean', '--file', 'bare.txt', '--json', '--no-gc');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(plan(report)).toEqual({ 'bare/app:amd64': 'deleted storage-tag-remove', 'bare/app:old': 'deleted manifest-delete' });
    // The dry run asked the registry for every tag and planned the same.
    expect(plan(JSON.parse(dry.stdout))).toEqual({ 'bare/app:amd64': 'would-delete storage-tag-remove', 'bare/app:old': 'would-delete manifest-delete' });
    expect((await listTags(registry.url, 'bare/app'))?.sort()).toEqual(['latest']);
    const pulled = await pullImage(registry.url, 'bare/app', 'latest');
    expect(pulled.digest).toBe(indexDigest);
    expect(pulled.children?.map((c) => c.digest).sort()).toEqual([...children].sort());
  });

  it('refuses a platform image of an index without mediaType when it is listed by digest', async () => {
    workspace.writeList([`${registry.host}/bare/app@${children[1]}`], 'child.txt');
    const result = await workspace.rc('clean', '--file', 'child.txt', '--json', '--no-gc');
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout).images[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/multi-arch index latest/) });
    expect(await manifestDigest(registry.url, 'bare/app', children[1]!)).toBe(children[1]);
  });

  it('treats a tag whose manifest the registry cannot serve like the registry does, and deletes the rest', async () => {
    workspace.writeList([`${registry.host}/ghosts:ghost`, `${registry.host}/ghosts:real`], 'ghosts.txt');
    const dry = await workspace.rc('clean', '--file', 'ghosts.txt', '--json', '--dry-run');
    expect(dry.exitCode).toBe(0);
    const result = await workspace.rc('clean', '--file', 'ghosts.txt', '--json', '--no-gc');
    const report = JSON.parse(result.stdout);
    expect(plan(report)['ghosts:ghost']).toBe(plan(JSON.parse(dry.stdout))['ghosts:ghost']);
    expect(report.images[0]).toMatchObject({ status: 'absent', reason: expect.stringMatching(/names no manifest the registry can serve/) });
    // real shares its digest with kept, which is not listed: only the one tag goes.
    expect(plan(report)['ghosts:real']).toBe('deleted storage-tag-remove');
    expect(result.exitCode).toBe(0);
    expect((await listTags(registry.url, 'ghosts'))?.sort()).toEqual(['ghost', 'kept', 'other']);
    expect(existsSync(path.join(repositoryDir(registry.storageRoot, 'ghosts'), '_manifests/tags/ghost'))).toBe(true);
  });
});
