import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../testkit/fault-proxy/fault-proxy.js';
import { makeImage, pushImage } from '../../testkit/images.js';
import { listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { escape, parseReport } from '../resilience/support.js';
import { repositoryDir } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

/**
 * With the storage configured, rc moves the tags of each manifest it deletes by digest out of
 * the repository just before the DELETE (the registry then has fewer tags to read). What a user
 * must see: nothing of it left in storage, and no tag lost where its manifest was not deleted.
 */
describe('rc clean: tags set aside while their manifests are deleted', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let proxy: FaultProxy | undefined;

  const setAsideDir = () => path.join(registry.storageRoot, 'docker/registry/v2/rc-tags-set-aside');

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('leaves nothing set aside in storage, deletes exactly the listed tags and keeps their siblings', async () => {
    const old = await pushImage(registry.url, 'aside/web', ['old', 'old-alias'], makeImage({ seed: 'aside/web:old', layers: 2 }));
    await pushImage(registry.url, 'aside/web', 'current', makeImage({ seed: 'aside/web:current' }));
    const shared = await pushImage(registry.url, 'aside/api', ['1.0', 'stable'], makeImage({ seed: 'aside/api:1.0' }));
    workspace.writeConfig(filesystemConfig(registry));
    workspace.writeList([`${registry.host}/aside/web:old`, `${registry.host}/aside/web:old-alias`, `${registry.host}/aside/api:1.0`]);

    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseReport(result).summary).toMatchObject({ deleted: 3, failed: 0, absent: 0 });
    expect(await listTags(registry.url, 'aside/web')).toEqual(['current']);
    expect(await manifestDigest(registry.url, 'aside/web', old)).toBeNull();
    expect(await listTags(registry.url, 'aside/api')).toEqual(['stable']);
    expect((await pullImage(registry.url, 'aside/api', 'stable')).digest).toBe(shared);
    expect(existsSync(setAsideDir()), 'rc-tags-set-aside left in storage').toBe(false);
    expect(readdirSync(path.join(registry.storageRoot, 'docker/registry/v2')).sort()).toEqual(['blobs', 'repositories']);
  });

  it('puts the tags back where their DELETE failed: the image still pulls by every tag and is reported failed', async () => {
    const failing = await pushImage(registry.url, 'refused/app', ['v1', 'v1-alias'], makeImage({ seed: 'refused/app:v1', layers: 2 }));
    await pushImage(registry.url, 'refused/app', 'v2', makeImage({ seed: 'refused/app:v2' }));
    const deletable = await pushImage(registry.url, 'refused/app', 'v0', makeImage({ seed: 'refused/app:v0' }));
    proxy = await startFaultProxy(registry.url, {
      rules: [{ name: 'refused', method: 'DELETE', path: new RegExp(`/manifests/${escape(failing)}$`), fault: { type: 'status', status: 500 } }],
    });
    workspace.writeConfig({ ...filesystemConfig(registry), registries: { [proxy.host]: { retries: 1 } } });
    workspace.writeList([`${proxy.host}/refused/app:v1`, `${proxy.host}/refused/app:v1-alias`, `${proxy.host}/refused/app:v0`]);

    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).not.toBe(0);
    expect(proxy.requests({ rule: 'refused' }).length).toBeGreaterThan(0);
    const report = parseReport(result);
    expect(report.images.filter((i) => i.status === 'failed').map((i) => i.image.split('/').pop()).sort()).toEqual(['app:v1', 'app:v1-alias']);
    expect(report.images.find((i) => i.image.endsWith('app:v0'))?.status).toBe('deleted');

    expect((await listTags(registry.url, 'refused/app'))?.sort()).toEqual(['v1', 'v1-alias', 'v2']);
    for (const tag of ['v1', 'v1-alias']) expect((await pullImage(registry.url, 'refused/app', tag)).digest).toBe(failing);
    expect(await manifestDigest(registry.url, 'refused/app', deletable)).toBeNull();
    expect(existsSync(setAsideDir()), 'rc-tags-set-aside left in storage').toBe(false);
  });

  it('puts back what killed runs left set aside where the manifest is still there, drops the tags of deleted manifests, and leaves a live run alone', async () => {
    const kept = await pushImage(registry.url, 'killed/app', 'a', makeImage({ seed: 'killed/app:a' }));
    const deleted = await pushImage(registry.url, 'killed/app', 'b', makeImage({ seed: 'killed/app:b' }));
    await pushImage(registry.url, 'killed/app', 'c', makeImage({ seed: 'killed/app:c' }));
    await pushImage(registry.url, 'killed/other', 'x', makeImage({ seed: 'killed/other:x' }));
    // A run of this machine killed a minute ago (its process is gone; no pid is that high): `a` moved aside before its DELETE.
    const quit = path.join(setAsideDir(), `${Date.now() - 60_000}-${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${2 ** 23}`);
    // A run of another machine killed an hour ago: `b` moved aside, and its manifest deleted.
    const old = path.join(setAsideDir(), `${Date.now() - 3_600_000}-build-host-4242`);
    // A run of another machine started a minute ago, perhaps still going: its tag must not be touched.
    const live = path.join(setAsideDir(), `${Date.now() - 60_000}-build-host-4343`);
    for (const dir of [quit, old, live]) mkdirSync(dir, { recursive: true });
    const tagDir = (repository: string, tag: string) => path.join(repositoryDir(registry.storageRoot, repository), '_manifests/tags', tag);
    renameSync(tagDir('killed/app', 'a'), path.join(quit, 'killed%2Fapp%3Aa'));
    renameSync(tagDir('killed/app', 'b'), path.join(old, 'killed%2Fapp%3Ab'));
    expect((await fetch(`${registry.url}/v2/killed/app/manifests/${deleted}`, { method: 'DELETE' })).status).toBe(202);
    renameSync(tagDir('killed/other', 'x'), path.join(live, 'killed%2Fother%3Ax'));
    expect(await listTags(registry.url, 'killed/app')).toEqual(['c']);

    workspace.writeConfig(filesystemConfig(registry));
    workspace.writeList([`${registry.host}/killed/app:c`]);
    const result = await workspace.rc('clean', '--no-gc');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`an interrupted run (docker/registry/v2/rc-tags-set-aside/${path.basename(quit)}) had set tags aside for deletion: 1 put back, 0 dropped`);
    expect(result.stderr).toContain(`an interrupted run (docker/registry/v2/rc-tags-set-aside/${path.basename(old)}) had set tags aside for deletion: 0 put back, 1 dropped`);

    expect(await listTags(registry.url, 'killed/app')).toEqual(['a']);
    expect((await pullImage(registry.url, 'killed/app', 'a')).digest).toBe(kept);
    expect(existsSync(quit) || existsSync(old)).toBe(false);
    expect(readdirSync(live)).toEqual(['killed%2Fother%3Ax']);
    renameSync(path.join(live, 'killed%2Fother%3Ax'), tagDir('killed/other', 'x'));
    expect(await listTags(registry.url, 'killed/other')).toEqual(['x']);
  });
});
