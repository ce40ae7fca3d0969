import { RegistryError } from './errors.js';

/**
 * What a failed TLS connection says about the certificates, from Node's error code and message:
 * - `refused`: the server alerted on our side of the handshake; with TLS 1.2 that is how a server
 *   that requires a client certificate says so;
 * - `untrusted`: the server's certificate does not verify against the CAs we trust.
 * Neither goes away by asking again. `undefined`: not a certificate problem.
 */
export function tlsFailure(code: string, detail: string): 'refused' | 'untrusted' | undefined {
  if (/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNKNOWN_CA|HANDSHAKE_FAILURE)/i.test(code)) return 'refused';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/.test(`${code} ${detail}`)) return 'untrusted';
  return undefined;
}

/**
 * The error for a TLS failure of `server` (`registry HOST`, `the token server`), with the
 * settings that mend it: `settings` names the registry's entry, whose TLS options apply to its
 * token server too (both go through one connection pool).
 */
export function tlsError(
  failure: 'refused' | 'untrusted',
  server: string,
  settings: string,
  detail: string,
  where: { method: string; url: string; cause: Error },
): RegistryError {
  if (failure === 'refused') {
    return new RegistryError(`${server} refused the TLS handshake: ${detail}`, {
      kind: 'tls',
      ...where,
      hint: `if it requires a client certificate (mTLS), set ${settings}.cert and .key to PEM files it accepts`,
    });
  }
  return new RegistryError(`the TLS certificate of ${server} is not trusted: ${detail}`, {
    kind: 'tls',
    ...where,
    hint: `set ${settings}.ca to the PEM file of the CA that signed it (or, at your own risk, ${settings}.insecure: true)`,
  });
}
