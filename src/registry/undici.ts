import type { Agent as UndiciAgent, Dispatcher } from 'undici';
import AgentClass from 'undici/lib/dispatcher/agent.js';
import dispatcherRequest from 'undici/lib/api/api-request.js';

/*
 * undici's Agent and request API from their own files. undici's index also loads fetch,
 * WebSocket, EventSource, cookies, caches and mocks, none of which rc uses: about 10 MB and
 * 40 ms more in every run that talks to a registry (and the bundle would carry all of it).
 * undici 7 has no `exports` map, so these paths are reachable; an upgrade that moves them fails
 * the build and test/registry/undici.test.ts. Their types: undici-internals.d.ts.
 */
export const Agent: typeof UndiciAgent = AgentClass;

/**
 * undici's `request(url, options)` for a URL and an explicit dispatcher, as its index builds
 * it: the URL becomes `origin` and `path` (with the query), and the rest goes as it is.
 */
export function request(url: URL, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher }): Promise<Dispatcher.ResponseData> {
  return dispatcherRequest.call(options.dispatcher, { ...options, origin: url.origin, path: `${url.pathname}${url.search}` });
}
