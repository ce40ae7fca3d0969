import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../../testkit/fault-proxy/fault-proxy.js';
import { makeImage, pushImage } from '../../testkit/images.js';
import { catalog, listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';
import { escape, manifestDeletePath, parseReport } from './support.js';

/**
 * rc against a real registry behind a proxy that resets connections, answers 503/502/429 and
 * holds answers: what users see on a flaky network or an overloaded registry.
 */
describe('rc clean on an unreliable network', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let proxy: FaultProxy | undefined;

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

  /** A proxy with these faults, and a config that sends rc through it (storage is the real registry's). */
  async function through(rules: FaultRule[], settings: Record<string, unknown> = {}): Promise<FaultProxy> {
    proxy = await startFaultProxy(registry.url, { rules, seed: 7 });
    workspace.writeConfig({ ...filesystemConfig(registry), registries: { [proxy.host]: settings } });
    return proxy;
  }

  /**
   * Three repositories: web (old goes, current stays), api (1.0 goes, stable shares its digest
   * and stays) and worker (its only tag goes, so it is pruned). Returns the list through `host`.
   */
  async function seed(prefix: string, host: string) {
    const digests = {
      webOld: await pushImage(registry.url, `${prefix}/web`, 'old', makeImage({ seed: `${prefix}/web:old`, layers: 2 })),
      webCurrent: await pushImage(registry.url, `${prefix}/web`, 'current', makeImage({ seed: `${prefix}/web:current` })),
      api: await pushImage(registry.url, `${prefix}/api`, ['1.0', 'stable'], makeImage({ seed: `${prefix}/api:1.0` })),
      worker: await pushImage(registry.url, `${prefix}/worker`, 'stale', makeImage({ seed: `${prefix}/worker:stale` })),
    };
    const list = [`${host}/${prefix}/web:old`, `${host}/${prefix}/api:1.0`, `${host}/${prefix}/worker:stale`];
    workspace.writeList(list);
    return { digests, list };
  }

  /** Exactly the listed images are gone; the siblings still pull whole. */
  async function expectListedGoneSiblingsKept(prefix: string, digests: Record<string, string>) {
    expect(await listTags(registry.url, `${prefix}/web`)).toEqual(['current']);
    expect(await listTags(registry.url, `${prefix}/api`)).toEqual(['stable']);
    expect(await manifestDigest(registry.url, `${prefix}/web`, digests.webOld as string)).toBeNull();
    expect(await manifestDigest(registry.url, `${prefix}/api`, 'stable')).toBe(digests.api);
    expect(await catalog(registry.url)).not.toContain(`${prefix}/worker`);
    await pullImage(registry.url, `${prefix}/web`, 'current');
    await pullImage(registry.url, `${prefix}/api`, 'stable');
  }

  /** Every request the proxy faulted was sent again, and that later attempt reached the registry. */
  function expectEveryFaultRetried(p: FaultProxy) {
    const faulted = p.log.filter((r) => r.fault !== undefined);
    for (const request of faulted) {
      const retry = p.log.find((r) => r.seq > request.seq && r.method === request.method && r.path === request.path && r.forwarded);
      expect(retry, `${request.method} ${request.path} (${request.fate}) was never sent again`).toBeDefined();
    }
  }

  it('deletes exactly the listed images although connections drop on its reads', async () => {
    const p = await through([
      { name: 'ping', method: 'GET', path: /^\/v2\/$/, nth: [1], fault: { type: 'reset' } },
      { name: 'tags', method: 'GET', path: /\/tags\/list/, nth: [1, 2], fault: { type: 'reset' } },
      { name: 'heads', method: 'HEAD', path: /\/manifests\//, nth: [1, 3], fault: { type: 'reset' } },
    ]);
    const { digests } = await seed('resets', p.host);
    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseReport(result).images.map((i) => i.status)).toEqual(['deleted', 'deleted', 'deleted']);
    expect(p.count({ fate: 'reset' })).toBe(5);
    expectEveryFaultRetried(p);
    await expectListedGoneSiblingsKept('resets', digests);
  });

  it('waits out 503 and 502 answers on tags/list and HEAD and still deletes exactly the listed images', async () => {
    const p = await through([
      { name: 'tags-503', method: 'GET', path: /\/tags\/list/, nth: [1, 2, 3], fault: { type: 'status', status: 503 } },
      { name: 'heads-502', method: 'HEAD', path: /\/manifests\//, nth: [2], fault: { type: 'status', status: 502 } },
    ]);
    const { digests } = await seed('unavailable', p.host);
    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseReport(result).summary).toMatchObject({ deleted: 3, failed: 0 });
    expect(p.count({ rule: 'tags-503', fate: 'injected' })).toBe(3);
    expect(p.count({ rule: 'heads-502', fate: 'injected' })).toBe(1);
    expectEveryFaultRetried(p);
    await expectListedGoneSiblingsKept('unavailable', digests);
  });

  it('waits as long as a 429 Retry-After asks before asking again', async () => {
    const p = await through([{ name: 'slow-down', method: 'GET', path: /\/tags\/list/, nth: [1], fault: { type: 'status', status: 429, retryAfter: '1' } }]);
    const { digests } = await seed('ratelimited', p.host);
    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const [limited] = p.requests({ rule: 'slow-down' });
    expect(limited?.status).toBe(429);
    const again = p.log.find((r) => r.seq > limited!.seq && r.method === 'GET' && r.path === limited!.path);
    expect(again?.upstreamStatus).toBe(200);
    // Measured at the proxy: from the 429 leaving it to the same request arriving again. Backoff
    // alone would have waited at most 250 ms before the first retry.
    expect(again!.receivedAt - limited!.doneAt!).toBeGreaterThanOrEqual(950);
    await expectListedGoneSiblingsKept('ratelimited', digests);
  });

  it('reports an image deleted, not failed, when the answer to its DELETE is lost after the registry applied it', async () => {
    const p = await through([{ name: 'lost-answer', method: 'DELETE', path: manifestDeletePath, nth: [1], fault: { type: 'reset-after-forward' } }]);
    const { digests } = await seed('lost', p.host);
    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseReport(result);
    expect(report.summary).toMatchObject({ deleted: 3, failed: 0, absent: 0 });

    const [lost] = p.requests({ rule: 'lost-answer' });
    expect(lost).toMatchObject({ fate: 'reset-after-forward', upstreamStatus: 202 });
    // rc looked before deleting again, found the manifest gone, and sent no second DELETE.
    expect(p.requests({ method: 'DELETE' }).filter((r) => r.path === lost!.path)).toHaveLength(1);
    const look = p.log.find((r) => r.seq > lost!.seq && r.method === 'HEAD' && r.path === lost!.path);
    expect(look).toMatchObject({ forwarded: true, upstreamStatus: 404 });
    const image = report.images.find((i) => lost!.path.endsWith(i.digest ?? '-'));
    expect(image).toMatchObject({ status: 'deleted' });
    await expectListedGoneSiblingsKept('lost', digests);
  });

  it('sends a DELETE again, after checking, when its connection dropped before it reached the registry', async () => {
    const p = await through([
      { name: 'dropped', method: 'DELETE', path: manifestDeletePath, nth: [1], fault: { type: 'reset' } },
      { name: 'refused', method: 'DELETE', path: manifestDeletePath, nth: [2], fault: { type: 'status', status: 503 } },
    ]);
    const { digests } = await seed('dropped', p.host);
    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseReport(result).summary).toMatchObject({ deleted: 3, failed: 0, absent: 0 });
    for (const rule of ['dropped', 'refused']) {
      const [faulted] = p.requests({ rule });
      expect(faulted?.forwarded).toBe(false);
      const look = p.log.find((r) => r.seq > faulted!.seq && r.method === 'HEAD' && r.path === faulted!.path);
      expect(look?.upstreamStatus).toBe(200);
      const again = p.log.find((r) => r.seq > look!.seq && r.method === 'DELETE' && r.path === faulted!.path);
      expect(again).toMatchObject({ forwarded: true, upstreamStatus: 202 });
    }
    await expectListedGoneSiblingsKept('dropped', digests);
  });

  it('gives up with exit 1 and a clear message after a bounded number of retries when the registry answers 503 forever', async () => {
    const p = await through([{ name: 'down', path: /./, fault: { type: 'status', status: 503 } }], { retries: 2 });
    await seed('unavailable-forever', p.host);
    const before = snapshotStorage(registry.storageRoot);
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`registry ${p.host} failed with a server error (GET ${p.url}/v2/ → 503`);
    expect(result.stderr).toContain('Hint: see the registry log; retry once it is healthy');
    // The first request and its 2 retries, then nothing more: no DELETE was ever tried.
    expect(p.log.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v2/', 'GET /v2/', 'GET /v2/']);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });

  it('fails with a timeout naming the URL when an answer takes longer than timeoutSeconds', async () => {
    const p = await through([{ name: 'slow', method: 'GET', path: /\/tags\/list/, fault: { type: 'delay', ms: 5_000 } }], { timeoutSeconds: 0.5, retries: 1 });
    await seed('slow', p.host);
    const result = await workspace.rc('clean');
    expect(result.exitCode).toBe(1);
    // What happened and which request, whatever detail the transport adds in between.
    expect(result.stderr).toMatch(new RegExp(`registry ${escape(p.host)} did not answer in time.*\\(GET ${escape(p.url)}/v2/slow/(web|api|worker)/tags/list\\)`));
    expect(result.stderr).toContain('Hint: the registry is overloaded or the network is slow');
    expect(p.count({ method: 'DELETE' })).toBe(0);
    expect(await listTags(registry.url, 'slow/web')).toEqual(['current', 'old']);
  });
});

describe('rc ls on an unreliable network', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let proxy: FaultProxy | undefined;

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
    for (const repository of ['ls/a', 'ls/b', 'ls/c', 'ls/d']) {
      await pushImage(registry.url, repository, ['1', '2'], makeImage({ seed: `${repository}:1` }));
      await pushImage(registry.url, repository, ['3'], makeImage({ seed: `${repository}:3` }));
    }
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    workspace?.remove();
  });

  it('lists every repository, tag and digest although connections drop at random', async () => {
    const direct = await workspace.rc('ls', '--registry', registry.host, '--digests', '--json');
    expect(direct.exitCode, direct.stderr).toBe(0);
    proxy = await startFaultProxy(registry.url, {
      seed: 42,
      rules: [
        { name: 'catalog', method: 'GET', path: /\/_catalog/, nth: [1], fault: { type: 'reset' } },
        { name: 'random', method: ['GET', 'HEAD'], path: /\/(tags\/list|manifests\/)/, probability: 0.4, limit: 4, fault: { type: 'reset' } },
      ],
    });
    const result = await workspace.rc('ls', '--registry', proxy.host, '--digests', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const listed = parseReport<{ registries: Array<{ repositories: unknown[]; error?: string }> }>(result).registries[0];
    const expected = parseReport<{ registries: Array<{ repositories: unknown[] }> }>(direct).registries[0];
    expect(listed?.error).toBeUndefined();
    expect(listed?.repositories).toEqual(expected?.repositories);
    expect(listed?.repositories).toHaveLength(4);
    expect(proxy.count({ rule: 'catalog', fate: 'reset' })).toBe(1);
    expect(proxy.count({ rule: 'random', fate: 'reset' })).toBeGreaterThanOrEqual(2);
  });
});
