import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../testkit/fault-proxy/fault-proxy.js';
import { makeImage, pushImage, pushIndex } from '../../testkit/images.js';
import { listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { waitUntil } from '../resilience/support.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

/** What rc checks just before it acts, against a real registry. */
describe('rc clean guards', () => {
  let registry: RegistryServer;
  let workspace: Workspace;

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('keeps a tag pushed onto the digest between planning and deleting, and removes only the listed tag', async () => {
    const digest = await pushImage(registry.url, 'race', 'old', makeImage({ seed: 'race/old' }));
    await pushImage(registry.url, 'race', 'other', makeImage({ seed: 'race/other' }));
    // A plugin step right after planning promotes the listed image under a new tag, as a CI job might.
    const plugin = path.join(workspace.dir, 'promote.mjs');
    writeFileSync(
      plugin,
      `export default () => ({
        name: 'promote-during-run',
        steps: [{ id: 'promote', title: 'Promote race:old', after: 'resolve', async run() {
          const headers = { accept: 'application/vnd.docker.distribution.manifest.v2+json' };
          const manifest = await fetch('${registry.url}/v2/race/manifests/${digest}', { headers });
          const body = Buffer.from(await manifest.arrayBuffer());
          const put = await fetch('${registry.url}/v2/race/manifests/promoted', { method: 'PUT', body, headers: { 'content-type': manifest.headers.get('content-type') } });
          if (put.status !== 201) throw new Error('push failed: ' + put.status);
        } }],
      });\n`,
    );
    workspace.writeConfig({ ...filesystemConfig(registry), plugins: ['./promote.mjs'] });
    workspace.writeList([`${registry.host}/race:old`], 'race.txt');
    const result = await workspace.rc('clean', '--file', 'race.txt', '--no-gc', '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.images[0]).toMatchObject({ status: 'deleted', method: 'storage-tag-remove', keptTags: ['promoted'] });
    expect(report.warnings).toContainEqual(expect.stringContaining('changed since it was read; planned again'));
    expect(await manifestDigest(registry.url, 'race', 'promoted')).toBe(digest);
    expect(await listTags(registry.url, 'race')).toEqual(['other', 'promoted']);
    await pullImage(registry.url, 'race', 'promoted');
  });

  it('changes nothing when storage shows a tag the listing did not (a push landed between the two reads)', async () => {
    const digest = await pushImage(registry.url, 'landing', 'old', makeImage({ seed: 'landing/old' }));
    await pushImage(registry.url, 'landing', 'keep', makeImage({ seed: 'landing/keep' }));
    // The registry's answer to rc's tag list is held back while a CI job tags the listed image anew.
    const proxy = await startFaultProxy(registry.url, { rules: [{ method: 'GET', path: /^\/v2\/landing\/tags\/list/, nth: [1], fault: { type: 'delay', ms: 1_500 } }] });
    try {
      workspace.writeConfig({ ...filesystemConfig(registry), registries: { [proxy.host]: {} } });
      workspace.writeList([`${proxy.host}/landing:old`], 'landing.txt');
      const run = workspace.rc('clean', '--file', 'landing.txt', '--no-gc');
      const listing = await proxy.waitFor((r) => r.method === 'GET' && r.path.startsWith('/v2/landing/tags/list'), 10_000, 'the tag list of landing');
      // Only once the registry has answered the listing (its answer is still held) does the tag land.
      await waitUntil(() => listing.upstreamStatus !== undefined, 10_000, 'the registry answered the tag list');
      await pushImage(registry.url, 'landing', 'promoted', makeImage({ seed: 'landing/old' }));
      const result = await run;
      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stderr).toContain('does not match what the registry serves for landing: tag promoted is in storage but not served');
      expect(await manifestDigest(registry.url, 'landing', 'old')).toBe(digest);
      expect(await listTags(registry.url, 'landing')).toEqual(['keep', 'old', 'promoted']);
      expect(proxy.count({ method: 'DELETE', path: /\/manifests\/sha256:(?!0{64})/ })).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('refuses gc.deleteUntagged on a 2.x registry that holds a multi-arch index, before deleting anything', async () => {
    await pushIndex(registry.url, 'multi', 'latest', [makeImage({ seed: 'du/amd64' }), makeImage({ seed: 'du/arm64', platform: 'linux/arm64' })]);
    await pushImage(registry.url, 'plain', ['a', 'b'], makeImage({ seed: 'du/plain' }));
    workspace.writeConfig({ ...filesystemConfig(registry), gc: { ...filesystemConfig(registry).gc, deleteUntagged: true } });
    workspace.writeList([`${registry.host}/plain:a`], 'untagged.txt');
    const before = snapshotStorage(registry.storageRoot);
    const result = await workspace.rc('clean', '--file', 'untagged.txt');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('gc.deleteUntagged is refused');
    expect(result.stderr).toContain('multi:latest is a multi-arch index');
    // The identity proof's upload leaves no trace either.
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
    await pullImage(registry.url, 'multi', 'latest');
  });

  it('restarts the registry even when its garbage collection fails', async () => {
    await pushImage(registry.url, 'gcfail', ['x'], makeImage({ seed: 'guard/gcfail' }));
    await pushImage(registry.url, 'gcfail', ['y'], makeImage({ seed: 'guard/gcfail/y' }));
    const restarts = registry.restartCount();
    workspace.writeConfig({ ...filesystemConfig(registry), gc: { command: ['sh', '-c', 'echo collecting; exit 3', 'gc'] } });
    workspace.writeList([`${registry.host}/gcfail:x`], 'gcfail.txt');
    const result = await workspace.rc('clean', '--file', 'gcfail.txt', '--json');
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.error.message).toContain('failed with exit status 3');
    expect(report.gc[0]).toMatchObject({ status: 'failed' });
    expect(report.restart[0]).toMatchObject({ status: 'restarted' });
    expect(registry.restartCount()).toBe(restarts + 1);
    await pullImage(registry.url, 'gcfail', 'y');
  });

  it('exits 2 when images are given both as arguments and with --file', async () => {
    workspace.writeList([`${registry.host}/plain:b`], 'both.txt');
    const result = await workspace.rc('clean', '--file', 'both.txt', `${registry.host}/plain:b`);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('either as arguments or with --file');
    expect(await listTags(registry.url, 'plain')).toContain('b');
  });

  it('refuses a plugin step placed before the list is validated', async () => {
    writeFileSync(path.join(workspace.dir, 'early.mjs'), `export default { name: 'early', steps: [{ id: 'too-early', title: 'x', before: 'parse-list', async run() {} }] };\n`);
    workspace.writeConfig({ ...filesystemConfig(registry), plugins: ['./early.mjs'] });
    workspace.writeList([`${registry.host}/plain:b`], 'early.txt');
    const result = await workspace.rc('clean', '--file', 'early.txt');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('cannot run before "parse-list"');
  });
});

describe('rc clean against a read-only registry', () => {
  it('says the registry refuses DELETE and may be in maintenance mode, changing nothing', async () => {
    const registry = await startRegistry();
    const workspace = createWorkspace();
    try {
      await pushImage(registry.url, 'app', '1', makeImage({ seed: 'ro/1' }));
      await registry.reconfigure({ readonly: true });
      workspace.writeConfig(filesystemConfig(registry));
      workspace.writeList([`${registry.host}/app:1`]);
      const result = await workspace.rc('clean');
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('refuses DELETE altogether; it may be in read-only maintenance mode');
      expect(await listTags(registry.url, 'app')).toEqual(['1']);
    } finally {
      await registry.stop();
      workspace.remove();
    }
  });
});

