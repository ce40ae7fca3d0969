import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Dispatcher } from 'undici';

/*
 * undici's Agent and request API from their own files. undici's index also loads fetch,
 * WebSocket, EventSource, cookies, caches and mocks, none of which rc uses: about 10 MB and
 * 40 ms more in every run that talks to a registry. undici 7 has no `exports` map, so these
 * paths are reachable; an upgrade that moves them fails test/registry/undici.test.ts.
 */
const require = createRequire(import.meta.url);

export const Agent: typeof UndiciAgent = require('undici/lib/dispatcher/agent.js');

const dispatcherRequest: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData> = require('undici/lib/api/api-request.js');

/**
 * undici's `request(url, options)` for a URL and an explicit dispatcher, as its index builds
 * it: the URL becomes `origin` and `path` (with the query), and the rest goes as it is.
 */
export function request(url: URL, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher }): Promise<Dispatcher.ResponseData> {
  return dispatcherRequest.call(options.dispatcher, { ...options, origin: url.origin, path: `${url.pathname}${url.search}` });
}
