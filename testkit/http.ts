import { createHash } from 'node:crypto';
import { Agent, type Dispatcher, interceptors, request } from 'undici';

/** Basic-auth credentials for a registry started with `htpasswd`. */
export interface Credentials {
  username: string;
  password: string;
}

/** What the kit's registry calls return: the whole body, read. */
export interface RegistryResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** A registry answer the kit did not expect, with the registry's own error code when it sent one. */
export class RegistryResponseError extends Error {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly code: string | undefined;
  readonly body: string;

  constructor(method: string, url: string, response: RegistryResponse, expected: string) {
    const body = response.body.toString('utf8');
    const code = registryErrorCode(body);
    super(`${method} ${url} → ${response.status}${code ? ` ${code}` : ''} (expected ${expected})${body ? `: ${body.slice(0, 500).trim()}` : ''}`);
    this.name = 'RegistryResponseError';
    this.status = response.status;
    this.method = method;
    this.url = url;
    this.code = code;
    this.body = body;
  }
}

/** The first `errors[].code` of a registry error body, if it is one. */
export function registryErrorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown }> };
    const code = parsed.errors?.[0]?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

let dispatcher: Dispatcher | undefined;
let agent: Agent | undefined;

/**
 * One keep-alive agent for the whole kit, created on first use. Redirects are followed
 * because a registry may send blob GETs to its storage backend.
 */
export function testkitDispatcher(): Dispatcher {
  if (!dispatcher) {
    agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
    dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  }
  return dispatcher;
}

/** Closes the kit's sockets so a script can exit at once; the next call opens a new agent. */
export async function closeTestkitHttp(): Promise<void> {
  const closing = agent;
  agent = undefined;
  dispatcher = undefined;
  await closing?.close();
}

export function authorization(credentials: Credentials | undefined): Record<string, string> {
  if (!credentials) return {};
  const token = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return { authorization: `Basic ${token}` };
}

export interface CallOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: Buffer | string;
  credentials?: Credentials | undefined;
}

/** One request with the body read in full (the registry's bodies here are small). */
export async function call(url: string, options: CallOptions = {}): Promise<RegistryResponse> {
  const method = options.method ?? 'GET';
  const response = await request(url, {
    method,
    dispatcher: testkitDispatcher(),
    headers: { ...authorization(options.credentials), ...options.headers },
    body: options.body ?? null,
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(response.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return { status: response.statusCode, headers, body };
}

/** `call`, throwing a RegistryResponseError unless the status is one of `expected`. */
export async function callExpecting(url: string, expected: number[], options: CallOptions = {}): Promise<RegistryResponse> {
  const response = await call(url, options);
  if (!expected.includes(response.status)) {
    throw new RegistryResponseError(options.method ?? 'GET', url, response, expected.join(' or '));
  }
  return response;
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** `http://127.0.0.1:5000` + `/v2/` + repository path + rest; tolerates a trailing slash on the base. */
export function v2Url(registryUrl: string, path: string): string {
  return `${registryUrl.replace(/\/+$/, '')}/v2/${path}`;
}
