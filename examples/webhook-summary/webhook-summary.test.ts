import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { listTags, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { blobStored } from '../../test/support/storage-snapshot.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../../test/support/workspace.js';

const pluginFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.ts');

/** Secrets the receiver's URL carries; none of them may ever reach rc's output. */
const USER = 'robot';
const PASSWORD = 'pw-5ecret-do-not-print';
const PATH_TOKEN = 'T0KEN-in-the-path';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback HTTP receiver that records every request and answers with `status`. */
async function startReceiver(status = 200): Promise<{ server: Server; requests: Received[]; url: string; origin: string }> {
  const requests: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(status === 200 ? 'ok' : 'receiver is broken');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, requests, url: `http://${USER}:${PASSWORD}@127.0.0.1:${port}/hooks/${PATH_TOKEN}?channel=ops`, origin: `http://127.0.0.1:${port}` };
}

describe('the webhook-summary example plugin', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterEach(async () => {
    workspace?.remove();
    if (receiver) await new Promise((resolve) => receiver!.server.close(resolve));
    receiver = undefined;
  });
  afterAll(async () => {
    await registry?.stop();
  });

  /** A workspace whose config loads the plugin by its path relative to the config file, as a user would. */
  const setUp = (extra: Record<string, unknown> = {}) => {
    workspace = createWorkspace();
    const specifier = path.relative(workspace.dir, pluginFile);
    workspace.writeConfig({
      ...filesystemConfig(registry),
      plugins: [[specifier.startsWith('.') ? specifier : `./${specifier}`, { url: receiver!.url, headers: { 'x-team': 'platform' } }]],
      ...extra,
    });
  };

  const expectNoSecrets = (output: string) => {
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(PATH_TOKEN);
    expect(output).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
  };

  it('posts exactly one JSON document with every listed image’s outcome, and never prints the URL’s credentials', async () => {
    receiver = await startReceiver();
    await pushImage(registry.url, 'hook/app', '1', makeImage({ seed: 'hook/app/1' }));
    await pushImage(registry.url, 'hook/app', '2', makeImage({ seed: 'hook/app/2' }));
    setUp();
    workspace.writeList([`${registry.host}/hook/app:1`, `${registry.host}/hook/app:never-pushed`]);

    const result = await workspace.rc('clean');

    expect(result.exitCode, result.stderr).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests as [Received];
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`/hooks/${PATH_TOKEN}?channel=ops`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
    expect(request.headers['x-team']).toBe('platform');
    const summary = JSON.parse(request.body);
    expect(summary.images.map((i: { image: string; status: string }) => [i.image, i.status])).toEqual([
      [`${registry.host}/hook/app:1`, 'deleted'],
      [`${registry.host}/hook/app:never-pushed`, 'absent'],
    ]);
    expect(summary.summary).toMatchObject({ deleted: 1, absent: 1, failed: 0 });
    // Posted last: garbage collection and the restart are in it.
    expect(summary.gc[0]).toMatchObject({ status: 'collected' });
    expect(summary.restart[0]).toMatchObject({ status: 'restarted' });
    expect(summary.error).toBeUndefined();
    // The step's line names only where it posted, without path, query or credentials.
    expect(result.stderr).toContain(`Post the summary to ${receiver.origin}`);
    expectNoSecrets(result.stdout + result.stderr);
    expect(await listTags(registry.url, 'hook/app')).toEqual(['2']);
  });

  it('still posts the summary, with the error, when garbage collection fails', async () => {
    receiver = await startReceiver();
    await pushImage(registry.url, 'hook/gcfail', 'old', makeImage({ seed: 'hook/gcfail/old' }));
    await pushImage(registry.url, 'hook/gcfail', 'new', makeImage({ seed: 'hook/gcfail/new' }));
    const restarts = registry.restartCount();
    setUp({ gc: { command: ['sh', '-c', 'echo collecting; exit 3', 'gc'] } });
    workspace.writeList([`${registry.host}/hook/gcfail:old`]);

    const result = await workspace.rc('clean', '--json');

    expect(result.exitCode).toBe(1);
    const final = JSON.parse(result.stdout);
    expect(final.error.message).toContain('failed with exit status 3');
    expect(receiver.requests).toHaveLength(1);
    const summary = JSON.parse(receiver.requests[0]!.body);
    // What the receiver got is what --json printed.
    expect(summary.images).toEqual(final.images);
    expect(summary.images).toEqual([expect.objectContaining({ image: `${registry.host}/hook/gcfail:old`, status: 'deleted' })]);
    expect(summary.gc[0]).toMatchObject({ status: 'failed' });
    expect(summary.restart[0]).toMatchObject({ status: 'restarted' });
    // The receiver must learn that the run failed, and why.
    expect(summary.error).toMatchObject({ message: expect.stringContaining('failed with exit status 3'), exitCode: 1 });
    expect(registry.restartCount()).toBe(restarts + 1);
    expectNoSecrets(result.stdout + result.stderr);
  });

  it('a receiver that answers 500 fails the run with exit 1 naming the plugin and its step, after the registry was cleaned and restarted', async () => {
    receiver = await startReceiver(500);
    const gone = await pushImage(registry.url, 'hook/broken', 'old', makeImage({ seed: 'hook/broken/old' }));
    await pushImage(registry.url, 'hook/broken', 'kept', makeImage({ seed: 'hook/broken/kept' }));
    const restarts = registry.restartCount();
    setUp();
    workspace.writeList([`${registry.host}/hook/broken:old`]);

    const result = await workspace.rc('clean');

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('plugin webhook-summary, step webhook-summary');
    expect(result.stderr).toContain(`${receiver.origin} refused the summary: HTTP 500`);
    expect(receiver.requests).toHaveLength(1);
    expectNoSecrets(result.stdout + result.stderr);
    // Everything before the plugin's step was done as usual.
    expect(result.stdout).toMatch(/deleted\s+.*hook\/broken:old/);
    expect(await listTags(registry.url, 'hook/broken')).toEqual(['kept']);
    expect(blobStored(registry.storageRoot, gone)).toBe(false);
    expect(registry.restartCount()).toBe(restarts + 1);
    await pullImage(registry.url, 'hook/broken', 'kept');
  });
});
