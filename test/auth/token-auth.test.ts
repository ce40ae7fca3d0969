import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type Pki } from '../../testkit/auth/pki.js';
import { startSecureRegistry, type SecureRegistry } from '../../testkit/auth/secure-registry.js';
import { parseScope, startTokenServer, type TokenRequest, type TokenServer } from '../../testkit/auth/token-server.js';
import { closeTestkitHttp } from '../../testkit/http.js';
import { pushSeedImages, seedCleanupList, SEED_TAGS_AFTER, type SeedImages } from '../../testkit/seed-images.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';
import { basicAuth, hintOf, isolatedEnv, leakedSecrets, rcRecorded, type RecordedRun } from './auth-support.js';

/**
 * A registry behind a token server (distribution's `auth.token`), cleaned with the username
 * and password from the config: rc must fetch bearer tokens from the realm, ask for `delete`
 * where it deletes, reuse each token, and never print a password or token.
 */
describe('rc against a registry with token authentication', () => {
  const service = 'rc-token-registry';
  const issuer = 'rc-test-token-issuer';
  const cleanerPassword = `cleaner-pw-${randomBytes(8).toString('hex')}`;
  const readerPassword = `reader-pw-${randomBytes(8).toString('hex')}`;
  const wrongPassword = `wrong-pw-${randomBytes(8).toString('hex')}`;
  const runs: RecordedRun[] = [];
  let pki: Pki;
  let tokens: TokenServer;
  let registry: SecureRegistry;
  let seed: SeedImages;
  let workspace: Workspace;
  let env: Record<string, string>;
  /** The token requests made during the successful `rc clean`. */
  let cleanRequests: TokenRequest[] = [];

  const rc = (...args: string[]) => rcRecorded(runs, workspace, env, ...args);
  const configureAs = (username: string, password: string) =>
    workspace.writeConfig({
      registries: { [registry.host]: { username, password } },
      storage: { backend: 'filesystem', root: registry.storageRoot },
      gc: { command: ['docker-registry', 'garbage-collect', registry.configPath] },
      restart: { command: registry.restartCommand },
    });

  beforeAll(async () => {
    pki = await createPki();
    tokens = await startTokenServer({
      signingKey: readFileSync(pki.tokenKey),
      signingCertDerBase64: pki.tokenCertDerBase64,
      issuer,
      users: {
        cleaner: { password: cleanerPassword, actions: ['pull', 'push', 'delete'], catalog: true },
        reader: { password: readerPassword, actions: ['pull'], catalog: true },
      },
    });
    registry = await startSecureRegistry({
      token: { realm: tokens.realm, service, issuer, rootCertBundle: pki.tokenCert },
      authorize: (scope) => `Bearer ${tokens.mint(service, [parseScope(scope)!], 'test-kit')}`,
      prepare: async (url) => {
        seed = await pushSeedImages(url);
      },
    });
    // The fixture itself: anonymous reads must meet a bearer challenge naming our token server.
    const anonymous = await registry.fetch('/v2/_catalog');
    if (anonymous.status !== 401 || !String(anonymous.headers['www-authenticate']).includes(`Bearer realm="${tokens.realm}"`)) {
      throw new Error(`the token registry does not require tokens: ${anonymous.status} ${String(anonymous.headers['www-authenticate'])}`);
    }
    workspace = createWorkspace();
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
    env = isolatedEnv(workspace);
  });

  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
    await closeTestkitHttp();
    workspace?.remove();
    pki?.remove();
  });

  it('a wrong password fails with exit 1, says the token server refused the credentials, and deletes nothing', async () => {
    configureAs('cleaner', wrongPassword);
    const before = snapshotStorage(registry.storageRoot);
    tokens.resetRequests();
    const result = await rc('clean');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*token server refused the credentials/m);
    expect(hintOf(result.stderr)).toMatch(/username and password/);
    expect(result.stdout).toContain('0 deleted');
    expect(tokens.requests.length).toBeGreaterThan(0);
    expect(tokens.requests.every((request) => request.username === 'cleaner' && request.status === 401)).toBe(true);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });

  it('an account the token server grants no delete right is told it lacks delete rights, not that its password is wrong, and nothing is deleted', async () => {
    configureAs('reader', readerPassword);
    const before = snapshotStorage(registry.storageRoot);
    const result = await rc('clean');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('0 deleted');
    // The password was right: pointing the user at it sends them the wrong way.
    expect(hintOf(result.stderr)).not.toMatch(/set username and password/);
    expect(hintOf(result.stderr)).toMatch(/delete/i);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });

  it('a dry run with --verbose or --json shows the plan and never prints the password or a token', async () => {
    configureAs('cleaner', cleanerPassword);
    tokens.resetRequests();
    const verbose = await rc('clean', '--dry-run', '--verbose');
    expect(verbose.exitCode).toBe(0);
    expect(verbose.stdout).toMatch(/would delete\s+\S+\/library\/busybox:1\.36\.1/);
    const json = await rc('clean', '--dry-run', '--json');
    expect(json.exitCode).toBe(0);
    expect((JSON.parse(json.stdout) as { summary: Record<string, number> }).summary['would-delete']).toBe(3);
    const issuedDuringRuns = tokens.requests.filter((request) => request.token !== undefined).map((request) => request.token!);
    expect(issuedDuringRuns.length).toBeGreaterThan(0);
    expect(leakedSecrets(runs.slice(-2), [cleanerPassword, basicAuth('cleaner', cleanerPassword), ...issuedDuringRuns])).toEqual([]);
  });

  it('rc clean with username and password in the config deletes exactly the listed images, keeps nginx:stable, collects garbage and restarts', async () => {
    configureAs('cleaner', cleanerPassword);
    tokens.resetRequests();
    const result = await rc('clean');
    cleanRequests = [...tokens.requests];
    expect(result.stderr).not.toMatch(/^Error/m);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/deleted\s+\S+\/library\/busybox:1\.36\.1/);
    expect(result.stdout).toMatch(/deleted\s+\S+\/registry:latest/);
    expect(result.stdout).toMatch(/deleted\s+\S+\/demo\/nginx:1\.26 .*kept stable/);
    expect(result.stdout).toMatch(/absent\s+\S+\/demo\/nginx:noexist/);
    expect(result.stdout).toContain('3 deleted, 1 absent, 0 failed');
    for (const [repository, tags] of Object.entries(SEED_TAGS_AFTER)) expect(await registry.tags(repository)).toEqual([...tags].sort());
    expect(await registry.catalog()).toEqual(['demo/nginx', 'library/busybox']);
    expect(await registry.manifestDigest('demo/nginx', 'stable')).toBe(seed.digests['demo/nginx:1.26']);
    expect(await registry.manifestDigest('demo/nginx', '1.26')).toBeNull();
    expect(registry.restartCount()).toBe(1);
  });

  it('asks the token server for delete rights, as the configured user, on the repositories it deletes from', () => {
    expect(cleanRequests.length).toBeGreaterThan(0);
    expect(cleanRequests.every((request) => request.via === 'basic' && request.username === 'cleaner' && request.status === 200)).toBe(true);
    const deleteGrants = cleanRequests.flatMap((request) => request.granted).filter((entry) => entry.actions.includes('delete'));
    const deletedFrom = new Set(deleteGrants.map((entry) => entry.name));
    expect(deletedFrom).toContain('library/busybox');
    expect(deletedFrom).toContain('registry');
    expect(cleanRequests.flatMap((request) => request.scopes)).toContain('repository:registry:delete');
    expect(cleanRequests.every((request) => request.service === service)).toBe(true);
  });

  it('fetches one token per scope and reuses it for every later request, instead of one per request', () => {
    const perScope = new Map<string, number>();
    for (const request of cleanRequests) {
      const key = [...request.scopes].sort().join(' ') || '(no scope: GET /v2/)';
      perScope.set(key, (perScope.get(key) ?? 0) + 1);
    }
    // The run reads three repositories and deletes from two: several scopes, each fetched once.
    expect(perScope.size).toBeGreaterThanOrEqual(5);
    expect(Object.fromEntries([...perScope].filter(([, count]) => count > 1))).toEqual({});
  });

  it('rc ls lists what is left on the token-auth registry', async () => {
    const result = await rc('ls', '--registry', registry.host);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim()).sort();
    expect(lines).toEqual(['demo/nginx:latest', 'demo/nginx:stable', 'library/busybox:1.35.0']);
  });

  it('rc doctor passes reachability, credentials, deletion and storage checks on the token-auth registry', async () => {
    const result = await rc('doctor', '--registry', registry.host, '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ check: string; ok: boolean; detail: string }> };
    expect(report.ok).toBe(true);
    const byName = Object.fromEntries(report.checks.map((check) => [check.check, check]));
    for (const name of ['reachable', 'credentials', 'deletion', 'storage']) expect(byName[name]?.ok, `${name}: ${byName[name]?.detail}`).toBe(true);
  });

  it('no password, basic-auth string or issued token appears anywhere in what rc printed during this file', () => {
    const issued = tokens.issuedTokens();
    expect(runs.length).toBeGreaterThanOrEqual(7);
    expect(issued.length).toBeGreaterThan(5);
    const secrets = [
      cleanerPassword,
      readerPassword,
      wrongPassword,
      basicAuth('cleaner', cleanerPassword),
      basicAuth('reader', readerPassword),
      basicAuth('cleaner', wrongPassword),
      ...issued,
    ];
    expect(leakedSecrets(runs, secrets)).toEqual([]);
  });
});
