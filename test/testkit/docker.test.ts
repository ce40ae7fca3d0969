import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerCommandError,
  type DockerEngine,
  OWNER_LABEL,
  REGISTRY_3_CONFIG_PATH,
  type RegistryImage,
  docker,
  ensureDockerEngine,
  ensureRegistryImage,
  removeAllRegistryContainers,
  removeStaleRegistryContainers,
  startRegistryContainer,
} from '../../testkit/docker/index.js';
import { call, v2Url } from '../../testkit/http.js';
import { makeImage, makeLayer, pullImage } from '../../testkit/index.js';

// A real dockerd and real containers: generous limits for a loaded 2-core machine, no timing assertions.
const SLOW = { timeout: 120_000 };

let engine: DockerEngine;
let image: RegistryImage;

beforeAll(async () => {
  engine = await ensureDockerEngine();
  image = await ensureRegistryImage(engine);
}, 240_000);

afterAll(removeAllRegistryContainers, 120_000);

const storagePath = (root: string, ...parts: string[]): string => join(root, 'docker/registry/v2', ...parts);
const blobFile = (root: string, digest: string): string => {
  const hex = digest.slice('sha256:'.length);
  return storagePath(root, 'blobs/sha256', hex.slice(0, 2), hex, 'data');
};

interface Inspected {
  State: { Status: string; StartedAt: string };
  Config: { Env: string[]; Image: string };
  HostConfig: { NetworkMode: string; RestartPolicy: { Name: string } };
  Mounts: Array<{ Type: string; Source: string; Destination: string; Name?: string }>;
}

async function inspect(name: string): Promise<Inspected> {
  const [first] = JSON.parse((await docker(['inspect', name], engine.env)).stdout) as Inspected[];
  return first!;
}

async function containerExists(name: string): Promise<boolean> {
  return docker(['inspect', name], engine.env).then(
    () => true,
    (error: DockerCommandError) => {
      if (/no such object/i.test(error.stderr)) return false;
      throw error;
    },
  );
}

describe('ensureDockerEngine', SLOW, () => {
  it('answers docker version and hands out its DOCKER_HOST', async () => {
    expect(engine.host).toMatch(/^unix:\/\/\/.+\.sock$/);
    expect(engine.env).toEqual({ DOCKER_HOST: engine.host });
    const { stdout } = await docker(['version', '--format', '{{.Server.Version}}'], engine.env);
    expect(stdout.trim()).toMatch(/^\d+\.\d+/);
    expect((await ensureDockerEngine()).host).toBe(engine.host);
  });

  it('uses RC_TEST_DOCKER_HOST when set, and says so when it does not answer', async () => {
    const saved = process.env.RC_TEST_DOCKER_HOST;
    try {
      process.env.RC_TEST_DOCKER_HOST = engine.host;
      expect(await ensureDockerEngine()).toEqual({ host: engine.host, env: { DOCKER_HOST: engine.host }, source: 'env' });
      process.env.RC_TEST_DOCKER_HOST = 'unix:///nonexistent/rc-test/docker.sock';
      await expect(ensureDockerEngine()).rejects.toThrow(/RC_TEST_DOCKER_HOST=unix:\/\/\/nonexistent\/rc-test\/docker\.sock does not answer/);
    } finally {
      if (saved === undefined) delete process.env.RC_TEST_DOCKER_HOST;
      else process.env.RC_TEST_DOCKER_HOST = saved;
    }
  });
});

describe('ensureRegistryImage', SLOW, () => {
  it('builds a registry:2-like image once, under a content-addressed tag', async () => {
    expect(image.reference).toMatch(/^rc-test\/registry:2\.8-[0-9a-f]{12}$/);
    expect(image.tag).toBe('rc-test/registry:2.8');
    expect(await ensureRegistryImage(engine)).toEqual(image);

    const format = '{{.Id}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{json .Config.Volumes}}';
    const [byReference, byTag] = await Promise.all(
      [image.reference, image.tag].map(async (ref) => (await docker(['image', 'inspect', '--format', format, ref], engine.env)).stdout.trim()),
    );
    expect(byTag).toBe(byReference);
    const [, entrypoint, cmd, volumes] = byReference!.split('|');
    expect(JSON.parse(entrypoint!)).toEqual(['/bin/registry']);
    expect(JSON.parse(cmd!)).toEqual(['serve', '/etc/docker/registry/config.yml']);
    expect(Object.keys(JSON.parse(volumes!) as object)).toEqual(['/var/lib/registry']);
  });

  it('has a 3.x-like variant with its config at /etc/distribution/config.yml', async () => {
    const layout3 = await ensureRegistryImage(engine, { configPath: REGISTRY_3_CONFIG_PATH });
    expect(layout3.reference).not.toBe(image.reference);
    expect(layout3.tag).toBe('rc-test/registry:3-layout');
    const cmd = (await docker(['image', 'inspect', '--format', '{{json .Config.Cmd}}', layout3.reference], engine.env)).stdout;
    expect(JSON.parse(cmd)).toEqual(['serve', REGISTRY_3_CONFIG_PATH]);
    // A throwaway container with no network at all, just to read the file.
    const { stdout } = await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'cat', layout3.reference, REGISTRY_3_CONFIG_PATH], engine.env);
    expect(stdout).toContain('rootdirectory: /var/lib/registry');
    expect(stdout).toMatch(/delete:\n\s+enabled: true/);
  });
});

