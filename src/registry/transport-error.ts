/** Why a request got no answer: `code` as Node names it (ECONNREFUSED, …), TIMEOUT, CONNECT_TIMEOUT, HPE_INVALID for an answer that is not HTTP, or CLOSED when the client was closed. */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
