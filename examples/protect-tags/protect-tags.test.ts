import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { snapshotStorage } from '../../test/support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../../test/support/workspace.js';
import { compile } from './index.js';

const pluginFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.ts');

interface ReportedImage {
  image: string;
  status: string;
  method?: string;
  reason?: string;
  keptTags?: string[];
}

describe('the protect-tags example plugin', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let release: string;
  let digestOnly: string;

  const image = (reference: string) => `${registry.host}/${reference}`;
  const byImage = (stdout: string) => new Map((JSON.parse(stdout).images as ReportedImage[]).map((i) => [i.image, i]));

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
    // release-1 and build-17 are one image; build-18 another.
    release = await pushImage(registry.url, 'prot/app', ['release-1', 'build-17'], makeImage({ seed: 'prot/app/17' }));
    await pushImage(registry.url, 'prot/app', ['build-18'], makeImage({ seed: 'prot/app/18' }));
    digestOnly = await pushImage(registry.url, 'prot/pinned', ['v3', 'tmp'], makeImage({ seed: 'prot/pinned/v3' }));
    const specifier = path.relative(workspace.dir, pluginFile);
    workspace.writeConfig({ ...filesystemConfig(registry), plugins: [[specifier, { patterns: ['release-*', '/^v\\d+$/'] }]] });
    workspace.writeList([image('prot/app:release-1'), image('prot/app:build-17'), image('prot/app:build-18')]);
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('a dry run shows protected images as kept by the rule, the sibling tag as removed on its own, and changes nothing', async () => {
    const before = snapshotStorage(registry.storageRoot);

    const text = await workspace.rc('clean', '--dry-run');
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/skipped.*prot\/app:release-1/);
    expect(text.stdout).toContain('1 kept by a rule');

    const json = await workspace.rc('clean', '--dry-run', '--json');
    expect(json.exitCode).toBe(0);
    const images = byImage(json.stdout);
    expect(images.get(image('prot/app:release-1'))).toMatchObject({ status: 'skipped', reason: expect.stringContaining('pattern release-*') });
    expect(images.get(image('prot/app:build-17'))).toMatchObject({ status: 'would-delete', keptTags: ['release-1'] });
    expect(images.get(image('prot/app:build-17'))?.method).not.toBe('manifest-delete');
    expect(images.get(image('prot/app:build-18'))).toMatchObject({ status: 'would-delete', method: 'manifest-delete' });
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });

  it('keeps a listed protected tag (it still pulls) and removes the listed tag on the same digest on its own, exiting 0', async () => {
    const result = await workspace.rc('clean', '--json');

    expect(result.exitCode, result.stdout).toBe(0);
    const images = byImage(result.stdout);
    expect(images.get(image('prot/app:release-1'))).toMatchObject({ status: 'skipped', reason: 'tag release-1 is protected by pattern release-* (protect-tags)' });
    const sibling = images.get(image('prot/app:build-17'));
    expect(sibling).toMatchObject({ status: 'deleted', keptTags: ['release-1'] });
    expect(sibling?.method).not.toBe('manifest-delete');
    expect(images.get(image('prot/app:build-18'))).toMatchObject({ status: 'deleted', method: 'manifest-delete' });
    expect(JSON.parse(result.stdout).summary).toMatchObject({ deleted: 2, skipped: 1, failed: 0 });

    expect(await listTags(registry.url, 'prot/app')).toEqual(['release-1']);
    expect(await manifestDigest(registry.url, 'prot/app', 'release-1')).toBe(release);
    await pullImage(registry.url, 'prot/app', 'release-1');
  });

  it('keeps an image listed by digest when a tag on that digest is protected, with all its tags', async () => {
    workspace.writeList([image(`prot/pinned@${digestOnly}`)], 'pinned.txt');
    const result = await workspace.rc('clean', '--file', 'pinned.txt', '--json');
    expect(result.exitCode, result.stdout).toBe(0);
    expect(byImage(result.stdout).get(image(`prot/pinned@${digestOnly}`))).toMatchObject({
      status: 'skipped',
      reason: 'it carries tag v3, protected by pattern /^v\\d+$/ (protect-tags)',
    });
    expect((await listTags(registry.url, 'prot/pinned'))?.sort()).toEqual(['tmp', 'v3']);
    await pullImage(registry.url, 'prot/pinned', 'v3');
  });
});

describe('protect-tags patterns', () => {
  const matches = (pattern: string, tag: string) => compile([pattern])[0]!.test(tag);

  it('a glob matches the whole tag: * any run of characters, ? exactly one, the rest literally', () => {
    expect(matches('v1.*', 'v1.2.3')).toBe(true);
    expect(matches('v1.*', 'v10')).toBe(false);
    expect(matches('v1.*', 'xv1.2')).toBe(false);
    expect(matches('rc?', 'rc1')).toBe(true);
    expect(matches('rc?', 'rc10')).toBe(false);
    expect(matches('latest', 'latest-2')).toBe(false);
  });

  it('a /slashed/ pattern is a RegExp with its flags, anchored only where written', () => {
    expect(matches('/^v\\d+$/', 'v12')).toBe(true);
    expect(matches('/^v\\d+$/', 'v12-rc')).toBe(false);
    expect(matches('/rc/i', 'v1-RC2')).toBe(true);
    // One compiled rule tested twice: a g flag must not make the second test start mid-string.
    const [global] = compile(['/rc/g']) as [ReturnType<typeof compile>[number]];
    expect([global.test('rc'), global.test('rc')]).toEqual([true, true]);
  });

  it('refuses a missing or empty pattern list and an invalid RegExp, naming the pattern', () => {
    expect(() => compile(undefined)).toThrow('"patterns" must be a non-empty array');
    expect(() => compile([])).toThrow('"patterns" must be a non-empty array');
    expect(() => compile(['/(unclosed/'])).toThrow('pattern /(unclosed/ is not a valid RegExp');
  });
});
