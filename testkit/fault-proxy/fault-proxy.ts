import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback HTTP proxy in front of a real registry that misbehaves on purpose, the way a
 * flaky network, an overloaded registry or a load balancer does. `rc` talks to the proxy
 * (the image list names `127.0.0.1:PROXY_PORT`); every request the rules leave alone is
 * forwarded to the real registry unchanged — Host header included, so the registry's
 * `Location` headers point back at the proxy — and its answer is passed back unchanged.
 * Nothing is mocked: a faulted request either never reaches the registry (and the log says
 * so) or reaches it exactly as sent.
 *
 * Every request is logged with its fate and timestamps, so tests can count what `rc` sent
 * (`count`, `requests`) and when (`receivedAt`, `doneAt`).
 */

/** What to do to a request a rule picked. */
export type Fault =
  /** Drop the connection with a TCP reset before forwarding: the registry never sees the request. */
  | { type: 'reset' }
  /**
   * Forward the request, let the registry answer in full, then drop the connection instead of
   * passing the answer on: the change happened, the client cannot know (the "unknown outcome").
   */
  | { type: 'reset-after-forward' }
  /** Answer this status (503, 502, 429 …) without forwarding; `retryAfter` sets `Retry-After`. */
  | { type: 'status'; status: number; retryAfter?: string }
  /**
   * Hold the request for `ms`: `before-answer` (default) forwards at once and holds the
   * registry's answer; `before-forward` holds the request, then forwards it.
   */
  | { type: 'delay'; ms: number; phase?: 'before-answer' | 'before-forward' };

export interface FaultRule {
  /** Shown in the log; default `rule-<index>`. */
  name?: string;
  /** HTTP method(s) the rule applies to; default any. */
  method?: string | readonly string[];
  /** Tested against the request's path and query (`/v2/app/tags/list?n=10`). */
  path: RegExp;
  /** 1-based occurrences (among the requests this rule matches) that get the fault; default every one. */
  nth?: readonly number[];
  /** Chance that a matching occurrence gets the fault, drawn from the proxy's seeded RNG; default 1. */
  probability?: number;
  /** Most faults this rule injects; default unlimited. */
  limit?: number;
  fault: Fault;
}

/** What happened to one request. */
export type Fate =
  /** Still being handled. */
  | 'pending'
  /** Forwarded; the registry's answer was passed back (possibly after a delay). */
  | 'forwarded'
  /** Dropped before forwarding; the registry never saw it. */
  | 'reset'
  /** Forwarded and answered by the registry; the connection was dropped instead of answering. */
  | 'reset-after-forward'
  /** Answered with an injected status; the registry never saw it. */
  | 'injected'
  /** The client went away (gave up, timed out) before the answer could be sent. */
  | 'client-gone'
  /** The registry could not be reached; answered 502. */
  | 'upstream-error';

export interface ProxiedRequest {
  /** 1-based arrival order. */
  seq: number;
  method: string;
  /** Path and query. */
  path: string;
  /** The rule whose fault applied, if any. */
  rule?: string;
  fault?: Fault['type'];
  fate: Fate;
  /** Whether the request reached the registry. */
  forwarded: boolean;
  /** What the client got (undefined when the connection was dropped or the client left). */
  status?: number;
  /** What the registry answered, when it was asked. */
  upstreamStatus?: number;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
  /** `Date.now()` when the answer was sent or the connection dropped. */
  doneAt?: number;
}

export interface FaultProxyOptions {
  /** Rules, tried in order; the first that fires decides. More can be added later. */
  rules?: FaultRule[];
  /** Seed of the RNG behind `probability`; default 1. Same seed, same arrival order: same faults. */
  seed?: number;
}

