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
