import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages, seedCleanupList, type SeedImages } from '../../testkit/seed-images.js';
import { RegistryClient } from '../../src/registry/client.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

describe('rc ls', () => {
  let full: RegistryServer;
  let empty: RegistryServer;
  let seed: SeedImages;
  let workspace: Workspace;

  beforeAll(async () => {
    [full, empty] = await Promise.all([startRegistry(), startRegistry()]);
    seed = await pushSeedImages(full.url);
    workspace = createWorkspace();
  });
  afterAll(async () => {
    await Promise.all([full?.stop(), empty?.stop()]);
    workspace?.remove();
  });

  it('lists the registries named in the image list when none are given or configured', async () => {
    workspace.writeList([...seedCleanupList(full.host).trim().split('\n'), `${empty.host}/x:1`]);
    const result = await workspace.rc('ls');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`${full.host} repositories:\n  demo/nginx:1.26\n`);
    expect(result.stdout).toContain(`${empty.host}: empty registry (no repositories)`);
  });

  it('shows each tag\'s digest with --digests, resolved with every manifest type', async () => {
    const result = await workspace.rc('ls', '--registry', full.host, '--digests');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`  demo/nginx:stable  ${seed.digests['demo/nginx:stable']}\n`);
    expect(result.stdout).toContain(`  registry:latest  ${seed.digests['registry:latest']}\n`);
  });

  it('prints one JSON document with every registry, repository, tag and digest', async () => {
    const result = await workspace.rc('ls', '--registry', full.host, '--registry', empty.host, '--digests', '--json');
    expect(result.exitCode).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.registries).toHaveLength(2);
    const [first, second] = document.registries;
    expect(second).toMatchObject({ registry: empty.host, repositories: [] });
    expect(first.repositories.map((r: { name: string }) => r.name)).toEqual(['demo/nginx', 'library/busybox', 'registry']);
    const nginx = first.repositories[0];
    expect(nginx.tags).toContainEqual({
      tag: 'stable',
      digest: seed.digests['demo/nginx:stable'],
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
  });

  it('says which repositories have no tags left', async () => {
    const digest = await pushImage(full.url, 'lonely', 'only', makeImage({ seed: 'lonely' }));
    await fetch(`${full.url}/v2/lonely/manifests/${digest}`, { method: 'DELETE' });
    const result = await workspace.rc('ls', '--registry', full.host);
    expect(result.stdout).toContain('  lonely (no tags)\n');
  });

  it('follows catalog pagination to the last page', async () => {
    for (const name of ['page/a', 'page/b', 'page/c', 'page/d', 'page/e']) await pushImage(empty.url, name, '1', makeImage({ seed: name }));
    const client = new RegistryClient({ host: empty.host, url: new URL(empty.url) }, { connections: 2 });
    const pages: string[][] = [];
    for await (const page of client.catalogPages(2)) pages.push(page);
    await client.close();
    expect(pages.flat()).toEqual(['page/a', 'page/b', 'page/c', 'page/d', 'page/e']);
    expect(pages.length).toBeGreaterThanOrEqual(3);
  });

  it('exits 2 with a hint when there is nothing to list', async () => {
    const bare = createWorkspace();
    try {
      const result = await bare.rc('ls');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('no registries to work on');
      expect(result.stderr).toContain('--registry');
    } finally {
      bare.remove();
    }
  });
});
