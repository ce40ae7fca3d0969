import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DockerEngine,
  REGISTRY_3_CONFIG_PATH,
  type RegistryContainer,
  type RegistryImage,
  docker,
  ensureDockerEngine,
  ensureRegistryImage,
  removeAllRegistryContainers,
  startRegistryContainer,
} from '../../testkit/docker/index.js';
import { makeImage, makeLayer } from '../../testkit/images.js';
import { listTags, pullImage } from '../../testkit/pull.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';
import { blobDataStored, cleanJson, containerState, expectWritable, leftoverContainers, removeStandIns, statusOf } from './docker-support.js';

const SLOW = { timeout: 120_000 };

let engine: DockerEngine;
let image2: RegistryImage;
let image3: RegistryImage;
const started: RegistryContainer[] = [];
const workspaces: Workspace[] = [];
const tags: string[] = [];

beforeAll(async () => {
  engine = await ensureDockerEngine();
  image2 = await ensureRegistryImage(engine);
  image3 = await ensureRegistryImage(engine, { configPath: REGISTRY_3_CONFIG_PATH });
}, 240_000);

afterEach(async () => {
  for (const registry of started.splice(0)) {
    await removeStandIns(engine, registry.name).catch(() => undefined);
    await registry.remove();
  }
  for (const workspace of workspaces.splice(0)) workspace.remove();
  // Only the tag goes: the images keep their own references.
  for (const tag of tags.splice(0)) await docker(['rmi', tag], engine.env).catch(() => undefined);
}, 120_000);

afterAll(removeAllRegistryContainers, 120_000);

/**
 * `docker run registry:latest` months ago, `docker pull registry:latest` since: the container
 * still runs the old image while the tag names a newer one (here: the 3.x layout, whose config
 * moved to /etc/distribution/config.yml). GC and the read-only stand-in must use the image the
 * container runs, not whatever the tag names today.
 */
describe('rc clean through a registry container whose image tag has since moved on', SLOW, () => {
  for (const mode of ['stopped', 'readonly'] as const) {
    it(`with gc.mode ${mode} collects garbage with the image the container runs, not the tag's newer image`, async () => {
      const tag = `rc-test/backends-moving:${process.pid}-${mode}`;
      tags.push(tag);
      await docker(['tag', image2.reference, tag], engine.env);
      const registry = await startRegistryContainer(engine, { image: tag });
      started.push(registry);
      const old = makeImage({ seed: `moved-${mode}/old`, layers: [makeLayer(`moved-${mode}/base`, 2048), makeLayer(`moved-${mode}/top`, 4096)] });
      const keep = makeImage({ seed: `moved-${mode}/keep`, layers: [makeLayer(`moved-${mode}/base`, 2048)] });
      await registry.push('app', 'old', old);
      await registry.push('app', 'keep', keep);
      // The pull that moved the tag.
      await docker(['tag', image3.reference, tag], engine.env);

      const workspace = createWorkspace();
      workspaces.push(workspace);
      workspace.writeList([`${registry.host}/app:old`]);
      // A stand-in that cannot start must not keep the test waiting the default two minutes.
      workspace.writeConfig({ storage: { backend: 'docker', container: registry.name }, gc: { mode }, restart: { timeoutSeconds: 20 } });

      const { exitCode, report } = await cleanJson(workspace, engine);
      expect(report.error?.message).toBeUndefined();
      expect(exitCode).toBe(0);
      expect(statusOf(report, registry.host, 'app:old')).toBe('deleted');
      expect(report.gc[0]).toMatchObject({ status: 'collected', mode, cameBack: true });
      expect(report.gc[0]!.result!.blobsDeleted).toBe(3);
      expect(await blobDataStored(registry, old.layers[1]!.digest)).toBe(false);

      expect(await listTags(registry.url, 'app')).toEqual(['keep']);
      expect((await pullImage(registry.url, 'app', 'keep')).digest).toBe(keep.digest);
      await expectWritable(registry, `after-moved-tag-${mode}`);
      expect((await containerState(engine, registry.name)).running).toBe(true);
      expect(await leftoverContainers(engine, registry)).toEqual([]);
    });
  }
});
