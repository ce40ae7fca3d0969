import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Agent, request, type Dispatcher } from 'undici';
import { MANIFEST_ACCEPT } from '../media-types.js';
import { freePort, renderConfig as renderPlainConfig } from '../registry-server.js';

/**
 * A distribution registry with the config a test composes — token auth (`auth.token`), TLS
 * (`http.tls`, optionally `clientcas` for mTLS) — run under the kit's supervisor
 * (`registry-supervisor.mjs`), so `restartCommand` works as with `startRegistry`.
 *
 * The registry first comes up plain (HTTP, no auth) for `prepare` to push what the test needs
 * with the kit's ordinary pushers; then the final config is written and the registry
 * restarted with it. Reads through `tags`/`catalog`/`manifestDigest` use the TLS material and
 * the `authorize` function given, never the tool under test.
 */

export interface TokenAuthSettings {
  /** `http://127.0.0.1:PORT/token` of the token server. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM file of the token-signing certificate(s). */
  rootCertBundle: string;
}

export interface TlsSettings {
  /** PEM files: the server certificate and its key. */
  certificate: string;
  key: string;
  /** PEM files of CAs whose client certificates are required (mTLS). */
  clientCas?: string[];
}

export interface SecureRegistryOptions {
  token?: TokenAuthSettings;
  tls?: TlsSettings;
  /** How the kit itself reaches the registry over TLS: the CA to trust, a client certificate for mTLS. */
  trust?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** The Authorization header for the kit's own reads of a scope (`repository:x:pull`, `registry:catalog:*`). */
  authorize?: (scope: string) => string | undefined;
  /** Pushes over plain HTTP without auth, before the final config takes effect. Gets `http://127.0.0.1:PORT`. */
  prepare?: (plainUrl: string) => Promise<void>;
  /** `storage.delete.enabled`; default true. */
  deleteEnabled?: boolean;
  readyTimeoutMs?: number;
}

