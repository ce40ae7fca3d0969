import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../testkit/fault-proxy/fault-proxy.js';
import { makeImage, pushImage } from '../../testkit/images.js';
import { listTags } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { parseReport } from '../resilience/support.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';

/**
 * Before deleting, rc asks the registry whether it deletes (a DELETE of a digest that cannot
 * exist) and proves the configured storage is its own (an upload that must show up there). On a
 * registry a long round trip away, one waiting for the other costs a round trip of every clean,
 * and so would waiting for the upload's cancel before the first deletion.
 */
describe('rc clean: the registry probed for deletion and for its storage at once', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let proxy: FaultProxy;
  const slowMs = 400;

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = createWorkspace();
    // Only the deletion probe's answer is slow: what the upload does meanwhile shows whether it waited.
    proxy = await startFaultProxy(registry.url, {
      rules: [{ name: 'slow-probe', method: 'DELETE', path: /\/manifests\/sha256:0{64}$/, fault: { type: 'delay', ms: slowMs } }],
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    workspace?.remove();
  });

  it('starts the storage proof while the deletion probe is still unanswered, and leaves no upload behind', async () => {
    await pushImage(registry.url, 'probed/app', 'old', makeImage({ seed: 'probed/app:old' }));
    await pushImage(registry.url, 'probed/app', 'new', makeImage({ seed: 'probed/app:new' }));
    workspace.writeConfig(filesystemConfig(registry));
    workspace.writeList([`${proxy.host}/probed/app:old`]);
    const uploads = path.join(registry.storageRoot, 'docker/registry/v2/repositories/probed/app/_uploads');
    const uploadsBefore = readdirSync(uploads);

    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseReport(result).summary).toMatchObject({ deleted: 1, failed: 0 });
    expect(await listTags(registry.url, 'probed/app')).toEqual(['new']);

    const [deletionProbe] = proxy.requests({ rule: 'slow-probe' });
    const [upload] = proxy.requests({ method: 'POST', path: /\/probed\/app\/blobs\/uploads\/$/ });
    expect(deletionProbe?.doneAt, 'the deletion probe was not sent').toBeDefined();
    expect(upload, 'no upload was started to prove the storage').toBeDefined();
    expect(upload!.receivedAt, 'the upload waited for the deletion probe').toBeLessThan(deletionProbe!.doneAt!);
    expect(readdirSync(uploads), 'the upload of the storage proof was left behind').toEqual(uploadsBefore);
  });

  it('deletes without waiting for the upload\'s cancel, and has it cleared away before it ends', async () => {
    await pushImage(registry.url, 'cancelled/app', 'old', makeImage({ seed: 'cancelled/app:old' }));
    await pushImage(registry.url, 'cancelled/app', 'new', makeImage({ seed: 'cancelled/app:new' }));
    const slowCancel = await startFaultProxy(registry.url, {
      rules: [{ name: 'slow-cancel', method: 'DELETE', path: /\/blobs\/uploads\//, fault: { type: 'delay', ms: slowMs } }],
    });
    try {
      workspace.writeConfig(filesystemConfig(registry));
      workspace.writeList([`${slowCancel.host}/cancelled/app:old`]);
      const uploads = path.join(registry.storageRoot, 'docker/registry/v2/repositories/cancelled/app/_uploads');
      const uploadsBefore = readdirSync(uploads);

      const result = await workspace.rc('clean', '--no-gc', '--json');
      expect(result.exitCode, result.stderr).toBe(0);
      expect(parseReport(result).summary).toMatchObject({ deleted: 1, failed: 0 });
      expect(await listTags(registry.url, 'cancelled/app')).toEqual(['new']);

      const [cancel] = slowCancel.requests({ rule: 'slow-cancel' });
      const [deletion] = slowCancel.requests({ method: 'DELETE', path: /\/cancelled\/app\/manifests\/sha256:(?!0{64})/ });
      expect(cancel?.doneAt, 'the upload was not cancelled').toBeDefined();
      expect(deletion, 'the image was not deleted by digest').toBeDefined();
      expect(deletion!.receivedAt, 'the deletion waited for the cancel').toBeLessThan(cancel!.doneAt!);
      expect(readdirSync(uploads), 'rc ended before the upload was cleared away').toEqual(uploadsBefore);
    } finally {
      await slowCancel.close();
    }
  });

  it('warns, and still deletes, when the upload cannot be cancelled once the storage is proven', async () => {
    await pushImage(registry.url, 'uncancelled/app', 'old', makeImage({ seed: 'uncancelled/app:old' }));
    await pushImage(registry.url, 'uncancelled/app', 'new', makeImage({ seed: 'uncancelled/app:new' }));
    const refusedCancel = await startFaultProxy(registry.url, {
      rules: [{ name: 'refused-cancel', method: 'DELETE', path: /\/blobs\/uploads\//, fault: { type: 'status', status: 400 } }],
    });
    try {
      workspace.writeConfig(filesystemConfig(registry));
      workspace.writeList([`${refusedCancel.host}/uncancelled/app:old`]);

      const result = await workspace.rc('clean', '--no-gc', '--json');
      expect(result.exitCode, result.stderr).toBe(0);
      const report = parseReport(result);
      expect(report.summary).toMatchObject({ deleted: 1, failed: 0 });
      expect(await listTags(registry.url, 'uncancelled/app')).toEqual(['new']);
      const [cancel] = refusedCancel.requests({ rule: 'refused-cancel' });
      expect(cancel, 'the upload was not cancelled').toBeDefined();
      const id = /\/blobs\/uploads\/([^/?]+)/.exec(cancel!.path)![1];
      expect(report.warnings).toContainEqual(expect.stringContaining(`uncancelled/app/_uploads/${id}) could not be cleared away`));
    } finally {
      await refusedCancel.close();
    }
  });
});
