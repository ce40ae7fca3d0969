import type { Socket } from 'node:net';
import { HttpParseError, type ParsedResponse, ResponseParser } from './http1-response-parser.js';
import { TransportError } from './transport-error.js';

/**
 * One HTTP/1.1 connection (plain TCP or TLS): one request at a time, answers read with
 * `ResponseParser`. While it waits for an answer, `timeoutMs` of silence fails the request; while
 * idle it does not keep the process alive, and closes after `idleMs`.
 */
export class Http1Connection {
  /** The socket has closed or is closing: it takes no more requests. */
  closed = false;
  private parser: ResponseParser | undefined;
  private waiting: { resolve: (answer: ParsedResponse) => void; reject: (error: TransportError) => void; timeoutMs: number } | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly idleMs: number,
    onClosed: (connection: Http1Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('end', () => this.onEnd());
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (error: Error & { code?: string }) => this.fail(error instanceof TransportError ? error : new TransportError(error.code ?? 'ERROR', error.message)));
    socket.on('close', () => {
      this.closed = true;
      this.fail(hangUp());
      onClosed(this);
    });
  }

  /** Sends one request (its head, and body if any, as bytes) and reads the whole answer. */
  exchange(request: string | Buffer, method: string, timeoutMs: number): Promise<ParsedResponse> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(hangUp());
      this.parser = new ResponseParser(method);
      this.waiting = { resolve, reject, timeoutMs };
      this.socket.ref();
      this.socket.setTimeout(timeoutMs);
      if (typeof request === 'string') this.socket.write(request, 'latin1');
      else this.socket.write(request);
    });
  }

  /** Closes the connection now; a request waiting on it fails. */
  destroy(error?: TransportError): void {
    this.closed = true;
    this.socket.destroy(error);
  }

  private onData(data: Buffer): void {
    const parser = this.parser;
    // Bytes nobody asked for: the connection is out of step with its requests.
    if (!parser) return this.destroy();
    let answer: ParsedResponse | undefined;
    try {
      answer = parser.feed(data);
    } catch (error) {
      if (!(error instanceof HttpParseError)) throw error;
      return this.destroy(new TransportError(error.code, `the answer is not valid HTTP/1.1: ${error.message}`));
    }
    if (answer) this.settle(answer);
  }

  private onEnd(): void {
    // Closed by the server while idle: taken out of use now, before a request is written to it.
    if (!this.waiting) return this.destroy();
    // An answer that runs until the connection closes is complete now; any other is cut off.
    const answer = this.parser?.end();
    if (answer) this.settle(answer);
    else this.fail(hangUp());
  }

  private onTimeout(): void {
    const waiting = this.waiting;
    if (!waiting) return this.destroy();
    const seconds = waiting.timeoutMs / 1000;
    this.destroy(this.socket.connecting ? new TransportError('CONNECT_TIMEOUT', `could not connect within ${seconds} s`) : new TransportError('TIMEOUT', `no answer within ${seconds} s`));
  }

  private settle(answer: ParsedResponse): void {
    const waiting = this.waiting!;
    this.parser = undefined;
    this.waiting = undefined;
    if (answer.reusable) {
      this.socket.setTimeout(this.idleMs);
      // As Node's own agent does with a free socket: an idle connection does not hold the process open.
      this.socket.unref();
    } else {
      this.destroy();
    }
    waiting.resolve(answer);
  }

  private fail(error: TransportError): void {
    const waiting = this.waiting;
    if (!waiting) return;
    this.parser = undefined;
    this.waiting = undefined;
    waiting.reject(error);
    if (!this.closed) this.destroy();
  }
}

/** The connection closed before the whole answer came: Node's own words and code for it. */
function hangUp(): TransportError {
  return new TransportError('ECONNRESET', 'socket hang up');
}
