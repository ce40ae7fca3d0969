import { describe, expect, it } from 'vitest';
import { makeImage, makeLayer } from '../../testkit/images.js';
import { listTags, pullImage } from '../../testkit/pull.js';
import { blobDataStored, blobHeadStatus, cleanJson, containerState, dockerSuite, expectWritable, leftoverContainers, statusOf } from './docker-support.js';

const SLOW = { timeout: 120_000 };
const MODES = ['online', 'readonly', 'stopped'] as const;

const suite = dockerSuite();

/** A registry container with `app:old` (to delete) and `app:keep` (to keep), and a workspace listing `app:old`. */
async function registryWithApp(seed: string, storage: { volume?: true } = {}) {
  const registry = await suite.startRegistry(storage);
  const old = makeImage({ seed: `${seed}/old`, layers: [makeLayer(`${seed}/base`, 2048), makeLayer(`${seed}/old-top`, 4096)] });
  const keep = makeImage({ seed: `${seed}/keep`, layers: [makeLayer(`${seed}/base`, 2048), makeLayer(`${seed}/keep-top`, 1024)] });
  await registry.push('app', 'old', old);
  await registry.push('app', 'keep', keep);
  const workspace = suite.workspace();
  workspace.writeList([`${registry.host}/app:old`]);
  return { registry, workspace, old, keep };
}

describe('rc clean through the registry container in each GC mode', SLOW, () => {
  for (const mode of MODES) {
    it(`with gc.mode ${mode} deletes, collects, and leaves the registry serving writable with nothing left behind`, async () => {
      const { registry, workspace, old, keep } = await registryWithApp(`mode-${mode}`, mode === 'stopped' ? { volume: true } : {});
      const before = await containerState(suite.engine, registry.name);
      workspace.writeConfig({ storage: { backend: 'docker', container: registry.name }, gc: { mode } });

      const { exitCode, report } = await cleanJson(workspace, suite.engine);
      expect(report.error?.message).toBeUndefined();
      expect(exitCode).toBe(0);
      expect(statusOf(report, registry.host, 'app:old')).toBe('deleted');
      expect(report.gc).toHaveLength(1);
      expect(report.gc[0]!.mode).toBe(mode);
      expect(report.gc[0]).toMatchObject({ status: 'collected', result: { ok: true } });
      // The old image's manifest, config and own layer; the shared base stays.
      expect(report.gc[0]!.result!.blobsDeleted).toBe(3);
      expect(report.gc[0]!.storage!.after!.bytes).toBeLessThan(report.gc[0]!.storage!.before.bytes);
      expect(report.restart).toEqual([expect.objectContaining({ status: 'restarted' })]);
      if (mode !== 'online') expect(report.gc[0]!.cameBack).toBe(true);
      if (mode === 'online') expect(report.warnings).toContainEqual(expect.stringContaining('a push landing meanwhile can lose its blobs'));

      expect(await listTags(registry.url, 'app')).toEqual(['keep']);
      expect(await blobDataStored(registry, old.layers[1]!.digest)).toBe(false);
      expect(await blobDataStored(registry, old.layers[0]!.digest)).toBe(true);
      // The restart dropped the blob cache: the swept layer is absent to clients too, so a re-push uploads it.
      expect(await blobHeadStatus(registry, 'app', old.layers[1]!.digest)).toBe(404);
      expect((await pullImage(registry.url, 'app', 'keep')).digest).toBe(keep.digest);
      await expectWritable(registry, `after-${mode}`);

      const after = await containerState(suite.engine, registry.name);
      expect(after.id).toBe(before.id);
      expect(after.running).toBe(true);
      expect(await leftoverContainers(suite.engine, registry)).toEqual([]);
    });
  }
});

describe('rc clean through the registry container when its garbage collection fails', SLOW, () => {
  for (const mode of MODES) {
    it(`with gc.mode ${mode} exits 1 saying GC failed, and the registry is running again and writable`, async () => {
      const { registry, workspace, keep } = await registryWithApp(`gcfail-${mode}`);
      const before = await containerState(suite.engine, registry.name);
      // Discovery still works (the binary answers --version, the root is given), but GC gets a config that does not exist.
      workspace.writeConfig({
        storage: { backend: 'docker', container: registry.name, configPath: '/nonexistent/rc-test/config.yml', root: '/var/lib/registry' },
        gc: { mode },
      });

      const { exitCode, stderr, report } = await cleanJson(workspace, suite.engine);
      expect(exitCode).toBe(1);
      expect(report.error?.message).toMatch(/garbage collection on \S+ failed with exit status [1-9]/);
      expect(report.error?.hint).toContain('/nonexistent/rc-test/config.yml');
      expect(stderr).not.toContain('could not be brought back');
      expect(statusOf(report, registry.host, 'app:old')).toBe('deleted');
      expect(report.gc[0]).toMatchObject({ status: 'failed', mode });
      if (mode !== 'online') expect(report.gc[0]!.cameBack).toBe(true);
      expect(report.restart[0]).toMatchObject({ status: 'restarted' });

      const after = await containerState(suite.engine, registry.name);
      expect(after.id).toBe(before.id);
      expect(after.running).toBe(true);
      expect(await leftoverContainers(suite.engine, registry)).toEqual([]);
      expect((await pullImage(registry.url, 'app', 'keep')).digest).toBe(keep.digest);
      await expectWritable(registry, `after-failed-${mode}`);
    });
  }
});