export interface SecureRegistry {
  /** `127.0.0.1:PORT`, as image references name it. */
  readonly host: string;
  /** `https://127.0.0.1:PORT` with TLS, else `http://…`. */
  readonly url: string;
  readonly port: number;
  readonly storageRoot: string;
  readonly configPath: string;
  readonly stateDir: string;
  /** Kills the registry; the supervisor starts it again with the same config. */
  readonly restartCommand: string[];
  restartCount(): number;
  log(): string;
  /** GET/HEAD through the kit's trusted TLS and `authorize`. */
  fetch(path: string, options?: { method?: 'GET' | 'HEAD'; scope?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
  /** Tags of a repository (sorted); null when the registry does not know it. */
  tags(repository: string): Promise<string[] | null>;
  catalog(): Promise<string[]>;
  /** The digest a tag points at; null when absent. */
  manifestDigest(repository: string, reference: string): Promise<string | null>;
  stop(): Promise<void>;
}

const SUPERVISOR = fileURLToPath(new URL('../registry-supervisor.mjs', import.meta.url));
const execFileAsync = promisify(execFile);
const live = new Set<() => void>();
let exitHook = false;

/**
 * The kit's plain registry config (registry-server.ts), plus TLS under `http:` (its last
 * section when there is no htpasswd) and token auth.
 */
function renderConfig(settings: { port: number; storageRoot: string; secret: string; deleteEnabled: boolean; token?: TokenAuthSettings; tls?: TlsSettings }): string {
  const q = JSON.stringify;
  const lines = [
    renderPlainConfig({ ...settings, readonly: false, blobDescriptorCache: 'inmemory', htpasswdPath: undefined }).trimEnd(),
  ];
  if (settings.tls) {
    lines.push('  tls:', `    certificate: ${q(settings.tls.certificate)}`, `    key: ${q(settings.tls.key)}`);
    if (settings.tls.clientCas?.length) {
      lines.push('    clientcas:', ...settings.tls.clientCas.map((ca) => `      - ${q(ca)}`));
    }
  }
  if (settings.token) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${q(settings.token.realm)}`,
      `    service: ${q(settings.token.service)}`,
      `    issuer: ${q(settings.token.issuer)}`,
      `    rootcertbundle: ${q(settings.token.rootCertBundle)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function control(mode: string, stateDir: string): Promise<void> {
  try {
    await execFileAsync(process.execPath, [SUPERVISOR, mode, stateDir]);
  } catch (error) {
    const failure = error as Error & { stderr?: string };
    throw new Error(`registry-supervisor ${mode} failed: ${failure.stderr?.trim() || failure.message}`);
  }
}

export async function startSecureRegistry(options: SecureRegistryOptions = {}): Promise<SecureRegistry> {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const kill of live) kill();
    });
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'rc-secure-registry-'));
  const storageRoot = join(stateDir, 'storage');
  mkdirSync(storageRoot, { recursive: true });
  const port = await freePort();
  const configPath = join(stateDir, 'config.yml');
  const logPath = join(stateDir, 'registry.log');
  const base = { port, storageRoot, secret: randomBytes(16).toString('hex'), deleteEnabled: options.deleteEnabled ?? true };
  writeFileSync(configPath, renderConfig(base));
  writeFileSync(logPath, '');

  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REGISTRY_')));
  const supervisor: ChildProcess = spawn(process.execPath, [SUPERVISOR, 'run', stateDir, 'docker-registry'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env,
  });
  supervisor.unref();
  supervisor.channel?.unref();
  const exited = new Promise<void>((resolve) => supervisor.once('exit', () => resolve()));

  const killGroup = () => {
    try {
      if (supervisor.pid !== undefined) process.kill(-supervisor.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const killNow = () => {
    killGroup();
    rmSync(stateDir, { recursive: true, force: true });
  };
  live.add(killNow);

  const plainDispatcher = new Agent({ keepAliveTimeout: 1_000 });
  const trusted: Dispatcher = options.tls ? new Agent({ connect: { ...options.trust }, keepAliveTimeout: 5_000 }) : plainDispatcher;
  const readLog = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };

  const waitUntilReady = async (url: string, dispatcher: Dispatcher): Promise<void> => {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    let last = 'no answer yet';
    for (;;) {
      if (supervisor.exitCode !== null || supervisor.signalCode !== null) throw new Error(`registry supervisor exited\nconfig: ${configPath}\n${readLog()}`);
      try {
        const response = await request(`${url}/v2/`, { dispatcher, headers: { connection: 'close' } });
        await response.body.dump();
        if (response.statusCode === 200 || response.statusCode === 401) return;
        last = `GET /v2/ answered ${response.statusCode}`;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`registry ${url} not ready (${last})\nconfig: ${configPath}\n${readLog()}`);
      await sleep(25);
    }
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    live.delete(killNow);
    try {
      if (supervisor.pid !== undefined) process.kill(supervisor.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    await Promise.race([exited, sleep(6_000)]);
    killGroup();
    await Promise.allSettled([plainDispatcher.close(), trusted === plainDispatcher ? undefined : trusted.close()]);
    rmSync(stateDir, { recursive: true, force: true });
  };

  const plainUrl = `http://127.0.0.1:${port}`;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const starts = () => {
    try {
      return Number.parseInt(readFileSync(join(stateDir, 'starts'), 'utf8'), 10) || 0;
    } catch {
      return 0;
    }
  };
  let startsAtFinal = 0;
  try {
    await waitUntilReady(plainUrl, plainDispatcher);
    await options.prepare?.(plainUrl);
    writeFileSync(configPath, renderConfig({ ...base, ...(options.token && { token: options.token }), ...(options.tls && { tls: options.tls }) }));
    await control('restart', stateDir);
    await waitUntilReady(url, trusted);
    startsAtFinal = starts();
  } catch (error) {
    await stop();
    throw error;
  }

  const fetch: SecureRegistry['fetch'] = async (path, fetchOptions = {}) => {
    const authorization = fetchOptions.scope === undefined ? undefined : options.authorize?.(fetchOptions.scope);
    const response = await request(`${url}${path}`, {
      method: fetchOptions.method ?? 'GET',
      dispatcher: trusted,
      headers: { ...(authorization && { authorization }), ...fetchOptions.headers },
    });
    const body = fetchOptions.method === 'HEAD' ? '' : await response.body.text();
    if (fetchOptions.method === 'HEAD') await response.body.dump();
    return { status: response.statusCode, headers: response.headers, body };
  };

  return {
    host: `127.0.0.1:${port}`,
    url,
    port,
    storageRoot,
    configPath,
    stateDir,
    restartCommand: [process.execPath, SUPERVISOR, 'restart', stateDir],
    restartCount: () => Math.max(0, starts() - startsAtFinal),
    log: readLog,
    fetch,
    async tags(repository) {
      const response = await fetch(`/v2/${repository}/tags/list`, { scope: `repository:${repository}:pull` });
      if (response.status === 404) return null;
      if (response.status !== 200) throw new Error(`tags of ${repository}: ${response.status} ${response.body}`);
      return ((JSON.parse(response.body) as { tags?: string[] | null }).tags ?? []).sort();
    },
    async catalog() {
      const response = await fetch('/v2/_catalog', { scope: 'registry:catalog:*' });
      if (response.status !== 200) throw new Error(`catalog: ${response.status} ${response.body}`);
      return (JSON.parse(response.body) as { repositories?: string[] | null }).repositories ?? [];
    },
    async manifestDigest(repository, reference) {
      const response = await fetch(`/v2/${repository}/manifests/${reference}`, { method: 'HEAD', scope: `repository:${repository}:pull`, headers: { accept: MANIFEST_ACCEPT } });
      if (response.status === 404) return null;
      if (response.status !== 200) throw new Error(`HEAD ${repository}:${reference}: ${response.status}`);
      const digest = response.headers['docker-content-digest'];
      return (Array.isArray(digest) ? digest[0] : digest) ?? null;
    },
    stop,
  };
}
