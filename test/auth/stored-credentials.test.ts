import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFakeCredentialHelper } from '../../testkit/auth/credential-helper.js';
import { createPki, type Pki } from '../../testkit/auth/pki.js';
import { startSecureRegistry, type SecureRegistry } from '../../testkit/auth/secure-registry.js';
import { parseScope, startTokenServer, type TokenServer } from '../../testkit/auth/token-server.js';
import { closeTestkitHttp } from '../../testkit/http.js';
import { makeImage, pushImage } from '../../testkit/images.js';
import { listTags } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';
import { basicAuth, isolatedEnv, leakedSecrets, rcRecorded, writeDockerConfig, type RecordedRun } from './auth-support.js';

/**
 * Credentials rc finds where docker and podman keep them — `auths` (base64 `auth`,
 * `identitytoken`), `credHelpers`, `credsStore`, podman's auth.json — against a basic-auth
 * (htpasswd) registry and a token-auth registry. Each case deletes `cred/<case>:old` and must
 * leave `cred/<case>:keep`; the token server tells which identity rc acted as.
 */
describe('rc with credentials from docker and podman auth files', () => {
  const service = 'rc-stored-credentials';
  const issuer = 'rc-test-token-issuer';
  const secret = (label: string) => `${label}-${randomBytes(8).toString('hex')}`;
  const passwords = {
    'docker-user': secret('docker-pw'),
    'helper-user': secret('helper-pw'),
    'store-user': secret('store-pw'),
    'podman-user': secret('podman-pw'),
    'xdg-user': secret('xdg-pw'),
    'home-user': secret('home-pw'),
    'config-user': secret('config-pw'),
    'id-user': secret('id-user-pw'),
    'helper-token-user': secret('helper-token-user-pw'),
  } as const;
  type User = keyof typeof passwords;
  const identityToken = secret('identity-token');
  const helperIdentityToken = secret('helper-identity-token');
  const basicCredentials = { username: 'basic-user', password: secret('basic-pw') };
  const revokedIdentityToken = secret('revoked-identity-token');
  const tokenCases = ['auths', 'identity', 'identity-revoked', 'helper', 'helper-token', 'store', 'podman', 'podman-xdg', 'home', 'config-wins', 'invalid-json'] as const;

  const runs: RecordedRun[] = [];
  let pki: Pki;
  let tokens: TokenServer;
  let tokenRegistry: SecureRegistry;
  let basicRegistry: RegistryServer;
  let workspace: Workspace;
  let binDir: string;

  const rc = (env: Record<string, string>, ...args: string[]) => rcRecorded(runs, workspace, env, ...args);
  /** Every token request since the last reset came from `user` through `via`, and some did. */
  const expectTokensFor = (user: string, via: 'basic' | 'refresh_token') => {
    expect(tokens.requests.length).toBeGreaterThan(0);
    expect(tokens.requests.map((request) => `${request.via}:${request.username}:${request.status}`)).toEqual(tokens.requests.map(() => `${via}:${user}:200`));
  };
  const expectDeleted = async (result: { exitCode: number; stdout: string; stderr: string }, name: string) => {
    expect(result.stderr).not.toMatch(/^Error/m);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`deleted\\s+\\S+/cred/${name}:old`));
    expect(result.stdout).toContain('1 deleted, 0 absent, 0 failed');
    expect(await tokenRegistry.tags(`cred/${name}`)).toEqual(['keep']);
  };
  const entry = (user: User) => ({ auth: basicAuth(user, passwords[user]) });

  beforeAll(async () => {
    pki = await createPki();
    tokens = await startTokenServer({
      signingKey: readFileSync(pki.tokenKey),
      signingCertDerBase64: pki.tokenCertDerBase64,
      issuer,
      users: Object.fromEntries(Object.entries(passwords).map(([user, password]) => [user, { password, actions: ['pull', 'push', 'delete'], catalog: true }])),
      identityTokens: { [identityToken]: 'id-user', [helperIdentityToken]: 'helper-token-user' },
    });
    const pushCase = async (url: string, name: string, credentials?: { username: string; password: string }) => {
      const push = credentials ? { credentials } : {};
      await pushImage(url, `cred/${name}`, 'old', makeImage({ seed: `cred/${name}:old` }), push);
      await pushImage(url, `cred/${name}`, 'keep', makeImage({ seed: `cred/${name}:keep` }), push);
    };
    [tokenRegistry, basicRegistry] = await Promise.all([
      startSecureRegistry({
        token: { realm: tokens.realm, service, issuer, rootCertBundle: pki.tokenCert },
        authorize: (scope) => `Bearer ${tokens.mint(service, [parseScope(scope)!], 'test-kit')}`,
        prepare: async (url) => {
          for (const name of tokenCases) await pushCase(url, name);
        },
      }),
      startRegistry({ htpasswd: basicCredentials }).then(async (registry) => {
        await pushCase(registry.url, 'auths', basicCredentials);
        return registry;
      }),
    ]);
    workspace = createWorkspace();
    binDir = path.join(workspace.dir, 'bin');
  });

  afterAll(async () => {
    await Promise.all([tokenRegistry?.stop(), basicRegistry?.stop()]);
    await tokens?.close();
    await closeTestkitHttp();
    workspace?.remove();
    pki?.remove();
  });

  it('deletes from a basic-auth registry with the base64 `auth` that docker login wrote to $DOCKER_CONFIG/config.json', async () => {
    workspace.writeConfig({});
    const dockerConfig = writeDockerConfig(workspace, 'docker-basic', { auths: { [basicRegistry.host]: { auth: basicAuth(basicCredentials.username, basicCredentials.password) } } });
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig }), 'clean', `${basicRegistry.host}/cred/auths:old`);
    expect(result.stderr).not.toMatch(/^Error/m);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('1 deleted, 0 absent, 0 failed');
    expect(await listTags(basicRegistry.url, 'cred/auths', basicCredentials)).toEqual(['keep']);
  });

  it('fetches bearer tokens with the base64 `auth` from $DOCKER_CONFIG/config.json on a token-auth registry', async () => {
    workspace.writeConfig({});
    const dockerConfig = writeDockerConfig(workspace, 'docker-token', { auths: { [tokenRegistry.host]: entry('docker-user') } });
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig }), 'clean', `${tokenRegistry.host}/cred/auths:old`);
    await expectDeleted(result, 'auths');
    expectTokensFor('docker-user', 'basic');
  });

  it('exchanges an `identitytoken` from the docker config for registry tokens with the OAuth2 refresh-token POST', async () => {
    workspace.writeConfig({});
    const dockerConfig = writeDockerConfig(workspace, 'docker-identity', { auths: { [tokenRegistry.host]: { auth: '', identitytoken: identityToken } } });
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig }), 'clean', `${tokenRegistry.host}/cred/identity:old`);
    await expectDeleted(result, 'identity');
    expectTokensFor('id-user', 'refresh_token');
    expect(tokens.requests.every((request) => request.method === 'POST' && request.refreshToken === identityToken && request.service === service)).toBe(true);
    expect(tokens.requests.flatMap((request) => request.scopes)).toContain('repository:cred/identity:delete');
  });

  it('says an `identitytoken` the token server no longer accepts (400 invalid_grant) was refused, with what to do, and deletes nothing', async () => {
    workspace.writeConfig({});
    const dockerConfig = writeDockerConfig(workspace, 'docker-identity-revoked', { auths: { [tokenRegistry.host]: { auth: '', identitytoken: revokedIdentityToken } } });
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig }), 'clean', `${tokenRegistry.host}/cred/identity-revoked:old`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^Error: .*token server refused the credentials for registry ${tokenRegistry.host.replaceAll('.', '\\.')}`, 'm'));
    expect(result.stderr).toMatch(/^Hint: .*identity token .*log in again/m);
    expect(result.stderr).not.toMatch(/unexpected answer/);
    expect(tokens.requests.map((request) => `${request.via}:${request.status}`)).toContain('refresh_token:400');
    expect(await tokenRegistry.tags('cred/identity-revoked')).toEqual(['keep', 'old']);
  });

  it('asks the credential helper named in `credHelpers` for the registry, passing the host on stdin', async () => {
    workspace.writeConfig({});
    const helper = installFakeCredentialHelper(binDir, 'rctest', { [tokenRegistry.host]: { Username: 'helper-user', Secret: passwords['helper-user'] } });
    const dockerConfig = writeDockerConfig(workspace, 'docker-helper', { credHelpers: { [tokenRegistry.host]: 'rctest' } });
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` }), 'clean', `${tokenRegistry.host}/cred/helper:old`);
    await expectDeleted(result, 'helper');
    expect(new Set(helper.asked())).toEqual(new Set([tokenRegistry.host]));
    expectTokensFor('helper-user', 'basic');
  });

  it('uses an identity token a credential helper returns (Username `<token>`) through the refresh-token exchange', async () => {
    workspace.writeConfig({});
    const helper = installFakeCredentialHelper(binDir, 'rctoken', { [tokenRegistry.host]: { Username: '<token>', Secret: helperIdentityToken } });
    const dockerConfig = writeDockerConfig(workspace, 'docker-helper-token', { credHelpers: { [tokenRegistry.host]: 'rctoken' } });
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` }), 'clean', `${tokenRegistry.host}/cred/helper-token:old`);
    await expectDeleted(result, 'helper-token');
    expect(helper.asked()).toContain(tokenRegistry.host);
    expectTokensFor('helper-token-user', 'refresh_token');
  });

  it('asks the `credsStore` helper when no credHelpers entry names the registry', async () => {
    workspace.writeConfig({});
    const store = installFakeCredentialHelper(binDir, 'rcstore', { [tokenRegistry.host]: { Username: 'store-user', Secret: passwords['store-user'] } });
    const dockerConfig = writeDockerConfig(workspace, 'docker-store', { credsStore: 'rcstore', credHelpers: { 'other.example.com': 'rctest' } });
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` }), 'clean', `${tokenRegistry.host}/cred/store:old`);
    await expectDeleted(result, 'store');
    expect(new Set(store.asked())).toEqual(new Set([tokenRegistry.host]));
    expectTokensFor('store-user', 'basic');
  });

  it("reads podman's auth file named by REGISTRY_AUTH_FILE", async () => {
    workspace.writeConfig({});
    const authFile = path.join(workspace.dir, 'podman-auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { [tokenRegistry.host]: entry('podman-user') } }));
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { REGISTRY_AUTH_FILE: authFile }), 'clean', `${tokenRegistry.host}/cred/podman:old`);
    await expectDeleted(result, 'podman');
    expectTokensFor('podman-user', 'basic');
  });

  it("reads podman's $XDG_RUNTIME_DIR/containers/auth.json", async () => {
    workspace.writeConfig({});
    const runtimeDir = path.join(workspace.dir, 'xdg-runtime');
    mkdirSync(path.join(runtimeDir, 'containers'), { recursive: true });
    writeFileSync(path.join(runtimeDir, 'containers', 'auth.json'), JSON.stringify({ auths: { [tokenRegistry.host]: entry('xdg-user') } }));
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { XDG_RUNTIME_DIR: runtimeDir }), 'clean', `${tokenRegistry.host}/cred/podman-xdg:old`);
    await expectDeleted(result, 'podman-xdg');
    expectTokensFor('xdg-user', 'basic');
  });

  it('finds docker login credentials in ~/.docker/config.json when DOCKER_CONFIG is not set', async () => {
    workspace.writeConfig({});
    const home = path.join(workspace.dir, 'home-with-docker');
    mkdirSync(path.join(home, '.docker'), { recursive: true });
    writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [tokenRegistry.host]: entry('home-user') } }));
    tokens.resetRequests();
    // Unset, not empty: the child gets no DOCKER_CONFIG at all.
    const unset = undefined as unknown as string;
    const result = await rc(isolatedEnv(workspace, { HOME: home, DOCKER_CONFIG: unset }), 'clean', `${tokenRegistry.host}/cred/home:old`);
    await expectDeleted(result, 'home');
    expectTokensFor('home-user', 'basic');
  });

  it("the config's username and password win over the docker config and its credential helper", async () => {
    workspace.writeConfig({ registries: { [tokenRegistry.host]: { username: 'config-user', password: passwords['config-user'] } } });
    installFakeCredentialHelper(binDir, 'rcwrong', { [tokenRegistry.host]: { Username: 'helper-user', Secret: passwords['helper-user'] } });
    const dockerConfig = writeDockerConfig(workspace, 'docker-loses', { auths: { [tokenRegistry.host]: entry('docker-user') }, credsStore: 'rcwrong' });
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` }), 'clean', `${tokenRegistry.host}/cred/config-wins:old`);
    await expectDeleted(result, 'config-wins');
    expectTokensFor('config-user', 'basic');
  });

  it('a docker config.json that is not valid JSON is bad input: exit 2 naming the file, and nothing is touched', async () => {
    workspace.writeConfig({});
    const dockerConfig = writeDockerConfig(workspace, 'docker-broken', '{ "auths": { "oops" ');
    const configFile = path.join(dockerConfig, 'config.json');
    const before = snapshotStorage(tokenRegistry.storageRoot);
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig }), 'clean', `${tokenRegistry.host}/cred/invalid-json:old`);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(configFile);
    expect(result.stderr).toMatch(/not valid JSON/i);
    expect(result.stdout).not.toMatch(/deleted/);
    expect(tokens.requests).toEqual([]);
    expect(snapshotStorage(tokenRegistry.storageRoot)).toEqual(before);
    expect(await tokenRegistry.tags('cred/invalid-json')).toEqual(['keep', 'old']);
  });

  it('a docker config.json that cannot be read is bad input: exit 2 naming the file, and nothing is touched', async () => {
    workspace.writeConfig({});
    const dockerConfig = path.join(workspace.dir, 'docker-unreadable');
    // A directory where the file should be: unreadable even for root.
    mkdirSync(path.join(dockerConfig, 'config.json'), { recursive: true });
    const before = snapshotStorage(tokenRegistry.storageRoot);
    tokens.resetRequests();
    const result = await rc(isolatedEnv(workspace, { DOCKER_CONFIG: dockerConfig }), 'clean', `${tokenRegistry.host}/cred/invalid-json:old`);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(path.join(dockerConfig, 'config.json'));
    expect(tokens.requests).toEqual([]);
    expect(snapshotStorage(tokenRegistry.storageRoot)).toEqual(before);
  });

  it('no password, identity token, base64 auth string or issued token appears anywhere in what rc printed during this file', () => {
    const issued = tokens.issuedTokens();
    expect(runs.length).toBeGreaterThanOrEqual(12);
    expect(issued.length).toBeGreaterThan(10);
    const secrets = [
      ...Object.values(passwords),
      ...Object.entries(passwords).map(([user, password]) => basicAuth(user, password)),
      basicCredentials.password,
      basicAuth(basicCredentials.username, basicCredentials.password),
      identityToken,
      helperIdentityToken,
      revokedIdentityToken,
      ...issued,
    ];
    expect(leakedSecrets(runs, secrets)).toEqual([]);
  });
});
