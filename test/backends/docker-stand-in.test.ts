import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { OWNER_LABEL, REGISTRY_2_CONFIG_PATH, docker, ensureRegistryImage } from '../../testkit/docker/index.js';
import { call } from '../../testkit/http.js';
import { makeImage, makeLayer, pushImage } from '../../testkit/images.js';
import { pullImage } from '../../testkit/pull.js';
import { freePort } from '../../testkit/registry-server.js';
import { blobStored, repositoryDir } from '../support/storage-snapshot.js';
import type { Workspace } from '../support/workspace.js';
import { blobDataStored, cleanJson, containerState, dockerSuite, expectWritable, leftoverContainers, type RegistryHandle, removeStandIns, statusOf } from './docker-support.js';

const SLOW = { timeout: 120_000 };

const suite = dockerSuite();

/** A container this file runs by hand: removed (with any stand-in and its storage) after the test. */
function handRun(name: string, storageDir?: string): void {
  suite.afterTest(async () => {
    await removeStandIns(suite.engine, name).catch(() => undefined);
    await docker(['rm', '-f', '-v', name], suite.engine.env).catch(() => undefined);
    if (storageDir) rmSync(storageDir, { recursive: true, force: true });
  });
}

function workspaceListing(image: string): Workspace {
  const workspace = suite.workspace();
  workspace.writeList([image]);
  return workspace;
}

/**
 * A registry container run like the seed's (host network, loopback port, bind mount), but whose
 * entrypoint is a wrapper script, kept in its storage, that drops the read-only setting: a
 * registry that ignores `REGISTRY_STORAGE_MAINTENANCE_READONLY`, as some entrypoint scripts do.
 * Run by hand because the kit does not set entrypoints; it carries the kit's owner label.
 */
async function registryIgnoringReadOnly(): Promise<{ registry: RegistryHandle & { host: string }; storageDir: string }> {
  const image = await ensureRegistryImage(suite.engine);
  const storageDir = mkdtempSync(join(tmpdir(), 'rc-backends-ignores-readonly-'));
  writeFileSync(join(storageDir, 'ignore-readonly.sh'), '#!/bin/sh\nunset REGISTRY_STORAGE_MAINTENANCE_READONLY\nexec /bin/registry "$@"\n', { mode: 0o755 });
  const port = await freePort();
  const name = `rc-ignores-readonly-${process.pid}`;
  const url = `http://127.0.0.1:${port}`;
  handRun(name, storageDir);
  await docker(
    [
      'run', '-d', '--restart=no', '--name', name, '--network', 'host', '--label', `${OWNER_LABEL}=${hostname()}:${process.pid}`,
      '-e', `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`, '-e', 'REGISTRY_STORAGE_DELETE_ENABLED=true',
      '-v', `${storageDir}:/var/lib/registry`, '--entrypoint', '/var/lib/registry/ignore-readonly.sh',
      image.reference, 'serve', REGISTRY_2_CONFIG_PATH,
    ],
    suite.engine.env,
  );
  // Safety bound only: a registry that never answers fails here with its log.
  for (let attempt = 0; ; attempt++) {
    const up = await call(`${url}/v2/`, { headers: { connection: 'close' } }).then((r) => r.status === 200, () => false);
    if (up) break;
    if (attempt >= 600) throw new Error(`${name} does not answer at ${url}: ${(await docker(['logs', name], suite.engine.env)).stderr.slice(-2000)}`);
    await sleep(50);
  }
  const registry = { name, url, host: `127.0.0.1:${port}`, exec: (args: readonly string[]) => docker(['exec', name, ...args], suite.engine.env) };
  return { registry, storageDir };
}

describe('rc clean through a registry container when its read-only window cannot be had', SLOW, () => {
  it('when the read-only stand-in still accepts uploads, says so, collects nothing, and leaves no probe in storage', async () => {
    const { registry, storageDir } = await registryIgnoringReadOnly();
    const old = makeImage({ seed: 'ignores-readonly/old', layers: 2 });
    const keep = makeImage({ seed: 'ignores-readonly/keep' });
    await pushImage(registry.url, 'app', 'old', old);
    await pushImage(registry.url, 'app', 'keep', keep);
    const workspace = workspaceListing(`${registry.host}/app:old`);
    workspace.writeConfig({ storage: { backend: 'docker', container: registry.name }, gc: { mode: 'readonly' } });

    const { exitCode, report } = await cleanJson(workspace, suite.engine);
    expect(exitCode).toBe(1);
    expect(statusOf(report, registry.host, 'app:old')).toBe('deleted');
    expect(report.error?.message).toContain('still accepted an upload after the read-only restart; garbage collection was not run');
    expect(report.gc[0]).toMatchObject({ status: 'failed', mode: 'readonly', cameBack: true });
    // Not collected: the deleted image's layers are still on disk.
    for (const layer of old.layers) expect(blobStored(storageDir, layer.digest)).toBe(true);
    // The read-only probe's upload is cleaned up like every other probe's.
    expect(existsSync(repositoryDir(storageDir, 'registry-clean-probe'))).toBe(false);

    expect((await containerState(suite.engine, registry.name)).running).toBe(true);
    expect(await leftoverContainers(suite.engine, registry)).toEqual([]);
    expect((await pullImage(registry.url, 'app', 'keep')).digest).toBe(keep.digest);
    await expectWritable(registry, 'after-ignored-readonly');
  });

  it('leaves alone a container of the stand-in\'s name that rc did not start, fails saying why, and the registry is back', async () => {
    const registry = await suite.startRegistry();
    const old = makeImage({ seed: 'name-taken/old', layers: [makeLayer('name-taken/base', 2048), makeLayer('name-taken/top', 4096)] });
    const keep = makeImage({ seed: 'name-taken/keep', layers: [makeLayer('name-taken/base', 2048)] });
    await registry.push('app', 'old', old);
    await registry.push('app', 'keep', keep);
    const squatter = `${registry.name}-rc-readonly`;
    await docker(['create', '--name', squatter, '--label', `${OWNER_LABEL}=${hostname()}:${process.pid}`, '--network', 'none', registry.image], suite.engine.env);
    handRun(squatter);
    const squatterId = (await containerState(suite.engine, squatter)).id;
    const workspace = workspaceListing(`${registry.host}/app:old`);
    workspace.writeConfig({ storage: { backend: 'docker', container: registry.name }, gc: { mode: 'readonly' } });

    const { exitCode, report } = await cleanJson(workspace, suite.engine);
    expect(exitCode).toBe(1);
    expect(statusOf(report, registry.host, 'app:old')).toBe('deleted');
    expect(report.error?.message).toContain(squatter);
    expect(report.gc[0]).toMatchObject({ status: 'failed', mode: 'readonly', cameBack: true });
    expect(report.restart[0]).toMatchObject({ status: 'restarted' });
    expect((await containerState(suite.engine, squatter)).id).toBe(squatterId);
    // Not collected, and the registry serves writable again.
    expect(await blobDataStored(registry, old.layers[1]!.digest)).toBe(true);
    expect((await containerState(suite.engine, registry.name)).running).toBe(true);
    expect((await pullImage(registry.url, 'app', 'keep')).digest).toBe(keep.digest);
    await expectWritable(registry, 'after-name-taken');
  });
});
