/** One whole HTTP/1.x answer, as read off a connection. */
export interface ParsedResponse {
  status: number;
  /** Header names and values alternating, as received. */
  rawHeaders: string[];
  body: Buffer;
  /** Whether the connection may carry another request: keep-alive, framed by length or chunks, and nothing sent beyond the answer. */
  reusable: boolean;
}

/** The answer broke HTTP/1.1's rules: the connection cannot be trusted for more. */
export class HttpParseError extends Error {
  readonly code = 'HPE_INVALID';
}

/** A head (status line and headers) larger than this is refused (Node's own parser refuses more than 16 KB). */
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line (size and extensions) longer than this is refused. */
const MAX_CHUNK_LINE_BYTES = 4096;
const LF = 10;
const CR = 13;
/** A token (RFC 9110 §5.6.2): what a header name must be, in an answer and in a request. */
export const httpToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

type State =
  | { kind: 'head' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-end' }
  | { kind: 'trailers' }
  | { kind: 'until-close' };

/**
 * Reads one response to one request off a stream of bytes that may arrive cut anywhere, and
 * frames its body as RFC 9112 §6.3 says: none after HEAD or for 1xx, 204 and 304; then chunked
 * transfer coding; then Content-Length; otherwise until the connection closes. Interim 1xx
 * answers are skipped. `feed` returns the answer once it is complete. Lines may end with a bare
 * LF as well as CR LF, as RFC 9112 §2.2 allows a recipient to read them (curl and Node do).
 */
export class ResponseParser {
  private state: State = { kind: 'head' };
  private pending: Buffer = Buffer.alloc(0);
  private readonly chunks: Buffer[] = [];
  private status = 0;
  private rawHeaders: string[] = [];
  private keepAlive = true;

  constructor(private readonly method: string) {}

  /** Takes the next bytes; returns the answer when they complete it. Throws HttpParseError on a malformed answer. */
  feed(data: Buffer): ParsedResponse | undefined {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    for (;;) {
      const before = this.pending.length;
      const state = this.state;
      const done = this.step(state);
      if (done) return done;
      // Nothing consumed and no new state: more bytes are needed.
      if (this.pending.length === before && this.state === state) return undefined;
    }
  }

  /** The connection ended: completes an answer that runs until close; otherwise there is none. */
  end(): ParsedResponse | undefined {
    if (this.state.kind !== 'until-close') return undefined;
    this.chunks.push(this.pending);
    this.pending = Buffer.alloc(0);
    return this.finish(false);
  }

  private step(state: State): ParsedResponse | undefined {
    switch (state.kind) {
      case 'head':
        return this.readHead();
      case 'length':
        return this.takeBody(state) === 0 ? this.finish(true) : undefined;
      case 'chunk-size': {
        const line = this.line(MAX_CHUNK_LINE_BYTES, 'chunk size');
        if (line === undefined) return undefined;
        const size = line.split(';', 1)[0]!.trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw new HttpParseError(`malformed chunk size ${JSON.stringify(size.slice(0, 20))}`);
        const remaining = Number.parseInt(size, 16);
        this.state = remaining === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remaining };
        return undefined;
      }
      case 'chunk-data':
        if (this.takeBody(state) === 0) this.state = { kind: 'chunk-end' };
        return undefined;
      case 'chunk-end': {
        const ending = this.pending[0] === CR ? 2 : 1;
        if (this.pending.length < ending) return undefined;
        if (this.pending[ending - 1] !== LF) throw new HttpParseError('a chunk is longer than its size says');
        this.pending = this.pending.subarray(ending);
        this.state = { kind: 'chunk-size' };
        return undefined;
      }
      case 'trailers': {
        const line = this.line(MAX_HEAD_BYTES, 'trailer');
        if (line === undefined) return undefined;
        return line === '' ? this.finish(true) : undefined;
      }
      case 'until-close':
        // Everything until the connection ends belongs to the body; `end` completes it.
        this.chunks.push(this.pending);
        this.pending = Buffer.alloc(0);
        return undefined;
    }
  }

  private readHead(): ParsedResponse | undefined {
    const head = this.headEnd();
    if (head === undefined ? this.pending.length > MAX_HEAD_BYTES : head.end > MAX_HEAD_BYTES) throw new HttpParseError(`the answer's headers are larger than ${MAX_HEAD_BYTES / 1024} KB`);
    if (head === undefined) return undefined;
    const lines = this.pending.toString('latin1', 0, head.end).split('\n').map(withoutCR);
    this.pending = this.pending.subarray(head.next);
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]!);
    if (!statusLine) throw new HttpParseError(`not an HTTP/1.x status line: ${JSON.stringify(lines[0]!.slice(0, 40))}`);
    const status = Number(statusLine[2]);
    const raw: string[] = [];
    let lengths: string[] = [];
    let codings: string[] = [];
    let connection: string[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      // A name is a token; a line starting with whitespace would be obsolete folding, refused as Node refuses it.
      if (colon <= 0 || !httpToken.test(line.slice(0, colon))) throw new HttpParseError(`malformed header line ${JSON.stringify(line.slice(0, 40))}`);
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      raw.push(name, value);
      const lower = name.toLowerCase();
      if (lower === 'content-length') lengths.push(value);
      else if (lower === 'transfer-encoding') codings = codings.concat(tokens(value));
      else if (lower === 'connection') connection = connection.concat(tokens(value));
    }
    if (status < 100) throw new HttpParseError(`status ${status} is not an HTTP status`);
    if (status === 101) throw new HttpParseError('the server switched protocols, which rc never asks for');
    // An interim answer (100 Continue, 103 Early Hints): the real one follows on the same connection.
    if (status < 200) return undefined;

    this.status = status;
    this.rawHeaders = raw;
    this.keepAlive = statusLine[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    if (this.method === 'HEAD' || status === 204 || status === 304) return this.finish(true);
    if (codings.length > 0) {
      // Content-Length beside Transfer-Encoding is how requests get smuggled: read the body, then drop the connection.
      if (lengths.length > 0) this.keepAlive = false;
      if (codings[codings.length - 1] === 'chunked') this.state = { kind: 'chunk-size' };
      else this.state = { kind: 'until-close' };
      return undefined;
    }
    if (lengths.length > 0) {
      lengths = [...new Set(lengths.flatMap((v) => v.split(',').map((s) => s.trim())))];
      if (lengths.length !== 1 || !/^\d{1,15}$/.test(lengths[0]!)) throw new HttpParseError(`malformed Content-Length ${JSON.stringify(lengths.join(', ').slice(0, 40))}`);
      const remaining = Number(lengths[0]);
      if (remaining === 0) return this.finish(true);
      this.state = { kind: 'length', remaining };
      return undefined;
    }
    this.state = { kind: 'until-close' };
    return undefined;
  }

  /**
   * Where the head ends: `end`, the LF that ends its last line (before it, the status line and
   * headers), and `next`, the first byte after the empty line that follows; undefined until it has arrived.
   */
  private headEnd(): { end: number; next: number } | undefined {
    for (let lf = this.pending.indexOf(LF); lf >= 0; lf = this.pending.indexOf(LF, lf + 1)) {
      if (this.pending[lf + 1] === LF) return { end: lf, next: lf + 2 };
      if (this.pending[lf + 1] === CR && this.pending[lf + 2] === LF) return { end: lf, next: lf + 3 };
    }
    return undefined;
  }

  /** The next line of pending bytes without its line ending, or undefined until it has arrived. */
  private line(limit: number, what: string): string | undefined {
    const end = this.pending.indexOf(LF);
    if (end < 0) {
      if (this.pending.length > limit) throw new HttpParseError(`a ${what} line is longer than ${limit} bytes`);
      return undefined;
    }
    const line = withoutCR(this.pending.toString('latin1', 0, end));
    this.pending = this.pending.subarray(end + 1);
    return line;
  }

  /** Moves up to `remaining` pending bytes into the body; returns how many are still to come. */
  private takeBody(state: { remaining: number }): number {
    const bytes = Math.min(state.remaining, this.pending.length);
    if (bytes > 0) {
      this.chunks.push(this.pending.subarray(0, bytes));
      this.pending = this.pending.subarray(bytes);
    }
    state.remaining -= bytes;
    return state.remaining;
  }

  private finish(framed: boolean): ParsedResponse {
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    // Bytes beyond the answer were not asked for: the connection is out of step, so it is not used again.
    return { status: this.status, rawHeaders: this.rawHeaders, body, reusable: framed && this.keepAlive && this.pending.length === 0 };
  }
}

function withoutCR(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function tokens(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0);
}
