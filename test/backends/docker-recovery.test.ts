import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from '../../testkit/docker/docker-cli.js';
import { ensureDockerEngine, type DockerEngine } from '../../testkit/docker/docker-engine.js';
import { startRegistryContainer, type RegistryContainer } from '../../testkit/docker/registry-container.js';
import { makeImage } from '../../testkit/images.js';
import { catalog, pullImage } from '../../testkit/pull.js';
import { binPath, cliEnvironment } from '../support/run-cli.js';
import { blobStored } from '../support/storage-snapshot.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

/** A run killed inside its read-only GC window, and the rerun that finishes the job. */
describe('docker backend after an interrupted run', () => {
  let engine: DockerEngine;
  let registry: RegistryContainer;
  let workspace: Workspace;
  const deleted = makeImage({ seed: 'recovery/deleted', layers: 2 });

  beforeAll(async () => {
    engine = await ensureDockerEngine();
    registry = await startRegistryContainer(engine, { name: `rc-recovery-${process.pid}` });
    await registry.push('app', 'old', deleted);
    await registry.push('app', 'kept', makeImage({ seed: 'recovery/kept' }));
    // A registry binary whose garbage collection takes a while, so the run can be killed inside the window.
    // It lives in the storage volume, so the read-only stand-in (same volumes) has it too.
    await registry.exec(['sh', '-c', 'printf \'#!/bin/sh\\n[ "$1" = garbage-collect ] && sleep 15\\nexec /bin/registry "$@"\\n\' > /var/lib/registry/slow-registry && chmod +x /var/lib/registry/slow-registry']);
    workspace = createWorkspace();
    workspace.writeList([`${registry.host}/app:old`]);
    workspace.writeConfig({ storage: { backend: 'docker', container: registry.name, binary: '/var/lib/registry/slow-registry' } });
  });
  afterAll(async () => {
    await docker(['rm', '-f', `${registry.name}-rc-readonly`], engine.env).catch(() => undefined);
    await registry?.remove();
    workspace?.remove();
  });

  it('a rerun brings the registry back writable and collects the garbage the killed run left', async () => {
    const killed = spawn(process.execPath, [binPath, 'clean'], { cwd: workspace.dir, env: cliEnvironment(engine.env), stdio: 'ignore' });
    const exited = new Promise((resolve) => killed.once('exit', resolve));
    const standIn = `${registry.name}-rc-readonly`;
    let sawStandIn = false;
    for (let i = 0; i < 600 && !sawStandIn; i++) {
      const { stdout } = await docker(['ps', '--filter', `name=^${standIn}$`, '--format', '{{.Names}}'], engine.env);
      sawStandIn = stdout.trim() === standIn;
      if (!sawStandIn) await sleep(100);
    }
    expect(sawStandIn).toBe(true);
    killed.kill('SIGKILL');
    await exited;
    // Killed inside the window: the registry's own container is stopped, the read-only stand-in serves.
    const state = await docker(['inspect', '--format', '{{.State.Running}}', registry.name], engine.env);
    expect(state.stdout.trim()).toBe('false');

    const rerun = await workspace.rcWith(engine.env, 'clean', '--json');
    expect(rerun.exitCode).toBe(0);
    const report = JSON.parse(rerun.stdout);
    expect(report.warnings).toContainEqual(expect.stringContaining('removed the read-only stand-in an interrupted run left'));
    expect(report.images[0]).toMatchObject({ status: 'absent' });
    expect(report.gc[0]).toMatchObject({ status: 'collected', mode: 'readonly' });
    const after = await docker(['ps', '-a', '--filter', `name=^${standIn}$`, '--format', '{{.Names}}'], engine.env);
    expect(after.stdout.trim()).toBe('');
    expect((await docker(['inspect', '--format', '{{.State.Running}}', registry.name], engine.env)).stdout.trim()).toBe('true');
    for (const blob of deleted.layers) expect(blobStored(registry.storageDir as string, blob.digest)).toBe(false);
    await pullImage(registry.url, 'app', 'kept');
    await registry.push('fresh', '1', makeImage({ seed: 'recovery/fresh' }));
    expect(await catalog(registry.url)).toEqual(['app', 'fresh']);
  });
});
