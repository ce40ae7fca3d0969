import { setTimeout as sleep } from 'node:timers/promises';
import { causeWithoutSecrets } from './cause-without-secrets.js';
import type { RegistryCredentials } from './endpoint.js';
import { RegistryError } from './errors.js';
import type { HttpAnswer, HttpPool } from './http-pool.js';
import { isRetryableStatus, retryDelayMs, type RetryPolicy } from './retry-policy.js';
import { tlsError, tlsFailure } from './tls-failure.js';

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const param of (match[2] ?? '').matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[(param[1] ?? '').toLowerCase()] = (param[2] ?? param[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: (match[1] ?? '').toLowerCase(), params };
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/**
 * Answers a registry's 401 challenges lazily: basic credentials as they are, bearer tokens
 * fetched from the challenge's realm and cached per scope until shortly before they expire.
 * Tokens and passwords live only here and in request headers; nothing logs them.
 */
export class Authenticator {
  private basic: string | undefined;
  /** Tokens by the scope the registry's challenge named. */
  private readonly tokens = new Map<string, CachedToken>();
  /** The scope a request asked for → the scope the registry's challenge named for it. */
  private readonly challengedScope = new Map<string, string>();
  /** Token fetches in flight per scope: concurrent 401s for one scope share one fetch. */
  private readonly fetching = new Map<string, Promise<CachedToken>>();
  private scheme: 'basic' | 'bearer' | undefined;

  constructor(
    private readonly credentials: RegistryCredentials | undefined,
    private readonly pool: HttpPool,
    /** Token fetches change nothing, so a failing token server is asked again like a failing GET. */
    private readonly retry: RetryPolicy,
    /** The registry these credentials are for, named in errors. */
    private readonly registry?: string,
  ) {
    if (credentials && 'username' in credentials) {
      this.basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    }
  }

  /** The Authorization header to send for a request needing `scope`, if a challenge has been seen. */
  headerFor(scope: string): string | undefined {
    if (this.scheme === 'basic' && this.basic) return `Basic ${this.basic}`;
    if (this.scheme === 'bearer') {
      const token = this.validToken(this.challengedScope.get(scope) ?? scope);
      if (token) return `Bearer ${token.value}`;
    }
    if (this.credentials && 'token' in this.credentials && this.scheme !== 'basic') {
      return `Bearer ${this.credentials.token}`;
    }
    return undefined;
  }

  /**
   * Learns from a 401's `WWW-Authenticate`. Returns true when a retry can now carry credentials
   * it did not carry before; false when retrying would only fail the same way.
   */
  async answer(wwwAuthenticate: string | undefined, scope: string, sent: string | undefined): Promise<boolean> {
    const challenge = wwwAuthenticate ? parseChallenge(wwwAuthenticate) : undefined;
    if (!challenge) return false;
    if (challenge.scheme === 'basic') {
      this.scheme = 'basic';
      return this.basic !== undefined && sent !== `Basic ${this.basic}`;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return false;
    this.scheme = 'bearer';
    const wanted = challenge.params.scope ?? scope;
    this.challengedScope.set(scope, wanted);
    // A token already held for the scope the registry names is used as it is: one fetch per scope.
    let token = this.validToken(wanted);
    if (!token || `Bearer ${token.value}` === sent) {
      let pending = this.fetching.get(wanted);
      if (!pending) {
        pending = this.fetchToken(challenge, wanted).finally(() => this.fetching.delete(wanted));
        this.fetching.set(wanted, pending);
      }
      token = await pending;
      this.tokens.set(wanted, token);
    }
    return `Bearer ${token.value}` !== sent;
  }

  private validToken(scope: string): CachedToken | undefined {
    const token = this.tokens.get(scope);
    return token && token.expiresAt > Date.now() ? token : undefined;
  }

  /**
   * A token from the challenge's realm: a GET with basic credentials (or none, for anonymous
   * pulls), or — holding an identity token — the OAuth2 refresh-token POST docker uses.
   */
  private async fetchToken(challenge: Challenge, scope: string): Promise<CachedToken> {
    const realm = new URL(challenge.params.realm ?? '');
    const scopes = scope.split(' ').filter(Boolean);
    const safeUrl = `${realm.origin}${realm.pathname}`;
    const identityToken = this.credentials && 'identityToken' in this.credentials ? this.credentials.identityToken : undefined;
    const headers: Record<string, string> = {};
    let form: string | undefined;
    if (identityToken) {
      const params = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identityToken, client_id: 'registry-clean' });
      if (challenge.params.service) params.set('service', challenge.params.service);
      if (scopes.length > 0) params.set('scope', scopes.join(' '));
      form = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
      for (const one of scopes) realm.searchParams.append('scope', one);
      if (this.basic) headers.authorization = `Basic ${this.basic}`;
    }
    const method = identityToken ? 'POST' : 'GET';
    const response = await this.askTokenServer(realm, { method, headers, ...(form !== undefined && { body: form }) }, safeUrl);
    const where = { method, url: safeUrl, status: response.status };
    if (response.status === 401 || response.status === 403 || (identityToken && refusedGrant(response))) {
      throw new RegistryError(`token server refused the credentials${this.registry ? ` for registry ${this.registry}` : ''}`, {
        kind: response.status === 403 ? 'forbidden' : 'unauthorized',
        ...where,
        hint: identityToken
          ? 'the identity token (from docker login) was refused or has expired: log in again, or configure username and password instead'
          : 'check the username and password configured for this registry',
      });
    }
    if (response.status !== 200) {
      const failing = isRetryableStatus(response.status);
      const attempts = this.retry.retries + 1;
      throw new RegistryError(failing ? `token server failed${attempts > 1 ? ` on all ${attempts} attempts` : ''}` : 'token server gave an unexpected answer', {
        kind: failing ? 'server' : 'protocol',
        ...where,
        hint: failing ? 'see the token server\'s log; retry once it is healthy' : `check that ${safeUrl}, the realm the registry names, is its token server`,
      });
    }
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(response.body.toString('utf8')) as typeof body;
    } catch {
      throw new RegistryError('token server answered with something that is not JSON', { ...where, kind: 'protocol', hint: `check that ${safeUrl}, the realm the registry names, is its token server` });
    }
    const value = body.token ?? body.access_token;
    if (!value) {
      throw new RegistryError('token server answered without a token', { ...where, kind: 'protocol' });
    }
    // Refresh 10 s early so a token does not expire between check and use.
    const lifetime = Math.max((body.expires_in ?? 60) - 10, 5) * 1000;
    return { value, expiresAt: Date.now() + lifetime };
  }

  /** One token request, asked again (as the registry's own GETs are) on 429, 5xx or no answer; never after a certificate error. */
  private async askTokenServer(url: URL, init: { method: string; headers: Record<string, string>; body?: string }, safeUrl: string): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      const last = attempt > this.retry.retries;
      try {
        const response = await this.pool.request(url, init);
        if (last || !isRetryableStatus(response.status)) return response;
        await sleep(retryDelayMs(this.retry, attempt, response.header('retry-after')));
      } catch (cause) {
        const reason = causeWithoutSecrets(cause);
        const tls = tlsFailure(reason.code ?? '', reason.message);
        // Asking again cannot mend a certificate.
        if (tls) throw tlsError(tls, 'the token server', `registries["${this.registry ?? '<host>'}"]`, reason.message, { method: init.method, url: safeUrl, cause: reason });
        if (last) {
          throw new RegistryError(`token server unreachable: ${reason.message}`, {
            kind: 'unreachable',
            method: init.method,
            url: safeUrl,
            cause: reason,
            hint: `check that the token server at ${safeUrl}, the realm the registry names, runs and is reachable from here`,
          });
        }
        await sleep(retryDelayMs(this.retry, attempt));
      }
    }
  }
}

/**
 * An OAuth2 token endpoint answers a refused grant with 400 and `error` in its JSON (RFC 6749,
 * 5.2): an identity token that expired or was revoked reads `invalid_grant`.
 */
function refusedGrant(response: HttpAnswer): boolean {
  if (response.status !== 400) return false;
  try {
    const { error } = JSON.parse(response.body.toString('utf8')) as { error?: string };
    return error === 'invalid_grant' || error === 'invalid_client' || error === 'unauthorized_client';
  } catch {
    return false;
  }
}