export interface RequestFilter {
  method?: string;
  path?: RegExp;
  fate?: Fate;
  rule?: string;
  /** Only requests that reached the registry. */
  forwarded?: boolean;
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`: what goes in image references and config keys. */
  readonly host: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly log: readonly ProxiedRequest[];
  /** Requests matching the filter, in arrival order. */
  requests(filter?: RequestFilter): ProxiedRequest[];
  count(filter?: RequestFilter): number;
  addRule(rule: FaultRule): void;
  /** Removes every rule: from now on requests pass untouched. */
  clearRules(): void;
  /** Forgets the log (rule counters keep counting). */
  clearLog(): void;
  /**
   * Resolves with the first request (already logged or still to come) for which `predicate`
   * holds — checked on arrival and again when its fate is known; rejects after `timeoutMs`.
   */
  waitFor(predicate: (request: ProxiedRequest) => boolean, timeoutMs: number, what?: string): Promise<ProxiedRequest>;
  /** Stops listening, drops every connection and cancels held requests. Idempotent. */
  close(): Promise<void>;
}

/** mulberry32: small, fast and good enough to pick faults reproducibly. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Headers that belong to one connection, never passed through. */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name, value]) => value !== undefined && !hopByHop.has(name.toLowerCase())));
}

interface RuleState {
  rule: FaultRule;
  name: string;
  seen: number;
  fired: number;
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Starts the proxy on a free 127.0.0.1 port in front of `targetUrl` (`http://127.0.0.1:5000`). */
export async function startFaultProxy(targetUrl: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  if (target.protocol !== 'http:' || !/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(target.hostname)) {
    throw new Error(`fault proxy: only a plain-http loopback registry can be proxied, not ${targetUrl}`);
  }
  const random = seededRandom(options.seed ?? 1);
  const rules: RuleState[] = [];
  const log: ProxiedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<(entry: ProxiedRequest) => void>();
  const sockets = new Set<Socket>();
  const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let closed = false;
  let seq = 0;

  const addRule = (rule: FaultRule) => {
    rules.push({ rule, name: rule.name ?? `rule-${rules.length}`, seen: 0, fired: 0 });
  };
  for (const rule of options.rules ?? []) addRule(rule);

  const notify = (entry: ProxiedRequest) => {
    for (const waiter of [...waiters]) waiter(entry);
  };

  /** Counts the request against every rule it matches; the first rule that fires decides its fault. */
  const choose = (method: string, path: string): RuleState | undefined => {
    let chosen: RuleState | undefined;
    for (const state of rules) {
      const { rule } = state;
      const methods = rule.method === undefined ? undefined : typeof rule.method === 'string' ? [rule.method] : rule.method;
      if (methods && !methods.some((m) => m.toUpperCase() === method)) continue;
      if (!rule.path.test(path)) continue;
      state.seen += 1;
      if (chosen) continue;
      if (rule.nth && !rule.nth.includes(state.seen)) continue;
      if (rule.limit !== undefined && state.fired >= rule.limit) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      state.fired += 1;
      chosen = state;
    }
    return chosen;
  };

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const forward = (req: http.IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port || 80,
          method: req.method,
          path: req.url,
          headers: { ...endToEnd(req.headers), 'content-length': String(body.length) },
          agent: upstreamAgent,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const reset = (req: http.IncomingMessage) => {
    const socket = req.socket;
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = req.url ?? '/';
    const entry: ProxiedRequest = { seq: ++seq, method, path, fate: 'pending', forwarded: false, receivedAt: Date.now() };
    log.push(entry);
    const chosen = choose(method, path);
    if (chosen) {
      entry.rule = chosen.name;
      entry.fault = chosen.rule.fault.type;
    }
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) clientGone = true;
    });
    const finish = (fate: Fate, status?: number) => {
      entry.fate = fate;
      if (status !== undefined) entry.status = status;
      entry.doneAt = Date.now();
      notify(entry);
    };
    notify(entry);

    const fault = chosen?.rule.fault;
    const body = await readBody(req).catch(() => Buffer.alloc(0));
    if (closed) return;
    if (fault?.type === 'reset') {
      reset(req);
      return finish('reset');
    }
    if (fault?.type === 'status') {
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json; charset=utf-8' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      const code = fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE';
      const text = JSON.stringify({ errors: [{ code, message: `fault proxy: injected ${fault.status}`, detail: null }] });
      headers['content-length'] = Buffer.byteLength(text);
      res.writeHead(fault.status, headers);
      res.end(method === 'HEAD' ? undefined : text);
      return finish('injected', fault.status);
    }
    if (fault?.type === 'delay' && fault.phase === 'before-forward') await wait(fault.ms);
    if (closed) return;
    if (clientGone) return finish('client-gone');

    let answer: Upstream;
    try {
      entry.forwarded = true;
      answer = await forward(req, body);
    } catch {
      if (closed) return;
      if (clientGone) return finish('client-gone');
      // What a reverse proxy does when the registry is down: 502.
      res.writeHead(502, { 'content-type': 'text/plain', 'content-length': '25' });
      res.end(method === 'HEAD' ? undefined : 'fault proxy: upstream down');
      return finish('upstream-error', 502);
    }
    entry.upstreamStatus = answer.status;
    if (fault?.type === 'reset-after-forward') {
      reset(req);
      return finish('reset-after-forward');
    }
    if (fault?.type === 'delay' && fault.phase !== 'before-forward') await wait(fault.ms);
    if (closed) return;
    if (clientGone || res.destroyed) return finish('client-gone');
    res.writeHead(answer.status, endToEnd(answer.headers));
    res.end(method === 'HEAD' ? undefined : answer.body);
    return finish('forwarded', answer.status);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the proxy must not look like a registry answer: drop the connection and say so.
      process.stderr.write(`fault proxy: ${(error as Error).stack ?? String(error)}\n`);
      req.socket.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const matches = (request: ProxiedRequest, filter: RequestFilter = {}) =>
    (filter.method === undefined || request.method === filter.method.toUpperCase()) &&
    (filter.path === undefined || filter.path.test(request.path)) &&
    (filter.fate === undefined || request.fate === filter.fate) &&
    (filter.rule === undefined || request.rule === filter.rule) &&
    (filter.forwarded === undefined || request.forwarded === filter.forwarded);

  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    requests: (filter) => log.filter((r) => matches(r, filter)),
    count: (filter) => log.filter((r) => matches(r, filter)).length,
    addRule,
    clearRules: () => {
      rules.length = 0;
    },
    clearLog: () => {
      log.length = 0;
    },
    waitFor(predicate, timeoutMs, what = 'a matching request') {
      const found = log.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`fault proxy: no ${what} within ${timeoutMs} ms (saw ${log.length} requests)`));
        }, timeoutMs);
        const waiter = (entry: ProxiedRequest) => {
          if (!predicate(entry)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(entry);
        };
        waiters.add(waiter);
      });
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      upstreamAgent.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
