import { RunError } from '../errors/run-error.js';

export type RegistryErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'tls'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'unsupported'
  | 'digest-invalid'
  | 'server'
  | 'protocol';

interface RegistryErrorDetails {
  kind: RegistryErrorKind;
  method: string;
  /** The request URL, never with credentials in it. */
  url: string;
  status?: number;
  /** The registry's own error code, e.g. MANIFEST_UNKNOWN, UNSUPPORTED. */
  code?: string;
  hint?: string;
  cause?: unknown;
}

/** A registry request that failed, with everything needed to say why: `405 UNSUPPORTED: DELETE http://…`. */
export class RegistryError extends RunError {
  readonly kind: RegistryErrorKind;
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(summary: string, details: RegistryErrorDetails) {
    const status = details.status === undefined ? '' : ` ${details.status}${details.code ? ` ${details.code}` : ''}`;
    super(`${summary} (${details.method} ${details.url}${status ? ` →${status}` : ''})`, {
      hint: details.hint,
      cause: details.cause,
    });
    this.kind = details.kind;
    this.method = details.method;
    this.url = details.url;
    this.status = details.status;
    this.code = details.code;
  }
}

/** First error code of a distribution error body: `{"errors":[{"code":"MANIFEST_UNKNOWN",…}]}`. */
export function registryErrorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown }> };
    const code = parsed.errors?.[0]?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

export function kindForStatus(status: number, code: string | undefined): RegistryErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 405 || code === 'UNSUPPORTED') return 'unsupported';
  if (status === 400 && code === 'DIGEST_INVALID') return 'digest-invalid';
  if (status >= 500) return 'server';
  return 'protocol';
}