describe('startRegistryContainer', SLOW, () => {
  it('runs the image like the seed (host network, loopback port, delete on, bind mount) and answers /v2/', async () => {
    const registry = await startRegistryContainer(engine);
    expect(registry.host).toBe(`127.0.0.1:${registry.port}`);
    expect(registry.image).toBe(image.reference);
    expect(registry.volume).toBeUndefined();

    const details = await inspect(registry.name);
    expect(details.State.Status).toBe('running');
    expect(details.HostConfig.NetworkMode).toBe('host');
    expect(details.HostConfig.RestartPolicy.Name).toBe('no');
    expect(details.Config.Env).toEqual(expect.arrayContaining([`REGISTRY_HTTP_ADDR=127.0.0.1:${registry.port}`, 'REGISTRY_STORAGE_DELETE_ENABLED=true']));
    expect(details.Mounts).toEqual([expect.objectContaining({ Type: 'bind', Source: registry.storageDir, Destination: '/var/lib/registry' })]);

    const response = await call(`${registry.url}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('takes pushes from testkit/images.ts, and they land in the bind-mounted directory', async () => {
    const registry = await startRegistryContainer(engine);
    const pushed = makeImage({ seed: 'docker-kit/app', layers: 2 });
    const digest = await registry.push('team/app', ['1.0', 'latest'], pushed);

    expect((await pullImage(registry.url, 'team/app', '1.0')).digest).toBe(digest);
    const root = registry.storageDir!;
    expect(readFileSync(storagePath(root, 'repositories/team/app/_manifests/tags/1.0/current/link'), 'utf8')).toBe(digest);
    for (const blob of pushed.blobs) expect(existsSync(blobFile(root, blob.digest))).toBe(true);
  });

  it('runs /bin/registry --version in the container', async () => {
    const registry = await startRegistryContainer(engine);
    const { stdout } = await registry.exec(['/bin/registry', '--version']);
    expect(stdout.trim()).toBe(`/bin/registry ${image.version}`);
    expect(image.version).toMatch(/ 2\.8\.\d/);
  });

  it('garbage-collects its storage with the image config, and a docker restart brings it back', async () => {
    const registry = await startRegistryContainer(engine);
    const base = makeLayer('docker-kit/gc/base', 2048);
    const kept = makeImage({ seed: 'docker-kit/gc/kept', layers: [base, makeLayer('docker-kit/gc/kept-top')] });
    const dropped = makeImage({ seed: 'docker-kit/gc/dropped', layers: [base, makeLayer('docker-kit/gc/dropped-top')] });
    await registry.push('team/gc', 'kept', kept);
    await registry.push('team/gc', 'dropped', dropped);
    const deleted = await call(v2Url(registry.url, `team/gc/manifests/${dropped.digest}`), { method: 'DELETE' });
    expect(deleted.status).toBe(202);

    const gc = await registry.exec(['/bin/registry', 'garbage-collect', '/etc/docker/registry/config.yml']);
    // The dropped image's manifest, config and top layer; the shared base stays marked.
    expect(`${gc.stdout}${gc.stderr}`).toContain('3 blobs and 0 manifests eligible for deletion');
    const root = registry.storageDir!;
    expect(existsSync(blobFile(root, dropped.layers[1]!.digest))).toBe(false);
    expect(existsSync(blobFile(root, dropped.config.digest))).toBe(false);
    expect(existsSync(blobFile(root, dropped.digest))).toBe(false);
    for (const blob of kept.blobs) expect(existsSync(blobFile(root, blob.digest))).toBe(true);

    // Restart after GC (REGISTRY-FACTS hazard 4): the in-memory blob cache goes with the process.
    const startedBefore = (await inspect(registry.name)).State.StartedAt;
    await registry.restart();
    const after = await inspect(registry.name);
    expect(after.State.Status).toBe('running');
    expect(after.State.StartedAt).not.toBe(startedBefore);
    expect((await pullImage(registry.url, 'team/gc', 'kept')).digest).toBe(kept.digest);
    await expect(pullImage(registry.url, 'team/gc', 'dropped')).rejects.toThrow(/not found/);
  });

  it('leaves deletion to the image config when deleteEnabled is false', async () => {
    const registry = await startRegistryContainer(engine, { deleteEnabled: false });
    expect((await inspect(registry.name)).Config.Env.some((line) => line.startsWith('REGISTRY_STORAGE_DELETE_ENABLED='))).toBe(false);
    const pushed = makeImage({ seed: 'docker-kit/no-delete' });
    await registry.push('team/app', '1.0', pushed);
    const response = await call(v2Url(registry.url, `team/app/manifests/${pushed.digest}`), { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.body.toString('utf8')).toContain('UNSUPPORTED');
  });

  it('runs on a named volume instead (no host path), and remove() deletes the volume', async () => {
    const registry = await startRegistryContainer(engine, { volume: true });
    expect(registry.storageDir).toBeUndefined();
    expect(registry.volume).toMatch(/^rc-registry-data-/);
    expect((await inspect(registry.name)).Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: registry.volume, Destination: '/var/lib/registry' })]);

    const pushed = makeImage({ seed: 'docker-kit/volume' });
    await registry.push('team/vol', '1.0', pushed);
    const link = await registry.exec(['cat', '/var/lib/registry/docker/registry/v2/repositories/team/vol/_manifests/tags/1.0/current/link']);
    expect(link.stdout).toBe(pushed.digest);

    await registry.remove();
    expect(await containerExists(registry.name)).toBe(false);
    const volumes = await docker(['volume', 'ls', '--quiet', '--filter', `name=${registry.volume}`], engine.env);
    expect(volumes.stdout.trim()).toBe('');
  });

  it('remove() leaves nothing: no container, no temp storage, nothing on the port; twice is fine', async () => {
    const registry = await startRegistryContainer(engine);
    await registry.push('team/app', '1.0', makeImage({ seed: 'docker-kit/remove' }));
    await registry.remove();
    await registry.remove();
    expect(await containerExists(registry.name)).toBe(false);
    expect(existsSync(registry.storageDir!)).toBe(false);
    await expect(call(`${registry.url}/v2/`, { headers: { connection: 'close' } })).rejects.toThrow();
  });

  it('keeps a storage directory it was given', async () => {
    const storageDir = mkdtempSync(join(tmpdir(), 'rc-docker-test-storage-'));
    try {
      const registry = await startRegistryContainer(engine, { storageDir });
      expect(registry.storageDir).toBe(storageDir);
      const pushed = makeImage({ seed: 'docker-kit/given-dir' });
      await registry.push('team/app', '1.0', pushed);
      await registry.remove();
      expect(readFileSync(storagePath(storageDir, 'repositories/team/app/_manifests/tags/1.0/current/link'), 'utf8')).toBe(pushed.digest);
    } finally {
      rmSync(storageDir, { recursive: true, force: true });
    }
  });

  it('fails with the registry log when the registry cannot start, and leaves no container', async () => {
    const name = `rc-registry-bad-${process.pid}`;
    await expect(startRegistryContainer(engine, { name, env: { REGISTRY_LOG_LEVEL: 'nonsense' } })).rejects.toThrow(/invalid loglevel nonsense/);
    expect(await containerExists(name)).toBe(false);
  });

  it('does not remove a container it did not start when the name is taken', async () => {
    const name = `rc-registry-taken-${process.pid}`;
    await docker(['create', '--name', name, '--network', 'none', image.reference], engine.env);
    try {
      await expect(startRegistryContainer(engine, { name })).rejects.toThrow(/already in use/);
      expect(await containerExists(name)).toBe(true);
    } finally {
      await docker(['rm', '-f', '-v', name], engine.env);
    }
  });

  it('sweeps containers left by a run that died', async () => {
    // The pid of a process that has exited: what a killed test run leaves in the label.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const name = `rc-registry-stale-${process.pid}`;
    await docker(['create', '--name', name, '--label', `${OWNER_LABEL}=${hostname()}:${deadPid}`, '--network', 'none', image.reference], engine.env);
    const live = await startRegistryContainer(engine);

    expect(await removeStaleRegistryContainers(engine)).toContain(name);
    expect(await containerExists(name)).toBe(false);
    expect(await containerExists(live.name)).toBe(true);
  });
});
