/** Why a request got no answer: `code` as Node names it (ECONNREFUSED, …), TIMEOUT, CONNECT_TIMEOUT, or HPE_INVALID for an answer that is not HTTP. */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
