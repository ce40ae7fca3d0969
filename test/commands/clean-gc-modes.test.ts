import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { catalog, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { blobStored } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

/** GC modes on a registry run by local commands (a systemd-like supervisor), through the filesystem backend. */
describe('garbage collection modes with the filesystem backend', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  const deleted = makeImage({ seed: 'modes/deleted', layers: 2 });

  beforeEach(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
    await pushImage(registry.url, 'app', 'old', deleted);
    await pushImage(registry.url, 'app', 'kept', makeImage({ seed: 'modes/kept' }));
    workspace.writeList([`${registry.host}/app:old`]);
  });
  afterEach(async () => {
    await registry.stop();
    workspace.remove();
  });

  const modeConfig = (mode: string, gc: Record<string, unknown> = {}) => {
    const base = filesystemConfig(registry);
    return {
      ...base,
      gc: { ...base.gc, mode, ...gc },
      restart: { command: registry.restartCommand, readOnlyCommand: registry.readOnlyRestartCommand, stopCommand: registry.stopCommand, startCommand: registry.startCommand },
    };
  };

  for (const mode of ['readonly', 'stopped'] as const) {
    it(`${mode}: collects the deleted image's blobs and leaves the registry serving and writable`, async () => {
      workspace.writeConfig(modeConfig(mode));
      const result = await workspace.rc('clean', '--json');
      expect(result.exitCode).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.gc[0]).toMatchObject({ status: 'collected', mode, cameBack: true });
      expect(report.gc[0].storage.after.bytes).toBeLessThan(report.gc[0].storage.before.bytes);
      expect(report.restart[0]).toMatchObject({ status: 'restarted' });
      expect(report.warnings.join('\n')).not.toContain('a push landing meanwhile can lose its blobs');
      for (const blob of deleted.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(false);
      await pullImage(registry.url, 'app', 'kept');
      // Writable again: a new push lands and pulls.
      await pushImage(registry.url, 'after', '1', makeImage({ seed: `modes/after/${mode}` }));
      await pullImage(registry.url, 'after', '1');
      // The probe the way back used left no repository behind.
      expect(await catalog(registry.url)).toEqual(['after', 'app']);
    });
  }

  it('auto picks read-only when a read-only restart command is configured', async () => {
    workspace.writeConfig(modeConfig('auto'));
    const report = JSON.parse((await workspace.rc('clean', '--json')).stdout);
    expect(report.gc[0]).toMatchObject({ status: 'collected', mode: 'readonly' });
  });

  it('online warns that pushes during garbage collection can be lost', async () => {
    workspace.writeConfig(modeConfig('online'));
    const result = await workspace.rc('clean', '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.gc[0]).toMatchObject({ status: 'collected', mode: 'online' });
    expect(report.warnings.join('\n')).toContain('a push landing meanwhile can lose its blobs');
  });

  it('does not run garbage collection when read-only cannot be confirmed, and ends with the registry writable', async () => {
    // A "read-only" restart that is really a plain restart: uploads are still accepted.
    workspace.writeConfig({ ...modeConfig('readonly'), restart: { ...modeConfig('readonly').restart, readOnlyCommand: registry.restartCommand } });
    const result = await workspace.rc('clean', '--json');
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.error.message).toContain('still accepted an upload after the read-only restart; garbage collection was not run');
    expect(report.gc[0]).toMatchObject({ status: 'failed', cameBack: true });
    for (const blob of deleted.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(true);
    await pushImage(registry.url, 'after', '1', makeImage({ seed: 'modes/after/unconfirmed' }));
    expect(await catalog(registry.url)).toEqual(['after', 'app']);
  });

  it('brings a stopped registry back when its garbage collection fails', async () => {
    workspace.writeConfig(modeConfig('stopped', { command: ['sh', '-c', 'exit 4', 'gc', 'config.yml'] }));
    const result = await workspace.rc('clean', '--json');
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.error.message).toContain('failed with exit status 4');
    expect(report.gc[0]).toMatchObject({ status: 'failed', mode: 'stopped', cameBack: true });
    await pullImage(registry.url, 'app', 'kept');
    await pushImage(registry.url, 'after', '1', makeImage({ seed: 'modes/after/failed' }));
  });

  it('refuses a mode the configured commands cannot carry out, before touching anything', async () => {
    workspace.writeConfig({ ...filesystemConfig(registry), gc: { ...filesystemConfig(registry).gc, mode: 'stopped' } });
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('gc.mode: stopped needs restart.stopCommand and restart.startCommand');
    await pullImage(registry.url, 'app', 'old');
  });

  it('gc.dryRun reports what garbage collection would delete and deletes nothing', async () => {
    workspace.writeConfig(modeConfig('readonly', { dryRun: true }));
    const result = await workspace.rc('clean', '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.gc[0]).toMatchObject({ status: 'collected', dryRun: true });
    expect(report.gc[0].result.blobsDeleted).toBeGreaterThan(0);
    expect(report.gc[0].storage.after).toEqual(report.gc[0].storage.before);
    expect(report.restart[0]).toMatchObject({ status: 'skipped' });
    for (const blob of deleted.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(true);
    expect(registry.restartCount()).toBe(0);
  });
});
