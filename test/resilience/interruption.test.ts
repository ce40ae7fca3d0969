import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../testkit/fault-proxy/fault-proxy.js';
import { makeImage, pushImage, type Image } from '../../testkit/images.js';
import { catalog, listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { blobStored } from '../support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';
import { manifestDeletePath, parseReport, startRc, waitUntil, type CleanReportJson } from './support.js';

/**
 * Each listed image is either gone for good or still whole: never a tag gone with its manifest
 * left behind, or the reverse. `sharedWith` is a kept tag on the same digest, which must keep
 * the manifest whole either way.
 */
async function expectGoneOrWhole(registry: RegistryServer, repository: string, tag: string, digest: string, sharedWith?: string): Promise<'gone' | 'whole'> {
  const tags = (await listTags(registry.url, repository)) ?? [];
  const byDigest = await manifestDigest(registry.url, repository, digest);
  if (sharedWith !== undefined) {
    expect(await manifestDigest(registry.url, repository, sharedWith)).toBe(digest);
    expect((await pullImage(registry.url, repository, sharedWith)).digest).toBe(digest);
  }
  if (!tags.includes(tag)) {
    if (sharedWith === undefined) expect(byDigest, `${repository}:${tag} lost its tag but its manifest ${digest} is still served`).toBeNull();
    return 'gone';
  }
  expect(await manifestDigest(registry.url, repository, tag)).toBe(digest);
  const pulled = await pullImage(registry.url, repository, tag);
  expect(pulled.digest).toBe(digest);
  return 'whole';
}

interface Listed {
  repository: string;
  digest: string;
  image: Image;
  /** A tag on the same digest that stays. */
  sharedWith?: string;
}

describe('interrupting rc clean while it deletes', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let proxy: FaultProxy | undefined;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  beforeEach(() => {
    workspace = createWorkspace();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    workspace.remove();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  /**
   * Five repositories: r0–r3 lose `old` (deleted by digest) and keep `keep`; r4 loses `old`
   * while `alias`, on the same digest, stays. Every DELETE's answer is held 1.5 s by the proxy.
   */
  async function setUp(prefix: string) {
    const listed: Listed[] = [];
    for (let i = 0; i < 5; i++) {
      const repository = `${prefix}/r${i}`;
      const image = makeImage({ seed: `${repository}:old`, layers: 2 });
      const tags = i === 4 ? ['old', 'alias'] : ['old'];
      listed.push({ repository, digest: await pushImage(registry.url, repository, tags, image), image, ...(i === 4 && { sharedWith: 'alias' }) });
      if (i < 4) await pushImage(registry.url, repository, 'keep', makeImage({ seed: `${repository}:keep` }));
    }
    proxy = await startFaultProxy(registry.url, { rules: [{ name: 'slow-delete', method: 'DELETE', path: manifestDeletePath, fault: { type: 'delay', ms: 1_500 } }] });
    workspace.writeConfig({ ...filesystemConfig(registry), registries: { [proxy.host]: {} } });
    workspace.writeList(listed.map((l) => `${proxy!.host}/${l.repository}:old`));
    return { listed, proxy };
  }

  async function expectSiblingsWhole(prefix: string) {
    for (let i = 0; i < 4; i++) await pullImage(registry.url, `${prefix}/r${i}`, 'keep');
    await pullImage(registry.url, `${prefix}/r4`, 'alias');
  }

  /** Runs rc, sends `signal` once the proxy has seen the first real DELETE, and waits for rc to exit. */
  async function interruptAtFirstDelete(p: FaultProxy, signal: NodeJS.Signals, args: string[], times = 1) {
    const rc = startRc(['clean', '--concurrency', '1', ...args], { cwd: workspace.dir });
    await p.waitFor((r) => r.method === 'DELETE' && manifestDeletePath.test(r.path), 30_000, 'DELETE of a listed image');
    rc.child.kill(signal);
    for (let i = 1; i < times; i++) {
      // A second signal sent before the first is handled would merge with it.
      await waitUntil(() => rc.stderr().includes('Interrupted:') || rc.child.exitCode !== null, 10_000, 'rc acknowledged the signal');
      rc.child.kill(signal);
    }
    const result = await rc.result;
    expect(result.killed, 'rc had to be killed').toBe(false);
    return result;
  }

  /** The rerun of the same list: exit 0, the rest deleted, what the first run deleted reported absent. */
  async function expectRerunFinishes(listed: Listed[], deletedBefore: Set<string>, prefix: string) {
    proxy?.clearRules();
    const rerun = await workspace.rc('clean', '--json');
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const report = parseReport(rerun);
    for (const { repository, digest, sharedWith } of listed) {
      const entry = report.images.find((i) => i.image.endsWith(`/${repository}:old`));
      expect(entry?.status).toBe(deletedBefore.has(repository) ? 'absent' : 'deleted');
      expect(await expectGoneOrWhole(registry, repository, 'old', digest, sharedWith)).toBe('gone');
    }
    expect(report.gc[0]).toMatchObject({ status: 'collected' });
    expect(report.restart[0]).toMatchObject({ status: 'restarted' });
    // The layers only the deleted images had are collected now; r4's stay with its alias.
    for (const { image } of listed.slice(0, 4)) for (const layer of image.layers) expect(blobStored(registry.storageRoot, layer.digest)).toBe(false);
    await expectSiblingsWhole(prefix);
  }

  it('on Ctrl-C finishes the DELETE in flight, starts no other, says in the JSON report what was and was not done, and a rerun finishes the job', async () => {
    const { listed, proxy: p } = await setUp('sigint');
    const result = await interruptAtFirstDelete(p, 'SIGINT', ['--json']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Interrupted: finishing requests in flight, starting nothing new');
    const report = parseReport(result);
    expect(report.error).toMatchObject({ message: 'interrupted', exitCode: 1 });
    expect(report.skipped).toMatchObject({ prune: 'not run: an earlier step failed', gc: 'not run: an earlier step failed' });

    const deleted = new Set<string>();
    for (const { repository, digest, sharedWith } of listed) {
      const entry = report.images.find((i) => i.image === `${p.host}/${repository}:old`);
      expect(['deleted', 'not-reached']).toContain(entry?.status);
      const state = await expectGoneOrWhole(registry, repository, 'old', digest, sharedWith);
      expect(state).toBe(entry?.status === 'deleted' ? 'gone' : 'whole');
      if (state === 'gone') deleted.add(repository);
    }
    // The DELETE in flight finished and was reported; nothing was started after the signal.
    expect(deleted.size).toBeGreaterThanOrEqual(1);
    expect(deleted.size).toBeLessThan(listed.length);
    const deletes = p.requests({ method: 'DELETE', path: manifestDeletePath });
    expect(deletes.every((d) => d.upstreamStatus === 202 && d.fate === 'forwarded')).toBe(true);
    expect(deletes).toHaveLength(report.images.filter((i) => i.status === 'deleted' && i.method === 'manifest-delete').length);
    await expectSiblingsWhole('sigint');

    await expectRerunFinishes(listed, deleted, 'sigint');
  });

  it('on SIGTERM behaves like Ctrl-C, and the text report lists what was deleted and what was not reached', async () => {
    const { listed, proxy: p } = await setUp('sigterm');
    const result = await interruptAtFirstDelete(p, 'SIGTERM', []);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Interrupted: finishing requests in flight, starting nothing new');
    expect(result.stderr).toContain('Error: interrupted');
    const totals = /^(\d+) deleted, 0 absent, 0 failed, (\d+) not reached$/m.exec(result.stdout);
    expect(totals, result.stdout).not.toBeNull();
    expect(Number(totals![1]) + Number(totals![2])).toBe(listed.length);

    const deleted = new Set<string>();
    for (const { repository, digest, sharedWith } of listed) {
      const image = `${p.host}/${repository}:old`;
      const line = result.stdout.split('\n').find((l) => l.split(/\s+/)[1] === image);
      const status = line?.split(/\s+/)[0];
      expect(['deleted', 'not-reached']).toContain(status);
      const state = await expectGoneOrWhole(registry, repository, 'old', digest, sharedWith);
      expect(state).toBe(status === 'deleted' ? 'gone' : 'whole');
      if (state === 'gone') deleted.add(repository);
    }
    expect(deleted.size).toBe(Number(totals![1]));
    expect(deleted.size).toBeGreaterThanOrEqual(1);
    await expectSiblingsWhole('sigterm');

    await expectRerunFinishes(listed, deleted, 'sigterm');
  });

  it('quits at once on a second Ctrl-C with exit 1, still leaving no image half-deleted', async () => {
    const { listed, proxy: p } = await setUp('twice');
    const result = await interruptAtFirstDelete(p, 'SIGINT', ['--json'], 2);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Quit at once');
    // The DELETE already sent reaches the registry whether or not rc waits for its answer.
    await p.waitFor((r) => r.method === 'DELETE' && manifestDeletePath.test(r.path) && r.upstreamStatus !== undefined, 10_000, 'the DELETE in flight to be answered by the registry');
    for (const { repository, digest, sharedWith } of listed) await expectGoneOrWhole(registry, repository, 'old', digest, sharedWith);
    await expectSiblingsWhole('twice');
  });
});

describe('interrupting rc clean during garbage collection', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  const old = makeImage({ seed: 'gc-interrupt/old', layers: 2 });
  const second = makeImage({ seed: 'gc-interrupt/second', layers: 1 });

  beforeEach(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
    await pushImage(registry.url, 'app', 'old', old);
    await pushImage(registry.url, 'app', 'second', second);
    await pushImage(registry.url, 'app', 'kept', makeImage({ seed: 'gc-interrupt/kept' }));
  });
  afterEach(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  const started = () => path.join(workspace.dir, 'gc-started');

  /**
   * A gc.command that says it started (a marker file), then waits up to 20 s before running the
   * real garbage-collect. On SIGTERM or SIGINT (execa's cancel) it stops its sleep and dies by
   * SIGTERM, as `docker-registry garbage-collect` itself does.
   */
  function slowGc(): string[] {
    const script = path.join(workspace.dir, 'slow-gc.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'sleep 20 &',
        'pid=$!',
        "trap 'kill $pid 2>/dev/null; trap - TERM INT; kill -TERM $$' TERM INT",
        // Only now, with the trap in place, may the test send its signal.
        `: > '${started()}'`,
        'wait $pid',
        'exec docker-registry garbage-collect "$@"',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    return [script, registry.configPath];
  }

  const config = (mode: 'online' | 'readonly' | 'stopped', gcCommand: string[]) => ({
    ...filesystemConfig(registry),
    gc: { command: gcCommand, mode },
    restart: { command: registry.restartCommand, readOnlyCommand: registry.readOnlyRestartCommand, stopCommand: registry.stopCommand, startCommand: registry.startCommand },
  });

  /** The registry answers, serves what it kept, and takes a push. */
  async function expectServingAndWritable(tag: string) {
    await pullImage(registry.url, 'app', 'kept');
    await pushImage(registry.url, 'after', tag, makeImage({ seed: `gc-interrupt/after/${tag}` }));
    await pullImage(registry.url, 'after', tag);
  }

  async function interruptGc(mode: 'online' | 'readonly' | 'stopped', signal: NodeJS.Signals): Promise<CleanReportJson> {
    workspace.writeConfig(config(mode, slowGc()));
    workspace.writeList([`${registry.host}/app:old`]);
    const restartsBefore = registry.restartCount();
    const rc = startRc(['clean', '--json'], { cwd: workspace.dir });
    await waitUntil(() => existsSync(started()) || rc.child.exitCode !== null, 30_000, 'garbage collection started');
    expect(existsSync(started()), `rc ended before garbage collection started:\n${rc.stderr()}`).toBe(true);
    rc.child.kill(signal);
    const result = await rc.result;
    expect(result.killed, 'rc had to be killed').toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Interrupted:');
    const report = parseReport(result);
    expect(report.images[0]).toMatchObject({ status: 'deleted' });
    // Garbage collection was cut short and the report says so.
    expect(report.gc[0]).toMatchObject({ status: 'failed', mode });
    expect(report.error?.message).toMatch(/garbage collection on \S+ was interrupted/);
    // Killed before it collected anything: the deleted image's blobs are still on disk.
    for (const blob of old.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(true);
    if (mode === 'online') {
      expect(report.restart[0]).toMatchObject({ status: 'restarted' });
      expect(registry.restartCount()).toBe(restartsBefore + 1);
    } else {
      expect(report.gc[0]).toMatchObject({ cameBack: true });
      expect(report.restart[0]).toMatchObject({ status: 'restarted', reason: `by the ${mode} garbage collection` });
    }
    expect(await catalog(registry.url)).toEqual(['app']);
    await expectServingAndWritable(`${mode}-${signal}`);
    return report;
  }

  /** The next clean that deletes something collects what the interrupted one left. */
  async function expectRerunCollects(mode: 'online' | 'readonly' | 'stopped') {
    workspace.writeConfig(config(mode, ['docker-registry', 'garbage-collect', registry.configPath]));
    workspace.writeList([`${registry.host}/app:old`, `${registry.host}/app:second`]);
    const rerun = await workspace.rc('clean', '--json');
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const report = parseReport(rerun);
    expect(report.images.map((i) => i.status)).toEqual(['absent', 'deleted']);
    expect(report.gc[0]).toMatchObject({ status: 'collected', mode });
    for (const blob of [...old.blobs, ...second.blobs]) expect(blobStored(registry.storageRoot, blob.digest)).toBe(false);
    expect(await listTags(registry.url, 'app')).toEqual(['kept']);
    await expectServingAndWritable(`${mode}-rerun`);
  }

  it('online: Ctrl-C kills the garbage collection, restarts the registry, and the next clean collects', async () => {
    await interruptGc('online', 'SIGINT');
    await expectRerunCollects('online');
  });

  it('readonly: Ctrl-C kills the garbage collection and leaves the registry serving and writable', async () => {
    await interruptGc('readonly', 'SIGINT');
    await expectRerunCollects('readonly');
  });

  it('stopped: Ctrl-C kills the garbage collection and starts the registry again, writable', async () => {
    await interruptGc('stopped', 'SIGINT');
    await expectRerunCollects('stopped');
  });

  it('stopped: SIGTERM during garbage collection behaves like Ctrl-C', async () => {
    await interruptGc('stopped', 'SIGTERM');
    await expectRerunCollects('stopped');
  });

  // Known limitation of the filesystem backend (it has no runtime.recover, so nothing marks
  // the registry's GC as owed): a rerun that finds every listed image already gone deletes
  // nothing, so it skips garbage collection, and the interrupted run's blobs stay on disk until
  // a later clean deletes something. This test pins what happens today; see the report.
  it('a rerun of the same list after an interrupted garbage collection finds nothing to delete and skips garbage collection, leaving the blobs on disk (known limitation)', async () => {
    await interruptGc('readonly', 'SIGINT');
    workspace.writeConfig(config('readonly', ['docker-registry', 'garbage-collect', registry.configPath]));
    const rerun = await workspace.rc('clean', '--json');
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const report = parseReport(rerun);
    expect(report.images.map((i) => i.status)).toEqual(['absent']);
    expect(report.skipped.gc).toBe('nothing was deleted');
    expect(report.gc).toEqual([]);
    for (const blob of old.blobs) expect(blobStored(registry.storageRoot, blob.digest)).toBe(true);
  });
});
