import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Authenticator } from './auth.js';
import { causeWithoutSecrets } from './cause-without-secrets.js';
import type { RegistryEndpoint } from './endpoint.js';
import { kindForStatus, RegistryError, registryErrorCode } from './errors.js';
import { type HttpAnswer, HttpPool, type Origin } from './http-pool.js';
import { tlsError, tlsFailure } from './tls-failure.js';
import { manifestAccept, MediaType } from './media-types.js';
import { nextPageUrl } from './paginate.js';
import { Limiter } from '../util/limiter.js';
import { defaultRetryPolicy, isIdempotent, isRetryableStatus, retryDelayMs, type RetryPolicy } from './retry-policy.js';

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

export interface Manifest extends ManifestHead {
  body: Buffer;
  json: ManifestJson;
}

export interface ManifestJson {
  mediaType?: string;
  manifests?: Array<{ digest: string; mediaType?: string; platform?: { os?: string; architecture?: string } }>;
  config?: { digest: string };
  layers?: Array<{ digest: string }>;
}

/** What the registry allows, found out with requests that cannot change anything. */
export interface DeletionSupport {
  /** DELETE by digest works (`storage.delete.enabled`). */
  deleteEnabled: boolean;
  /** DELETE by tag removes just that tag (distribution 3.x, OCI 1.1). */
  tagDelete: boolean;
}

export interface RegistryClientOptions {
  /** Most connections open at once; requests beyond it queue. */
  connections: number;
  /** Per-request timeout for headers and body, in milliseconds. */
  timeoutMs?: number;
  /** TLS: a private CA, a client certificate (mTLS), or — loudly — no verification at all. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
  retry?: RetryPolicy;
}

const zeroDigest = `sha256:${'0'.repeat(64)}`;
/** Transport failures that leave a request unsent: the connection was refused, or never completed. */
const neverSentCodes = new Set(['ECONNREFUSED', 'CONNECT_TIMEOUT']);

/**
 * The registry's HTTP API (distribution / OCI distribution spec) over one keep-alive pool.
 * Every method either returns what the registry said or throws a RegistryError naming the
 * request; `null` stands for "does not exist" where that is an ordinary answer.
 */
export class RegistryClient {
  readonly host: string;
  readonly baseUrl: URL;
  private readonly pool: HttpPool;
  /** `baseUrl` as the pool sends to it: every request goes here, credentials never elsewhere. */
  private readonly origin: Origin;
  private readonly auth: Authenticator;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  /** Requests in flight, at most one per connection: the rest wait here, not in the pool's queue. */
  private readonly slots: Limiter;
  /** Requests sent (retries included): the benchmark compares it with the floor. */
  requests = 0;

  constructor(endpoint: RegistryEndpoint, options: RegistryClientOptions) {
    this.host = endpoint.host;
    this.baseUrl = endpoint.url;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = options.retry ?? defaultRetryPolicy;
    this.slots = new Limiter(options.connections);
    this.pool = new HttpPool({ connections: options.connections, timeoutMs: this.timeoutMs, ...(options.tls && { tls: options.tls }) });
    this.origin = this.pool.origin(this.baseUrl);
    this.auth = new Authenticator(endpoint.credentials, this.pool, this.retry, endpoint.host);
  }

  /** Closes the pool's connections; call it once no request is in flight. */
  async close(): Promise<void> {
    this.pool.close();
  }

  /** `GET /v2/`: the registry is up and speaks the v2 API (a 401 still means it is up). */
  async ping(): Promise<void> {
    await this.send('GET', '/v2/', { scope: '', ok: [200] });
  }

  /** True when `GET /v2/` answers at all; used to wait for a restarting registry. */
  async isUp(): Promise<boolean> {
    try {
      // No retries here: the caller polls, and wants each answer as it is.
      const response = await this.exchange('GET', '/v2/', {}, undefined);
      return response.status === 200 || response.status === 401;
    } catch {
      return false;
    }
  }

  /** Every repository, a page at a time (`_catalog` with `Link` pagination; at most 1000 a page on 2.8.2+). */
  async *catalogPages(pageSize = 1000): AsyncGenerator<string[]> {
    let url: URL | undefined = new URL(`/v2/_catalog?n=${pageSize}`, this.baseUrl);
    while (url) {
      const response = await this.send('GET', pathOf(url), { scope: 'registry:catalog:*', ok: [200] });
      const page = JSON.parse(response.body.toString('utf8')) as { repositories?: string[] | null };
      yield page.repositories ?? [];
      url = nextPageUrl(response.values('link'), url);
    }
  }

