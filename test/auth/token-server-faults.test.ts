import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../testkit/fault-proxy/fault-proxy.js';
import { createPki, type Pki } from '../../testkit/auth/pki.js';
import { startSecureRegistry, type SecureRegistry } from '../../testkit/auth/secure-registry.js';
import { parseScope, startTokenServer, type TokenServer } from '../../testkit/auth/token-server.js';
import { closeTestkitHttp } from '../../testkit/http.js';
import { pushSeedImages, seedCleanupList } from '../../testkit/seed-images.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';
import { hintOf, isolatedEnv, leakedSecrets, rcRecorded, type RecordedRun } from './auth-support.js';

/**
 * The token server, not the registry, failing: the registry's realm points at a fault proxy in
 * front of a real token server. A token server that fails for a moment must not fail the run, and
 * one that keeps failing must not be reported as a wrong password.
 */
describe('rc when the token server fails', () => {
  const service = 'rc-token-faults';
  const issuer = 'rc-token-faults-issuer';
  const password = `cleaner-pw-${randomBytes(8).toString('hex')}`;
  const runs: RecordedRun[] = [];
  let pki: Pki;
  let tokens: TokenServer;
  let proxy: FaultProxy;
  let registry: SecureRegistry;
  let workspace: Workspace;
  let env: Record<string, string>;

  const rc = (...args: string[]) => rcRecorded(runs, workspace, env, ...args);
  const tokenRequests = () => proxy.count({ path: /^\/token/ });

  beforeAll(async () => {
    pki = await createPki();
    tokens = await startTokenServer({
      signingKey: readFileSync(pki.tokenKey),
      signingCertDerBase64: pki.tokenCertDerBase64,
      issuer,
      users: { cleaner: { password, actions: ['pull', 'push', 'delete'], catalog: true } },
    });
    proxy = await startFaultProxy(new URL(tokens.realm).origin);
    registry = await startSecureRegistry({
      token: { realm: `${proxy.url}/token`, service, issuer, rootCertBundle: pki.tokenCert },
      authorize: (scope) => `Bearer ${tokens.mint(service, [parseScope(scope)!], 'test-kit')}`,
      prepare: async (url) => {
        await pushSeedImages(url);
      },
    });
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
    // Two retries keep the always-failing cases short; the message must say how many attempts were made.
    workspace.writeConfig({
      registries: { [registry.host]: { username: 'cleaner', password, retries: 2 } },
      storage: { backend: 'filesystem', root: registry.storageRoot },
    });
    env = isolatedEnv(workspace);
  });

  afterAll(async () => {
    await registry?.stop();
    await proxy?.close();
    await tokens?.close();
    await closeTestkitHttp();
    workspace?.remove();
    pki?.remove();
  });

  it('rc ls succeeds when the token server answers 503 twice and then recovers', async () => {
    proxy.clearRules();
    proxy.clearLog();
    proxy.addRule({ name: 'flaky', path: /^\/token/, limit: 2, fault: { type: 'status', status: 503 } });
    const result = await rc('ls');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/demo\/nginx/);
    expect(proxy.count({ rule: 'flaky' })).toBe(2);
    expect(proxy.count({ path: /^\/token/, fate: 'forwarded' })).toBeGreaterThan(0);
  });

  it('a token server that keeps answering 503 fails rc clean with exit 1, says so (not "wrong password"), and deletes nothing', async () => {
    proxy.clearRules();
    proxy.clearLog();
    proxy.addRule({ name: 'down', path: /^\/token/, fault: { type: 'status', status: 503 } });
    const before = snapshotStorage(registry.storageRoot);
    const result = await rc('clean', '--no-gc', '--no-restart');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*token server failed on all 3 attempts/m);
    expect(result.stderr).toContain(`${proxy.url}/token`);
    expect(result.stderr).not.toMatch(/refused the credentials/);
    expect(hintOf(result.stderr)).toMatch(/token server's log/);
    // Every fetch was asked three times (the configured two retries), never more.
    expect(tokenRequests()).toBeGreaterThan(0);
    expect(tokenRequests() % 3).toBe(0);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });

  it('a token server that cannot be reached is named as unreachable, with the reason, and nothing is deleted', async () => {
    proxy.clearRules();
    proxy.clearLog();
    proxy.addRule({ name: 'reset', path: /^\/token/, fault: { type: 'reset' } });
    const before = snapshotStorage(registry.storageRoot);
    const result = await rc('clean', '--no-gc', '--no-restart');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*token server unreachable/m);
    expect(result.stderr).toMatch(/ECONNRESET|socket hang up/);
    expect(hintOf(result.stderr)).toMatch(/token server at .*\/token.* runs and is reachable/);
    expect(tokenRequests()).toBeGreaterThan(0);
    expect(tokenRequests() % 3).toBe(0);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });

  it('no password, basic-auth string or issued token appears in anything rc printed', () => {
    // The runs of the tests above.
    expect(runs.length).toBeGreaterThan(0);
    expect(leakedSecrets(runs, [password, Buffer.from(`cleaner:${password}`).toString('base64'), ...tokens.issuedTokens()])).toEqual([]);
  });
});

/**
 * A token server whose certificate rc does not trust: asking again cannot mend that, so rc asks
 * once and says which setting to change, instead of waiting through its retries to report it
 * unreachable.
 */
describe('rc when the token server\'s certificate is not trusted', () => {
  const service = 'rc-token-untrusted';
  const issuer = 'rc-token-untrusted-issuer';
  let pki: Pki;
  let untrusted: Server;
  let connections = 0;
  let registry: SecureRegistry;
  let workspace: Workspace;

  beforeAll(async () => {
    pki = await createPki();
    // A certificate from a CA rc is not told about (no `ca` in its config); the handshake fails before any request.
    untrusted = createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (_request, response) => response.end());
    untrusted.on('connection', () => connections++);
    untrusted.listen(0, '127.0.0.1');
    await once(untrusted, 'listening');
    const realm = `https://127.0.0.1:${(untrusted.address() as AddressInfo).port}/token`;
    registry = await startSecureRegistry({
      token: { realm, service, issuer, rootCertBundle: pki.tokenCert },
      authorize: () => undefined,
      prepare: async (url) => {
        await pushSeedImages(url);
      },
    });
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
    workspace.writeConfig({
      registries: { [registry.host]: { username: 'cleaner', password: 'not-needed-here', retries: 2 } },
      storage: { backend: 'filesystem', root: registry.storageRoot },
    });
  });

  afterAll(async () => {
    await registry?.stop();
    untrusted?.close();
    await closeTestkitHttp();
    workspace?.remove();
    pki?.remove();
  });

  it('fails rc clean with exit 1 after one attempt, names the certificate problem and the `ca` setting, and deletes nothing', async () => {
    const before = snapshotStorage(registry.storageRoot);
    const result = await workspace.rcWith(isolatedEnv(workspace), 'clean', '--no-gc', '--no-restart');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*the TLS certificate of the token server is not trusted/m);
    expect(hintOf(result.stderr)).toContain(`registries["${registry.host}"].ca`);
    expect(result.stderr).not.toMatch(/unreachable|refused the credentials/);
    expect(connections).toBe(1);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });
});

