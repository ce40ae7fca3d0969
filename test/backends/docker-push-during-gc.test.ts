import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { call, sha256Digest, v2Url } from '../../testkit/http.js';
import { type Image, makeImage, makeLayer, pushBlob, pushImage } from '../../testkit/images.js';
import { listTags, PullError, pullImage } from '../../testkit/pull.js';
import { cleanJson, containerState, dockerSuite, expectWritable, leftoverContainers, statusOf } from './docker-support.js';

const SLOW = { timeout: 120_000 };
/** Safety bounds for the push loop; rc ends it by exiting long before either. */
const MAX_PUSHES = 400;
const MAX_LOOP_MS = 90_000;

const suite = dockerSuite();

interface PushAttempt {
  tag: string;
  image: Image;
  /** The client saw every request of the push succeed. */
  reportedSuccess: boolean;
  error?: string;
}

/** A blob upload left open: POST, then PATCH of the first half, as a client streaming a big layer does. */
async function openUpload(registryUrl: string, repository: string, data: Buffer): Promise<string> {
  const started = await call(v2Url(registryUrl, `${repository}/blobs/uploads/`), { method: 'POST' });
  expect(started.status).toBe(202);
  const patched = await call(new URL(started.headers.location!, registryUrl).toString(), {
    method: 'PATCH',
    headers: { 'content-type': 'application/octet-stream' },
    body: data.subarray(0, Math.floor(data.length / 2)),
  });
  expect(patched.status).toBe(202);
  return new URL(patched.headers.location!, registryUrl).toString();
}

/** Finishes the upload with the second half; whether the registry took it. */
async function finishUpload(location: string, data: Buffer, digest: string): Promise<{ ok: boolean; status?: number; error?: string }> {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  try {
    const response = await call(url.toString(), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: data.subarray(Math.floor(data.length / 2)),
    });
    return { ok: response.status === 201, status: response.status };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

describe('pushes while rc collects garbage through the registry container', SLOW, () => {
  for (const mode of ['readonly', 'stopped'] as const) {
    it(`with gc.mode ${mode} every push either fails or, when it reported success, pulls completely afterwards`, async () => {
      const registry = await suite.startRegistry();
      const old = makeImage({ seed: `inflight-${mode}/old`, layers: 2, layerSize: 4096 });
      const keep = makeImage({ seed: `inflight-${mode}/keep` });
      await registry.push('app', 'old', old);
      await registry.push('app', 'keep', keep);
      const workspace = suite.workspace();
      workspace.writeList([`${registry.host}/app:old`]);
      workspace.writeConfig({ storage: { backend: 'docker', container: registry.name }, gc: { mode } });

      // An upload begun before the maintenance window, to be finished after it.
      const streamed = makeLayer(`inflight-${mode}/streamed`, 64 * 1024);
      const openLocation = await openUpload(registry.url, 'inflight', streamed.data);
      // A push whose blobs land before the window and whose manifest comes after it.
      const straddling = makeImage({ seed: `inflight-${mode}/straddling`, layerSize: 2048 });
      for (const blob of straddling.blobs) expect(await pushBlob(registry.url, 'inflight', blob)).toBe('uploaded');

      let rcExited = false;
      const clean = cleanJson(workspace, suite.engine).finally(() => {
        rcExited = true;
      });
      const attempts: PushAttempt[] = [];
      const loopStarted = Date.now();
      for (let i = 0; !rcExited && i < MAX_PUSHES && Date.now() - loopStarted < MAX_LOOP_MS; i++) {
        const tag = `push-${i}`;
        const image = makeImage({ seed: `inflight-${mode}/${i}`, layerSize: 512 });
        try {
          await pushImage(registry.url, 'inflight', tag, image);
          attempts.push({ tag, image, reportedSuccess: true });
        } catch (error) {
          attempts.push({ tag, image, reportedSuccess: false, error: (error as Error).message });
        }
        await sleep(20);
      }
      const { exitCode, report } = await clean;
      expect(report.error?.message).toBeUndefined();
      expect(exitCode).toBe(0);
      expect(statusOf(report, registry.host, 'app:old')).toBe('deleted');
      expect(report.gc[0]).toMatchObject({ status: 'collected', mode, cameBack: true });
      expect(attempts.length).toBeGreaterThan(0);

      // Never a "successful" push that is broken; and a push that failed left no broken tag either.
      const tags = new Set((await listTags(registry.url, 'inflight')) ?? []);
      const broken: string[] = [];
      for (const attempt of attempts) {
        if (!attempt.reportedSuccess && !tags.has(attempt.tag)) continue;
        if (attempt.reportedSuccess && !tags.has(attempt.tag)) {
          broken.push(`${attempt.tag}: reported pushed, but the tag is gone`);
          continue;
        }
        try {
          const pulled = await pullImage(registry.url, 'inflight', attempt.tag);
          if (pulled.digest !== attempt.image.digest) broken.push(`${attempt.tag}: pulls ${pulled.digest}, pushed ${attempt.image.digest}`);
        } catch (error) {
          // A push cut off when the registry stopped may leave its tag naming no manifest (the link was being
          // written). The pusher saw it fail and the tag serves nothing, so nothing incomplete is ever pulled;
          // anything else — a manifest whose blobs are gone — is the broken image this test is about.
          const dangling = !attempt.reportedSuccess && error instanceof PullError && error.problem === 'manifest-missing';
          if (!dangling) broken.push(`${attempt.tag} (${attempt.reportedSuccess ? 'reported pushed' : 'failed, but tagged'}): ${(error as Error).message}`);
        }
      }
      expect(broken).toEqual([]);

      // The upload begun before the window: refused now, or taken — and then whole.
      const finished = await finishUpload(openLocation, streamed.data, streamed.digest);
      if (finished.ok) {
        const blob = await call(v2Url(registry.url, `inflight/blobs/${streamed.digest}`));
        expect(blob.status).toBe(200);
        expect(sha256Digest(blob.body)).toBe(streamed.digest);
        const image = makeImage({ seed: `inflight-${mode}/streamed-image`, layers: [streamed] });
        await pushImage(registry.url, 'inflight', 'streamed', image);
        expect((await pullImage(registry.url, 'inflight', 'streamed')).digest).toBe(image.digest);
      }

      // The manifest of the push that straddled the window: refused (its blobs were unreferenced
      // during GC), or taken — and then whole.
      const manifest = await call(v2Url(registry.url, 'inflight/manifests/straddling'), {
        method: 'PUT',
        headers: { 'content-type': straddling.mediaType },
        body: straddling.bytes,
      });
      if (manifest.status === 201) expect((await pullImage(registry.url, 'inflight', 'straddling')).digest).toBe(straddling.digest);
      else expect(manifest.status).toBeGreaterThanOrEqual(400);

      // And after it all, the registry is its writable self, with nothing of the window left.
      expect((await pullImage(registry.url, 'app', 'keep')).digest).toBe(keep.digest);
      await expectWritable(registry, `after-pushes-${mode}`);
      expect((await containerState(suite.engine, registry.name)).running).toBe(true);
      expect(await leftoverContainers(suite.engine, registry)).toEqual([]);
    });
  }
});
