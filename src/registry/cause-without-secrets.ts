/**
 * Transport errors can embed an address; keep only code and message, with any userinfo removed,
 * and of an OpenSSL error only its reason (`sslv3 alert bad certificate`), not its source line.
 * The code stays readable as `code` too: whether a request may be sent again depends on it.
 */
export function causeWithoutSecrets(cause: unknown): Error & { code?: string } {
  const error = cause as { code?: string; message?: string };
  const message = String(error.message ?? cause)
    .replace(/\/\/[^/@\s]*@/g, '//')
    .replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):[\s\S]*$/, '$1');
  const clean: Error & { code?: string } = new Error(error.code ? `${error.code}: ${message}` : message);
  if (error.code) clean.code = error.code;
  return clean;
}
