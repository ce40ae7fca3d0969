import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, closeTestkitHttp } from '../../testkit/http.js';
import { MANIFEST_ACCEPT } from '../../testkit/media-types.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages, type SeedImages } from '../../testkit/seed-images.js';
import { RegistryClient } from '../../src/registry/client.js';
import { startSilentPort, type SilentPort } from '../../testkit/silent-port.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A registry host that never completes a connection (down behind a firewall that drops
 * packets): rc gives up on connecting after 10 s, not the whole 30 s request timeout, and says
 * it could not connect, not that the registry is slow.
 */
describe('rc against a host that never accepts the connection', () => {
  let silent: SilentPort;
  let workspace: Workspace;
  let host: string;

  beforeAll(async () => {
    silent = await startSilentPort();
    host = `127.0.0.1:${silent.port}`;
    workspace = createWorkspace();
  });
  afterAll(async () => {
    await silent?.close();
    workspace?.remove();
  });

  it('gives up connecting after 10 s by default, with exit 1, naming the host and what to check', async () => {
    workspace.writeConfig({ registries: { [host]: { retries: 0 } } });
    const started = Date.now();
    const result = await workspace.rc('ls', '--registry', host);
    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^Error: cannot reach registry ${escape(host)}: CONNECT_TIMEOUT: could not connect within 10 s`, 'm'));
    expect(result.stderr).toMatch(/^Hint: .*firewall/m);
    expect(result.stderr).not.toMatch(/did not answer in time|overloaded/);
    // Well short of the 30 s request timeout it used to wait.
    expect(seconds).toBeGreaterThanOrEqual(10);
    expect(seconds).toBeLessThan(25);
  });

  it('a request timeout below 10 s bounds connecting too', async () => {
    workspace.writeConfig({ registries: { [host]: { retries: 0, timeoutSeconds: 2 } } });
    const started = Date.now();
    const result = await workspace.rc('ls', '--registry', host);
    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot reach registry ${host}: CONNECT_TIMEOUT: could not connect within 2 s`);
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(8);
  });
});

/**
 * The same host coming back while rc waits: a request whose connection never completed was not
 * sent, so rc sends it again on a new connection and the run succeeds.
 */
describe('rc against a host that starts accepting while rc retries', () => {
  let registry: RegistryServer;
  let seed: SeedImages;
  let silent: SilentPort;
  let workspace: Workspace;
  let host: string;

  beforeAll(async () => {
    registry = await startRegistry();
    seed = await pushSeedImages(registry.url);
    silent = await startSilentPort({ forwardTo: registry.port });
    host = `127.0.0.1:${silent.port}`;
    workspace = createWorkspace();
  });
  afterAll(async () => {
    await silent?.close();
    await registry?.stop();
    await closeTestkitHttp();
    workspace?.remove();
  });

  it('sends a request that never connected again, and lists the registry once the host answers', async () => {
    // Connecting gives up after 3 s; the host answers from 4 s on, so the first attempt cannot get through.
    workspace.writeConfig({ registries: { [host]: { retries: 2, timeoutSeconds: 3 } } });
    const started = Date.now();
    const opening = sleep(4000).then(() => silent.open());
    const result = await workspace.rc('ls', '--registry', host);
    await opening;
    const seconds = (Date.now() - started) / 1000;
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/demo\/nginx/);
    expect(seconds).toBeGreaterThanOrEqual(4);
  });

  it('sends a DELETE again when its connection never completed, and deletes what it was asked to', async () => {
    // A DELETE is sent again only when nothing reached the registry: here its first connection never completes.
    const closed = await startSilentPort({ forwardTo: registry.port });
    try {
      const closedHost = `127.0.0.1:${closed.port}`;
      const client = new RegistryClient(
        { host: closedHost, url: new URL(`http://${closedHost}`) },
        { connections: 1, timeoutMs: 2000, retry: { retries: 2, baseDelayMs: 100, maxDelayMs: 500 } },
      );
      const digest = seed.digests['library/busybox:1.36.1']!;
      const started = Date.now();
      const opening = sleep(3000).then(() => closed.open());
      const outcome = await client.deleteManifest('library/busybox', digest);
      await opening;
      await client.close();
      expect(outcome).toBe('deleted');
      expect((Date.now() - started) / 1000).toBeGreaterThanOrEqual(3);
      // Sent again as it was, without first asking whether an earlier attempt did it (a HEAD).
      expect(client.requests).toBe(2);
      const head = (reference: string) => call(`${registry.url}/v2/library/busybox/manifests/${reference}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
      expect((await head(digest)).status).toBe(404);
      expect((await head('1.35.0')).status).toBe(200);
    } finally {
      await closed.close();
    }
  });
});