  /** Every tag of a repository (following `Link` pages on 3.x), `[]` when all were deleted, `null` when the repository is unknown. */
  async tags(repository: string): Promise<string[] | null> {
    const tags: string[] = [];
    let url: URL | undefined = new URL(`/v2/${repository}/tags/list`, this.baseUrl);
    while (url) {
      const first = tags.length === 0;
      // Only the first page may say "no such repository"; later, a 404 means the list is incomplete.
      const response = await this.send('GET', pathOf(url), { scope: pullScope(repository), ok: [200], absent: first ? [404] : [] });
      if (response.status === 404) return null;
      const page = JSON.parse(response.body.toString('utf8')) as { tags?: string[] | null };
      for (const tag of page.tags ?? []) tags.push(tag);
      url = nextPageUrl(response.values('link'), url);
    }
    return tags;
  }

  /** Digest and media type of a manifest by tag or digest, via HEAD with all four manifest types; `null` when absent. */
  async headManifest(repository: string, reference: string): Promise<ManifestHead | null> {
    const response = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, {
      scope: pullScope(repository),
      ok: [200],
      absent: [404],
      headers: { accept: manifestAccept },
    });
    if (response.status === 404) return null;
    const digest = response.header('docker-content-digest');
    if (digest) {
      return { digest, mediaType: response.header('content-type') ?? '', size: Number(response.header('content-length') ?? 0) };
    }
    // Without the digest header the only trustworthy digest is the hash of the exact bytes.
    const manifest = await this.getManifest(repository, reference);
    return manifest && { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size };
  }

