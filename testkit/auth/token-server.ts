import { createPrivateKey, createSign, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A token issuer for distribution's `auth.token`, on 127.0.0.1, per the distribution token
 * spec (docs: spec/auth/token.md, jwt.md, oauth.md):
 *
 * - `GET /token?service=…&scope=…` with Basic credentials (or none: anonymous) answers
 *   `{ token, access_token, expires_in, issued_at }`;
 * - `POST /token` with a form `grant_type=refresh_token&refresh_token=…` (docker's identity
 *   token) or `grant_type=password&username=…&password=…` answers the same.
 *
 * Tokens are RS256 JWTs whose header carries `x5c` = [the signing certificate], which the
 * registry verifies against its `rootcertbundle`. Each token grants the intersection of what
 * was asked and what the user may do. Every request is recorded for the tests to inspect.
 */

export type RepositoryAction = 'pull' | 'push' | 'delete';

export interface TokenUser {
  password: string;
  /** Actions granted on every repository. */
  actions: RepositoryAction[];
  /** `registry:catalog:*`: may list the catalog. */
  catalog?: boolean;
}

export interface TokenServerOptions {
  /** PEM files: the RSA signing key and its certificate (the registry's rootcertbundle). */
  signingKey: string | Buffer;
  /** Base64 DER of the signing certificate, for the `x5c` header. */
  signingCertDerBase64: string;
  /** The `iss` claim; the registry's `auth.token.issuer`. */
  issuer: string;
  users: Record<string, TokenUser>;
  /** Identity tokens (OAuth2 refresh tokens) the POST exchange accepts, and the user each stands for. */
  identityTokens?: Record<string, string>;
  /** `expires_in` of every token, in seconds; default 300. */
  expiresInSeconds?: number;
}

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequest {
  method: 'GET' | 'POST';
  /** `service` parameter as sent. */
  service: string | undefined;
  /** Every scope asked for, in order, as sent (`repository:demo/nginx:pull`). */
  scopes: string[];
  /** How the client authenticated. */
  via: 'basic' | 'anonymous' | 'refresh_token' | 'password' | 'invalid';
  /** The user the credentials named (even when they were wrong). */
  username: string | undefined;
  /** The refresh token sent with the POST exchange, if any. */
  refreshToken: string | undefined;
  /** 200 when a token was issued, else the error status. */
  status: number;
  /** What the issued token grants. */
  granted: AccessEntry[];
  /** The issued token (absent on errors). */
  token: string | undefined;
}

export interface TokenServer {
  /** `http://127.0.0.1:PORT/token`: the registry's `auth.token.realm`. */
  readonly realm: string;
  readonly issuer: string;
  /** Every request, in arrival order. */
  readonly requests: TokenRequest[];
  /** Every token handed out over HTTP (for the leak checks). */
  issuedTokens(): string[];
  /** Forgets the recorded requests (issued tokens stay listed). */
  resetRequests(): void;
  /** A token signed directly, without a request: for the tests' own reads of the registry. */
  mint(service: string, access: AccessEntry[], subject?: string): string;
  /** Makes the next answers wait this long (to widen or narrow races); default 0. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** `repository:demo/nginx:pull,push` → type, name, actions; the name may itself hold colons. */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

function signJwt(key: KeyObject, x5c: string, claims: Record<string, unknown>): string {
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [x5c] }));
  const payload = base64url(JSON.stringify(claims));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${payload}`);
  return `${header}.${payload}.${base64url(signer.sign(key))}`;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(options.signingKey);
  const expiresIn = options.expiresInSeconds ?? 300;
  const requests: TokenRequest[] = [];
  const issued: string[] = [];
  let delayMs = 0;

  const mint = (service: string, access: AccessEntry[], subject = ''): string => {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(key, options.signingCertDerBase64, {
      iss: options.issuer,
      sub: subject,
      aud: service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    });
  };

  /** The asked-for actions this user holds, per scope; scopes with nothing granted are left out. */
  const grant = (user: TokenUser | undefined, scopes: string[]): AccessEntry[] => {
    const granted: AccessEntry[] = [];
    for (const scope of scopes) {
      const wanted = parseScope(scope);
      if (!wanted || !user) continue;
      let actions: string[] = [];
      if (wanted.type === 'repository') actions = wanted.actions.filter((action) => (user.actions as string[]).includes(action));
      else if (wanted.type === 'registry' && wanted.name === 'catalog' && user.catalog) actions = wanted.actions.filter((action) => action === '*');
      if (actions.length > 0) granted.push({ type: wanted.type, name: wanted.name, actions });
    }
    return granted;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: unknown, record: Omit<TokenRequest, 'status'>) => {
      requests.push({ ...record, status });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname !== '/token' || (request.method !== 'GET' && request.method !== 'POST')) {
      response.writeHead(404).end();
      return;
    }
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));

    let service: string | undefined;
    let scopes: string[];
    let username: string | undefined;
    let password: string | undefined;
    let refreshToken: string | undefined;
    let via: TokenRequest['via'];
    if (request.method === 'GET') {
      service = url.searchParams.get('service') ?? undefined;
      scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      const header = request.headers.authorization;
      if (header?.startsWith('Basic ')) {
        const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        username = colon >= 0 ? decoded.slice(0, colon) : decoded;
        password = colon >= 0 ? decoded.slice(colon + 1) : '';
        via = 'basic';
      } else {
        via = header ? 'invalid' : 'anonymous';
      }
    } else {
      const form = new URLSearchParams(await readBody(request));
      service = form.get('service') ?? undefined;
      scopes = form.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      const grantType = form.get('grant_type');
      if (grantType === 'refresh_token') {
        via = 'refresh_token';
        refreshToken = form.get('refresh_token') ?? undefined;
        username = refreshToken === undefined ? undefined : Object.entries(options.identityTokens ?? {}).find(([known]) => sameSecret(known, refreshToken!))?.[1];
      } else if (grantType === 'password') {
        via = 'password';
        username = form.get('username') ?? undefined;
        password = form.get('password') ?? '';
      } else {
        send(400, { error: 'unsupported_grant_type' }, { method: 'POST', service, scopes, via: 'invalid', username: undefined, refreshToken: undefined, granted: [], token: undefined });
        return;
      }
    }
    const record = { method: request.method as 'GET' | 'POST', service, scopes, via, username, refreshToken };

    let user: TokenUser | undefined;
    if (via === 'basic' || via === 'password') {
      const candidate = username === undefined ? undefined : options.users[username];
      if (!candidate || password === undefined || !sameSecret(candidate.password, password)) {
        send(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication failed' }] }, { ...record, granted: [], token: undefined });
        return;
      }
      user = candidate;
    } else if (via === 'refresh_token') {
      user = username === undefined ? undefined : options.users[username];
      if (!user) {
        // RFC 6749, 5.2: a refused grant is a 400 with `error` naming why.
        send(400, { error: 'invalid_grant', error_description: 'unknown refresh token' }, { ...record, granted: [], token: undefined });
        return;
      }
    } else if (via === 'invalid') {
      send(401, { errors: [{ code: 'UNAUTHORIZED', message: 'unsupported authorization' }] }, { ...record, granted: [], token: undefined });
      return;
    }
    if (!service) {
      send(400, { errors: [{ code: 'INVALID_REQUEST', message: 'no service' }] }, { ...record, granted: [], token: undefined });
      return;
    }
    const granted = grant(user, scopes);
    const token = mint(service, granted, user ? username : '');
    issued.push(token);
    send(
      200,
      {
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: new Date().toISOString(),
        ...(via === 'refresh_token' && refreshToken ? { refresh_token: refreshToken } : {}),
        ...(via === 'refresh_token' ? { scope: scopes.join(' ') } : {}),
      },
      { ...record, granted, token },
    );
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error.message));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    realm: `http://127.0.0.1:${port}/token`,
    issuer: options.issuer,
    requests,
    issuedTokens: () => [...issued],
    resetRequests: () => {
      requests.length = 0;
    },
    mint,
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
