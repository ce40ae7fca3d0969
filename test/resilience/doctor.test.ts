import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { catalog, listTags, pullImage } from '../../testkit/pull.js';
import { freePort, startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';
import { escape, parseReport } from './support.js';

interface DoctorJson {
  ok: boolean;
  checks: Array<{ registry: string; check: string; ok: boolean; detail: string; fix?: string }>;
}

const probe = 'registry-clean-probe';

describe('rc doctor', () => {
  let registry: RegistryServer;
  let workspace: Workspace;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushImage(registry.url, 'app', ['1', 'stable'], makeImage({ seed: 'doctor/app:1' }));
    await pushImage(registry.url, 'app', '2', makeImage({ seed: 'doctor/app:2' }));
    await pushImage(registry.url, 'tools/cli', 'latest', makeImage({ seed: 'doctor/cli' }));
    // Deleted but not yet collected: a garbage collection that really ran would remove its blobs.
    const garbage = await pushImage(registry.url, 'app', 'garbage', makeImage({ seed: 'doctor/garbage', layers: 2 }));
    expect((await fetch(`${registry.url}/v2/app/manifests/${garbage}`, { method: 'DELETE' })).status).toBe(202);
  });
  beforeEach(() => {
    workspace = createWorkspace();
  });
  afterEach(() => workspace.remove());
  afterAll(async () => {
    await registry?.stop();
  });

  /** Runs doctor and checks that it changed nothing at all: same bytes in storage, same catalog and tags, nothing of its probe left. */
  async function doctorChangingNothing(target: RegistryServer, ...args: string[]) {
    const storageBefore = snapshotStorage(target.storageRoot);
    const catalogBefore = await catalog(target.url);
    const result = await workspace.rc('doctor', '--registry', target.host, ...args);
    expect(snapshotStorage(target.storageRoot)).toEqual(storageBefore);
    expect(await catalog(target.url)).toEqual(catalogBefore);
    expect([...snapshotStorage(target.storageRoot).keys()].filter((p) => p.includes(probe))).toEqual([]);
    return result;
  }

  const check = (report: DoctorJson, name: string) => {
    const found = report.checks.find((c) => c.check === name);
    expect(found, `no "${name}" check in ${JSON.stringify(report.checks.map((c) => c.check))}`).toBeDefined();
    return found!;
  };

  it('passes on a healthy registry with storage, GC and restart commands, warning only that online GC can lose pushes', async () => {
    workspace.writeConfig(filesystemConfig(registry));
    const result = await doctorChangingNothing(registry, '--json');
    expect(result.exitCode, result.stdout).toBe(0);
    const report = parseReport<DoctorJson>(result);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.check)).toEqual(['reachable', 'credentials', 'deletion', 'storage', 'version', 'gc mode', 'gc command', 'restart']);
    for (const c of report.checks) expect(c.ok || c.check === 'gc mode', `${c.check}: ${c.detail}`).toBe(true);
    expect(check(report, 'gc mode')).toMatchObject({ ok: false, detail: expect.stringContaining('online') });
    expect(check(report, 'storage').detail).toContain('an upload started on the registry appears in it');
    // What a user reads: ok and warn, never FAIL.
    const text = await doctorChangingNothing(registry);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^\s+warn\s+gc mode/m);
    expect(text.stdout).not.toContain('FAIL');
    await pullImage(registry.url, 'app', 'stable');
  });

  it('passes every check, GC mode included, when read-only restarts are configured', async () => {
    workspace.writeConfig({ ...filesystemConfig(registry), restart: { command: registry.restartCommand, readOnlyCommand: registry.readOnlyRestartCommand } });
    const restarts = registry.restartCount();
    const result = await doctorChangingNothing(registry, '--json');
    expect(result.exitCode, result.stdout).toBe(0);
    const report = parseReport<DoctorJson>(result);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(check(report, 'gc mode').detail).toContain('readonly');
    // Checking that a restart is possible does not restart anything.
    expect(registry.restartCount()).toBe(restarts);
  });

  it('fails the storage check when the storage root is not the registry\'s, writing nothing to the wrong directory and keeping every image', async () => {
    const wrongRoot = mkdtempSync(path.join(tmpdir(), 'rc-wrong-root-'));
    try {
      workspace.writeConfig({ ...filesystemConfig(registry), storage: { backend: 'filesystem', root: wrongRoot } });
      const realBefore = snapshotStorage(registry.storageRoot);
      const catalogBefore = await catalog(registry.url);
      const result = await workspace.rc('doctor', '--registry', registry.host, '--json');
      expect(result.exitCode).toBe(1);
      const report = parseReport<DoctorJson>(result);
      expect(report.ok).toBe(false);
      expect(check(report, 'storage')).toMatchObject({
        ok: false,
        detail: expect.stringContaining(`is not the storage of registry ${registry.host}: an upload started on the registry did not appear in it`),
        fix: expect.stringContaining('point storage at the root directory of the registry'),
      });
      // Nothing was written to the wrong directory, and the registry still lists and serves the same.
      expect(snapshotStorage(wrongRoot)).toEqual(new Map());
      expect(await catalog(registry.url)).toEqual(catalogBefore);
      expect(await listTags(registry.url, 'app')).toEqual(['1', '2', 'stable']);
      // The probe upload, cancelled through the API, leaves its hash state in the real storage:
      // rc cannot remove it without the right root (see the report). Nothing else changed.
      const changed = [...snapshotStorage(registry.storageRoot)].filter(([p, hash]) => realBefore.get(p) !== hash).map(([p]) => p);
      const removed = [...realBefore.keys()].filter((p) => !snapshotStorage(registry.storageRoot).has(p));
      expect(removed).toEqual([]);
      expect(changed.every((p) => p.startsWith(`docker/registry/v2/repositories/${probe}/`))).toBe(true);
      rmSync(path.join(registry.storageRoot, 'docker/registry/v2/repositories', probe), { recursive: true, force: true });
    } finally {
      rmSync(wrongRoot, { recursive: true, force: true });
    }
  });

  it('fails the gc command check with a hint when the garbage-collect binary is missing', async () => {
    workspace.writeConfig({ ...filesystemConfig(registry), gc: { command: ['/nonexistent/bin/docker-registry', 'garbage-collect', registry.configPath] } });
    const result = await doctorChangingNothing(registry, '--json');
    expect(result.exitCode).toBe(1);
    const report = parseReport<DoctorJson>(result);
    expect(check(report, 'gc command')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('/nonexistent/bin/docker-registry'),
      fix: expect.stringMatching(/install \/nonexistent\/bin\/docker-registry or configure the command's full path/),
    });
    // Everything else about the registry is fine, and doctor says so.
    for (const name of ['reachable', 'credentials', 'deletion', 'storage', 'restart']) expect(check(report, name).ok).toBe(true);
  });

  it('exits 1 and names the registry when it cannot be reached', async () => {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    workspace.writeConfig({ registries: { [host]: { retries: 1 } } });
    const result = await workspace.rc('doctor');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`${host}:`);
    expect(result.stdout).toMatch(new RegExp(`FAIL\\s+reachable\\s+cannot reach registry ${escape(host)}\\b.*\\(GET http://${escape(host)}/v2/\\)`));
    expect(result.stdout).toContain('fix: check that the registry runs');
  });
});

describe('rc doctor against a registry with deletion disabled', () => {
  let registry: RegistryServer;
  let workspace: Workspace;

  beforeAll(async () => {
    registry = await startRegistry({ deleteEnabled: false });
    await pushImage(registry.url, 'app', '1', makeImage({ seed: 'doctor/disabled' }));
    workspace = createWorkspace();
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('exits 1 and says how to enable deletion, changing nothing', async () => {
    workspace.writeConfig(filesystemConfig(registry));
    const storageBefore = snapshotStorage(registry.storageRoot);
    const result = await workspace.rc('doctor', '--registry', registry.host);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+deletion\s+deletion is disabled \(405 UNSUPPORTED\)/);
    expect(result.stdout).toContain('fix: set storage.delete.enabled: true (or REGISTRY_STORAGE_DELETE_ENABLED=true) and restart the registry');
    expect(snapshotStorage(registry.storageRoot)).toEqual(storageBefore);
    expect(await catalog(registry.url)).toEqual(['app']);
    await pullImage(registry.url, 'app', '1');
  });
});
