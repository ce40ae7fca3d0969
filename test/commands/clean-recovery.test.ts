import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { catalog, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { blobStored } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

/** A local registry left stopped or read-only by a run that was killed, and the run after it. */
describe('recovering a local registry left inside a GC window', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  const deleted = makeImage({ seed: 'recover/deleted', layers: 2 });

  beforeEach(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
    await pushImage(registry.url, 'app', 'old', deleted);
    await pushImage(registry.url, 'app', 'kept', makeImage({ seed: 'recover/kept' }));
    const base = filesystemConfig(registry);
    workspace.writeConfig({
      ...base,
      restart: { command: registry.restartCommand, readOnlyCommand: registry.readOnlyRestartCommand, stopCommand: registry.stopCommand, startCommand: registry.startCommand },
    });
    workspace.writeList([`${registry.host}/app:old`]);
  });
  afterEach(async () => {
    await registry.stop();
    workspace.remove();
  });

  const run = (argv: string[]) => execFileSync(argv[0] as string, argv.slice(1));

  it('restarts a registry left read-only writable, then cleans and collects', async () => {
    run(registry.readOnlyRestartCommand);
    await registry.waitUntilReady();
    const result = await workspace.rc('clean', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.warnings).toContainEqual(expect.stringContaining('refused uploads (read-only): restarted it writable'));
    expect(report.images[0]).toMatchObject({ status: 'deleted' });
    expect(report.gc[0]).toMatchObject({ status: 'collected' });
    await pushImage(registry.url, 'fresh', '1', makeImage({ seed: 'recover/fresh' }));
    expect(await catalog(registry.url)).toEqual(['app', 'fresh']);
  });

  it('starts a registry left stopped, then cleans and collects', async () => {
    run(registry.stopCommand);
    const result = await workspace.rc('clean', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.warnings).toContainEqual(expect.stringContaining('it was down: started it with restart.startCommand'));
    expect(report.gc[0]).toMatchObject({ status: 'collected' });
    await pullImage(registry.url, 'app', 'kept');
  });

  it('--force-gc collects what an earlier run deleted without collecting', async () => {
    expect((await workspace.rc('clean', '--no-gc')).exitCode).toBe(0);
    for (const blob of deleted.layers) expect(blobStored(registry.storageRoot, blob.digest)).toBe(true);
    const plain = JSON.parse((await workspace.rc('clean', '--json')).stdout);
    expect(plain.skipped.gc).toBe('nothing was deleted');
    const forced = await workspace.rc('clean', '--force-gc', '--json');
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).gc[0]).toMatchObject({ status: 'collected' });
    for (const blob of deleted.layers) expect(blobStored(registry.storageRoot, blob.digest)).toBe(false);
    await pullImage(registry.url, 'app', 'kept');
  });
});
