import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../testkit/fault-proxy/fault-proxy.js';
import { makeImage, pushImage } from '../../testkit/images.js';
import { listTags } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { parseReport, type CleanReportJson } from '../resilience/support.js';
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

  /** Pushes `old` and `new` (distinct images) to `repository`; returns its `_uploads` directory and what it holds. */
  async function pushOldAndNew(repository: string): Promise<{ uploads: string; uploadsBefore: string[] }> {
    await pushImage(registry.url, repository, 'old', makeImage({ seed: `${repository}:old` }));
    await pushImage(registry.url, repository, 'new', makeImage({ seed: `${repository}:new` }));
    const uploads = path.join(registry.storageRoot, 'docker/registry/v2/repositories', repository, '_uploads');
    return { uploads, uploadsBefore: readdirSync(uploads) };
  }

  /** Cleans `repository:old` through `through` with the storage configured, and checks that exactly `new` is left. */
  async function cleanOld(repository: string, through: FaultProxy): Promise<CleanReportJson> {
    workspace.writeConfig(filesystemConfig(registry));
    workspace.writeList([`${through.host}/${repository}:old`]);
    const result = await workspace.rc('clean', '--no-gc', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseReport(result);
    expect(report.summary).toMatchObject({ deleted: 1, failed: 0 });
    expect(await listTags(registry.url, repository)).toEqual(['new']);
    return report;
  }

  it('starts the storage proof while the deletion probe is still unanswered, and leaves no upload behind', async () => {
    const { uploads, uploadsBefore } = await pushOldAndNew('probed/app');

    await cleanOld('probed/app', proxy);

    const [deletionProbe] = proxy.requests({ rule: 'slow-probe' });
    const [upload] = proxy.requests({ method: 'POST', path: /\/probed\/app\/blobs\/uploads\/$/ });
    expect(deletionProbe?.doneAt, 'the deletion probe was not sent').toBeDefined();
    expect(upload, 'no upload was started to prove the storage').toBeDefined();
    expect(upload!.receivedAt, 'the upload waited for the deletion probe').toBeLessThan(deletionProbe!.doneAt!);
    expect(readdirSync(uploads), 'the upload of the storage proof was left behind').toEqual(uploadsBefore);
  });

  it('deletes without waiting for the upload\'s cancel, and has it cleared away before it ends', async () => {
    const { uploads, uploadsBefore } = await pushOldAndNew('cancelled/app');
    const slowCancel = await startFaultProxy(registry.url, {
      rules: [{ name: 'slow-cancel', method: 'DELETE', path: /\/blobs\/uploads\//, fault: { type: 'delay', ms: slowMs } }],
    });
    try {
      await cleanOld('cancelled/app', slowCancel);

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
    await pushOldAndNew('uncancelled/app');
    const refusedCancel = await startFaultProxy(registry.url, {
      rules: [{ name: 'refused-cancel', method: 'DELETE', path: /\/blobs\/uploads\//, fault: { type: 'status', status: 400 } }],
    });
    try {
      const report = await cleanOld('uncancelled/app', refusedCancel);

      const [cancel] = refusedCancel.requests({ rule: 'refused-cancel' });
      expect(cancel, 'the upload was not cancelled').toBeDefined();
      const id = /\/blobs\/uploads\/([^/?]+)/.exec(cancel!.path)![1];
      expect(report.warnings).toContainEqual(expect.stringContaining(`uncancelled/app/_uploads/${id}) could not be cleared away`));
    } finally {
      await refusedCancel.close();
    }
  });
});
