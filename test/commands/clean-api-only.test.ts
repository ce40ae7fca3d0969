import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog, listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages, seedCleanupList, type SeedImages } from '../../testkit/seed-images.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

/** With no storage configured, everything goes through the registry API. */
describe('rc clean without storage access', () => {
  let registry: RegistryServer;
  let seed: SeedImages;
  let workspace: Workspace;
  const password = 's3cret-Pa55word-for-test';

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { username: 'operator', password } });
    seed = await pushSeedImages(registry.url, { credentials: registry.credentials });
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
    workspace.writeConfig({ registries: { [registry.host]: { username: 'operator', passwordEnv: 'RC_TEST_PASSWORD' } } });
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  const rc = (...args: string[]) => workspace.rcWith({ RC_TEST_PASSWORD: password }, ...args);

  it('fails with a clear message when the password is missing, before touching anything', async () => {
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('passwordEnv names RC_TEST_PASSWORD, which is not set');
  });

  it('removes only the listed tag of a shared digest with a throwaway manifest, and warns that prune and GC need storage', async () => {
    const result = await rc('clean', '--verbose');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/deleted\s+\S+\/demo\/nginx:1\.26 .*tag detached with a throwaway manifest.*kept stable/);
    expect(result.stdout).toMatch(/gc\s+skipped: .*no storage configured/);
    expect(result.stdout).toMatch(/prune\s+skipped: no storage configured: \S+\/registry stays in _catalog/);
    const auth = registry.credentials;
    expect(await manifestDigest(registry.url, 'demo/nginx', 'stable', auth)).toBe(seed.digests['demo/nginx:1.26']);
    expect(await manifestDigest(registry.url, 'demo/nginx', '1.26', auth)).toBeNull();
    await pullImage(registry.url, 'demo/nginx', 'stable', { credentials: auth });
    expect(await listTags(registry.url, 'library/busybox', auth)).toEqual(['1.35.0']);
    // Without storage the emptied repository cannot leave the catalog.
    expect(await catalog(registry.url, { credentials: auth })).toContain('registry');
  });

  it('never prints the password, in text, verbose or JSON output', async () => {
    for (const args of [['ls', '--digests'], ['clean', '--verbose'], ['clean', '--json'], ['ls', '--json']]) {
      const result = await rc(...args);
      expect(result.stdout + result.stderr).not.toContain(password);
      expect(result.stdout + result.stderr).not.toContain(Buffer.from(`operator:${password}`).toString('base64'));
    }
  });

  it('reports refused credentials with exit 1 and a hint', async () => {
    const result = await workspace.rcWith({ RC_TEST_PASSWORD: 'wrong' }, 'clean');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`registry ${registry.host} refused our credentials`);
    expect(result.stderr).not.toContain('wrong');
  });
});