  /** A manifest's bytes and parsed JSON; the digest is the hash of the bytes, checked against the header. */
  async getManifest(repository: string, reference: string): Promise<Manifest | null> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const response = await this.send('GET', path, {
      scope: pullScope(repository),
      ok: [200],
      absent: [404],
      headers: { accept: manifestAccept },
    });
    if (response.status === 404) return null;
    const digest = `sha256:${createHash('sha256').update(response.body).digest('hex')}`;
    const claimed = response.header('docker-content-digest');
    if (claimed && claimed !== digest) {
      throw new RegistryError(`manifest digest mismatch: registry says ${claimed}, content hashes to ${digest}`, {
        kind: 'protocol',
        method: 'GET',
        url: this.safeUrl(path),
      });
    }
    const json = JSON.parse(response.body.toString('utf8')) as ManifestJson;
    return {
      digest,
      mediaType: response.header('content-type') ?? json.mediaType ?? '',
      size: response.body.length,
      body: response.body,
      json,
    };
  }

  /**
   * `DELETE /v2/<name>/manifests/<reference>`: `'deleted'` on 202, `'absent'` on 404.
   * By digest this removes the manifest *and untags every tag on it*; by tag only 3.x accepts it.
   */
  async deleteManifest(repository: string, reference: string): Promise<'deleted' | 'absent'> {
    const path = `/v2/${repository}/manifests/${reference}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.send('DELETE', path, { scope: deleteScope(repository), ok: [202, 200], absent: [404] });
        // A 404 after a lost answer to an earlier attempt means that attempt did it.
        return response.status === 404 && attempt === 0 ? 'absent' : 'deleted';
      } catch (error) {
        // The outcome is unknown (connection lost, timeout, 5xx): look before deleting again.
        const unknownOutcome = error instanceof RegistryError && (error.kind === 'unreachable' || error.kind === 'timeout' || error.kind === 'server');
        if (!unknownOutcome || attempt >= this.retry.retries) throw error;
        await sleep(retryDelayMs(this.retry, attempt + 1));
        if ((await this.headManifest(repository, reference)) === null) return 'deleted';
      }
    }
  }

  /**
   * Whether deletion is enabled and whether tags can be deleted on their own, learned from two
   * DELETEs that cannot match anything: the all-zero digest (404 enabled, 405 disabled) and a
   * random tag name (400 DIGEST_INVALID on 2.x, which has no tag delete; 404 on 3.x, which has).
   * Both at once: neither can change anything, and the run waits for them before its first
   * change. The digest probe's answer is read first, as if it had been sent alone.
   */
  async deletionSupport(repository: string): Promise<DeletionSupport> {
    const digestPath = `/v2/${repository}/manifests/${zeroDigest}`;
    const tagPath = `/v2/${repository}/manifests/rc-probe-${randomUUID()}`;
    const [digestProbe, tagProbe] = await Promise.allSettled([
      this.raw('DELETE', digestPath, { scope: deleteScope(repository) }),
      this.raw('DELETE', tagPath, { scope: deleteScope(repository) }),
    ]);
    if (digestProbe.status === 'rejected') throw digestProbe.reason;
    const byDigest = digestProbe.value;
    const digestCode = registryErrorCode(byDigest.body.toString('utf8'));
    if (byDigest.status === 405 && digestCode === 'UNSUPPORTED') return { deleteEnabled: false, tagDelete: false };
    if (byDigest.status === 405) {
      throw new RegistryError(`registry ${this.host} refuses DELETE altogether; it may be in read-only maintenance mode, or a proxy blocks DELETE`, {
        kind: 'unsupported',
        method: 'DELETE',
        url: this.safeUrl(digestPath),
        status: 405,
        hint: 'make the registry writable (storage.maintenance.readonly.enabled: false) and allow DELETE through any proxy, then run rc again',
      });
    }
    this.expectStatus('DELETE', digestPath, byDigest, [404]);
    if (tagProbe.status === 'rejected') throw tagProbe.reason;
    const byTag = tagProbe.value;
    const tagCode = registryErrorCode(byTag.body.toString('utf8'));
    if (byTag.status === 400 && tagCode === 'DIGEST_INVALID') return { deleteEnabled: true, tagDelete: false };
    // OCI 1.1: a registry without tag delete may also answer 400 or 405.
    if (byTag.status === 400 || byTag.status === 405) return { deleteEnabled: true, tagDelete: false };
    this.expectStatus('DELETE', tagPath, byTag, [404]);
    return { deleteEnabled: true, tagDelete: true };
  }

  /**
   * Starts a blob upload and returns its id and URL. The registry creates
   * `_uploads/<id>` in its storage: finding it there proves which storage is the registry's.
   */
  async startUpload(repository: string): Promise<{ id: string; location: URL }> {
    const upload = await this.tryStartUpload(repository);
    if (!upload) {
      throw new RegistryError(`registry ${this.host} refused to start an upload`, {
        kind: 'unsupported',
        method: 'POST',
        url: this.safeUrl(`/v2/${repository}/blobs/uploads/`),
        hint: 'the registry may be read-only (storage.maintenance.readonly) or the credentials lack push rights',
      });
    }
    return upload;
  }

  /**
   * Tries to start an upload: the upload when the registry accepts it, null when it refuses
   * (read-only maintenance mode answers 405). Used to confirm a registry is read-only.
   */
  async tryStartUpload(repository: string): Promise<{ id: string; location: URL } | null> {
    const attempt = await this.probeUpload(repository);
    return 'refused' in attempt ? null : attempt;
  }

  /** Starts an upload, or says with which status the registry refused it (405: read-only maintenance mode). */
  async probeUpload(repository: string): Promise<{ id: string; location: URL } | { refused: number }> {
    const path = `/v2/${repository}/blobs/uploads/`;
    const response = await this.raw('POST', path, { scope: pushScope(repository) });
    if (response.status !== 202) return { refused: response.status };
    const location = response.header('location');
    const id = response.header('docker-upload-uuid');
    if (!location || !id) {
      throw new RegistryError('upload started without a Location or Docker-Upload-UUID', { kind: 'protocol', method: 'POST', url: this.safeUrl(path) });
    }
    return { id, location: this.sameOrigin(new URL(location, this.baseUrl)) };
  }

  /** Cancels an upload started with `startUpload`; the registry removes its `_uploads/<id>`. */
  async cancelUpload(repository: string, location: URL): Promise<void> {
    // distribution asks for the `delete` action on every DELETE, an upload's included.
    await this.send('DELETE', pathOf(location), { scope: deleteScope(repository), ok: [204, 200], absent: [404] });
  }

  /** Uploads a small blob in one request (POST, then PUT with the digest). Returns its digest. */
  async uploadBlob(repository: string, content: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const { location: url } = await this.startUpload(repository);
    url.searchParams.set('digest', digest);
    await this.send('PUT', pathOf(url), {
      scope: pushScope(repository),
      ok: [201],
      headers: { 'content-type': 'application/octet-stream' },
      body: content,
    });
    return digest;
  }

  /** Pushes a manifest to a tag or digest. Returns the digest the registry stored. */
  async putManifest(repository: string, reference: string, mediaType: string, body: Buffer): Promise<string> {
    const response = await this.send('PUT', `/v2/${repository}/manifests/${reference}`, {
      scope: pushScope(repository),
      ok: [201],
      headers: { 'content-type': mediaType },
      body,
    });
    return response.header('docker-content-digest') ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  /** A manifest of our own that nothing else can share: pushing it to a tag detaches that tag from its image. */
  async pushThrowawayManifest(repository: string, tag: string): Promise<string> {
    const config = Buffer.from(JSON.stringify({ 'registry-clean': 'throwaway', id: randomUUID() }));
    const configDigest = await this.uploadBlob(repository, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
        layers: [],
      }),
    );
    return this.putManifest(repository, tag, MediaType.ociManifest, manifest);
  }

  // --- transport -----------------------------------------------------------------------------

  /** One request to this registry; an answer not in `ok` (or `absent`) is thrown as a RegistryError. */
  private async send(method: string, path: string, options: SendOptions): Promise<HttpAnswer> {
    const response = await this.raw(method, path, options);
    if (options.absent?.includes(response.status)) {
      const code = registryErrorCode(response.body.toString('utf8'));
      // A 404 for a malformed name is not "absent": only the codes that mean "no such thing" are.
      if (!code || ['NAME_UNKNOWN', 'MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'TAG_UNKNOWN'].includes(code)) return response;
    }
    this.expectStatus(method, path, response, options.ok);
    return response;
  }

  private expectStatus(method: string, path: string, response: HttpAnswer, ok: number[]): void {
    if (ok.includes(response.status)) return;
    const code = registryErrorCode(response.body.toString('utf8'));
    // A 401 whose challenge says insufficient_scope: the credentials are fine, the rights are not.
    const insufficient = response.status === 401 && /error="?insufficient_scope/.test(response.header('www-authenticate') ?? '');
    const kind = insufficient ? 'forbidden' : kindForStatus(response.status, code);
    throw new RegistryError(describeFailure(kind, this.host), {
      kind,
      method,
      url: this.safeUrl(path),
      status: response.status,
      code,
      hint: hintFor(kind),
    });
  }

  /** One request with auth: on a 401 the challenge is answered once and the request retried. */
  private async raw(method: string, path: string, options: Partial<SendOptions>): Promise<HttpAnswer> {
    const scope = options.scope ?? '';
    let authorization = this.auth.headerFor(scope);
    let response = await this.once(method, path, options, authorization);
    if (response.status === 401) {
      const retry = await this.auth.answer(response.header('www-authenticate'), scope, authorization);
      if (retry) {
        authorization = this.auth.headerFor(scope);
        response = await this.once(method, path, options, authorization);
      }
    }
    return response;
  }

  /**
   * One exchange, sent again on a connection error, 429 or 5xx when that is safe: GET and HEAD
   * always; anything else only when its connection was refused or never completed (so nothing was sent).
   */
  private async once(method: string, path: string, options: Partial<SendOptions>, authorization: string | undefined): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      const last = attempt > this.retry.retries;
      try {
        const response = await this.exchange(method, path, options, authorization);
        if (last || !isIdempotent(method) || !isRetryableStatus(response.status)) return response;
        await sleep(retryDelayMs(this.retry, attempt, response.header('retry-after')));
      } catch (error) {
        if (last || !(error instanceof RegistryError)) throw error;
        const transportCode = (error.cause as { code?: string } | undefined)?.code;
        // Refused, or never connected: the request was not sent, so even a DELETE may be sent again.
        const neverSent = transportCode !== undefined && neverSentCodes.has(transportCode);
        // A certificate problem does not go away by asking again.
        const certificate = error.kind === 'tls';
        // Closed by rc itself (the run is ending): asking again would only wait out the backoff.
        const closed = transportCode === 'CLOSED';
        if (certificate || closed || !(isIdempotent(method) || neverSent)) throw error;
        await sleep(retryDelayMs(this.retry, attempt));
      }
    }
  }

  // Not async itself, as the methods above are: each async layer is a promise more per request.
  private exchange(method: string, path: string, options: Partial<SendOptions>, authorization: string | undefined): Promise<HttpAnswer> {
    return this.slots.run(() => this.exchangeNow(method, path, options, authorization));
  }

  private async exchangeNow(method: string, path: string, options: Partial<SendOptions>, authorization: string | undefined): Promise<HttpAnswer> {
    this.requests++;
    const headers: Record<string, string> = { ...options.headers };
    if (authorization) headers.authorization = authorization;
    try {
      return await this.pool.send(this.origin, path, { method, headers, ...(options.body && { body: options.body }) });
    } catch (cause) {
      throw this.transportError(method, path, cause);
    }
  }

  /** Why a request got no answer, in words that say what to do: unreachable, timed out, or a TLS problem. */
  private transportError(method: string, path: string, cause: unknown): RegistryError {
    const clean = causeWithoutSecrets(cause);
    const code = clean.code ?? '';
    const detail = clean.message;
    const where = { method, url: this.safeUrl(path), cause: clean };
    const settings = `registries["${this.host}"]`;
    const tls = tlsFailure(code, detail);
    if (tls) return tlsError(tls, `registry ${this.host}`, settings, detail, where);
    if (code === 'CONNECT_TIMEOUT') {
      return new RegistryError(`cannot reach registry ${this.host}: ${detail}`, {
        kind: 'unreachable',
        ...where,
        hint: `check that the registry runs, that ${this.baseUrl.origin} is its address (${settings}.url), and that no firewall drops the connection`,
      });
    }
    if (/timeout/i.test(`${code} ${detail}`)) {
      return new RegistryError(`registry ${this.host} did not answer in time (${detail})`, {
        kind: 'timeout',
        ...where,
        hint: `the registry is overloaded or the network is slow; retry, lower --concurrency, or raise ${settings}.timeoutSeconds`,
      });
    }
    const mtls = this.origin.secure && /other side closed|socket hang up|ECONNRESET|certificate required|handshake/i.test(detail);
    return new RegistryError(`cannot reach registry ${this.host}: ${detail}`, {
      kind: 'unreachable',
      ...where,
      hint: mtls
        ? `the registry closed the TLS connection: if it requires a client certificate (mTLS), set ${settings}.cert and .key`
        : `check that the registry runs and that ${this.baseUrl.origin} is its address (${settings}.url)`,
    });
  }

  /**
   * An upload URL on our own origin: behind a TLS-terminating proxy the registry may answer
   * with `http://` or an internal host, and credentials must not follow it there.
   */
  private sameOrigin(url: URL): URL {
    return new URL(`${url.pathname}${url.search}`, this.baseUrl);
  }

  private safeUrl(path: string): string {
    return new URL(path, this.baseUrl).toString();
  }
}

interface SendOptions {
  scope: string;
  ok: number[];
  /** Statuses meaning "does not exist": returned to the caller instead of thrown. */
  absent?: number[];
  headers?: Record<string, string>;
  body?: Buffer;
}

/** The path and query of a URL on the registry's own origin. */
function pathOf(url: URL): string {
  return `${url.pathname}${url.search}`;
}

function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}
function deleteScope(repository: string): string {
  return `repository:${repository}:delete`;
}

function describeFailure(kind: string, host: string): string {
  switch (kind) {
    case 'unauthorized':
      return `registry ${host} refused our credentials`;
    case 'forbidden':
      return `registry ${host} refused: the account lacks the rights for this operation`;
    case 'unsupported':
      return `registry ${host} does not support this operation`;
    case 'server':
      return `registry ${host} failed with a server error`;
    default:
      return `registry ${host} answered unexpectedly`;
  }
}

function hintFor(kind: string): string | undefined {
  switch (kind) {
    case 'unauthorized':
      return 'set username and password (or passwordEnv) under registries.<host> in the config';
    case 'forbidden':
      return 'the account needs pull, push and delete rights on these repositories';
    case 'server':
      return 'see the registry log; retry once it is healthy';
    default:
      return undefined;
  }
}
