/**
 * webhook-summary: posts the run's report (what `rc clean --json` prints) as one JSON document
 * to a URL at the very end of every run — also when the run failed, so a chat channel or an
 * audit service hears about the failure too.
 *
 *   import webhookSummary from './examples/webhook-summary/index.ts';
 *   export default defineConfig({ plugins: [webhookSummary({ url: 'https://hooks.example.com/rc' })] });
 *
 * or, in a JSON/YAML config: `"plugins": [["./webhook-summary/index.ts", { "url": "…" }]]`.
 *
 * Credentials in the URL (`https://user:secret@host/…`) are sent as a Basic `Authorization`
 * header, never as part of the URL; the URL's path and query (where webhook services keep their
 * secret token) and the header values are never printed: messages show only scheme, host and port.
 */
import { definePlugin, type StepContext, type StepIO } from 'registry-clean';

export interface WebhookSummaryOptions {
  /** Where to POST the report. `user:password@` in it becomes a Basic Authorization header. */
  url: string;
  /** Extra request headers, e.g. `{ authorization: 'Bearer …' }`. Never printed. */
  headers?: Record<string, string>;
  /** How long to wait for the receiver; default 10. */
  timeoutSeconds?: number;
}

export const pluginName = 'webhook-summary';
export const stepId = 'webhook-summary';

export default definePlugin((options: WebhookSummaryOptions) => {
  const endpoint = parseEndpoint(options);
  const timeoutMs = (options.timeoutSeconds ?? 10) * 1000;
  return {
    name: pluginName,
    steps: [
      {
        id: stepId,
        title: `Post the summary to ${endpoint.shown}`,
        // Last of all, and even after a failure: the report then carries `error`.
        after: 'restart',
        always: true,
        async run(ctx: StepContext, io: StepIO) {
          const report = ctx.report();
          let response: Response;
          try {
            // Not ctx.signal: Ctrl-C stops the run's work, but the summary of what happened still goes out.
            response = await fetch(endpoint.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'user-agent': 'registry-clean webhook-summary', ...endpoint.headers },
              body: JSON.stringify(report),
              signal: AbortSignal.timeout(timeoutMs),
            });
          } catch (error) {
            throw new Error(`cannot post the summary to ${endpoint.shown}: ${describeFetchError(error, timeoutMs)}`);
          }
          // Read (and drop) the body so the connection is released.
          await response.arrayBuffer().catch(() => undefined);
          if (!response.ok) {
            throw new Error(`${endpoint.shown} refused the summary: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
          }
          io.title(`Post the summary to ${endpoint.shown}: sent (HTTP ${response.status})`);
        },
      },
    ],
  };
});

interface Endpoint {
  /** The URL without credentials: what fetch gets (it refuses URLs with credentials). */
  url: string;
  headers: Record<string, string>;
  /** Scheme, host and port only: safe to print. */
  shown: string;
}

function parseEndpoint(options: WebhookSummaryOptions | undefined): Endpoint {
  if (!options || typeof options.url !== 'string' || options.url === '') {
    throw new Error(`plugin ${pluginName}: the "url" option is required: plugins: [["<path to webhook-summary>", { "url": "https://…" }]]`);
  }
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    // The text may hold a secret: do not echo it.
    throw new Error(`plugin ${pluginName}: the "url" option is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`plugin ${pluginName}: the "url" option must be an http: or https: URL, not ${url.protocol}`);
  }
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = String(value);
  return { url: url.href, headers, shown: url.origin };
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  // undici's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a TLS error…).
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
