// Reads a request body into one Buffer under a byte limit, then undoes a
// gzip/deflate Content-Encoding under the same limit (docs/protocol.md
// "Binary tensor data": 64 MiB by default, also after decompression).
//
// Memory is taken as bytes arrive, never from the client's Content-Length
// alone: a declared length reserves at most EAGER_BYTES up front and the
// buffer grows (doubling) with what is received. Every buffer counts against
// a BodyBudget shared by the server's connections until its request is
// answered (inputs read from it may be views into it), so slow or idle
// uploads cannot pile up memory: past the budget a request is refused with
// SERVER_BUSY. One request is read per connection at a time (uWS does not
// read a pipelined request before the previous one is answered), so the
// per-request limit is also the per-connection one.
import * as zlib from 'node:zlib';
import { MaasError } from '../../common/errors';
import type { CancelListener } from '../inference/cancel';
import type { Responder } from './responder';

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024 * 1024; // all bodies being held at once
// Bodies declared at most this large get their whole buffer at once.
const EAGER_BYTES = 64 * 1024;

// The bytes of request bodies held at once, across all connections. Owned by
// one HTTP server; each request's reservation is released when it is answered.
export class BodyBudget {
  private heldBytes = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.heldBytes;
  }

  // Takes `bytes` more (or gives back, when negative); false (taking
  // nothing) when that passes the budget.
  take(bytes: number): boolean {
    if (this.heldBytes + bytes > this.maxBytes) return false;
    this.heldBytes += bytes;
    return true;
  }

  give(bytes: number): void {
    this.heldBytes -= bytes;
  }
}

export interface BodyOptions {
  maxBodyBytes: number;
  contentLength: string; // the raw header, '' when absent (chunked); already checked to be digits
  contentEncoding: string; // the raw header, '' when absent
  budget: BodyBudget;
}

function tooLarge(maxBodyBytes: number): MaasError {
  return new MaasError('BODY_TOO_LARGE', `request body exceeds the limit of ${maxBodyBytes} bytes`);
}

function busy(budget: BodyBudget): MaasError {
  return new MaasError(
    'SERVER_BUSY',
    `the server holds ${budget.bytes} bytes of request bodies, near its limit of ${budget.maxBytes}; retry later`,
  );
}

// Must be called in the synchronous part of the route handler (uWS drops
// body chunks that arrive before onData is attached). Rejects with
// BODY_TOO_LARGE as soon as the declared or running size passes the limit,
// SERVER_BUSY when the budget cannot hold the body; later chunks are then
// ignored. Marks the request received (Responder.markReceived) when the
// last byte has arrived.
export function readBody(responder: Responder, options: BodyOptions): Promise<Buffer> {
  const declaredBytes = options.contentLength === '' ? -1 : Number(options.contentLength);
  if (declaredBytes > options.maxBodyBytes) return Promise.reject(tooLarge(options.maxBodyBytes));
  return new Promise<Buffer>((resolve, reject) => new BodyReader(responder, options, declaredBytes, resolve, reject));
}

// One request's body on its way in: the state readBody's callbacks share.
class BodyReader implements CancelListener {
  private buffer: Buffer | null = null;
  private receivedBytes = 0;
  private settled = false;

  constructor(
    private readonly responder: Responder,
    private readonly options: BodyOptions,
    private readonly declaredBytes: number, // -1: chunked
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    responder.signal.subscribe(this);
    responder.onData(this.onChunk);
  }

  onCancel(): void {
    if (!this.settled) this.fail(new MaasError('CANCELLED', 'client closed the connection while sending the body'));
  }

  private readonly onChunk = (chunk: ArrayBuffer, isLast: boolean): void => {
    if (this.settled) return;
    const { maxBodyBytes, budget } = this.options;
    const nextBytes = this.receivedBytes + chunk.byteLength;
    if (nextBytes > maxBodyBytes) return this.fail(tooLarge(maxBodyBytes));
    if (this.declaredBytes >= 0 && nextBytes > this.declaredBytes) {
      return this.fail(new MaasError('INVALID_REQUEST', 'body longer than Content-Length'));
    }
    if (chunk.byteLength > 0) {
      if (!this.reserve(nextBytes)) return this.fail(busy(budget));
      // uWS neuters the chunk after this callback: copy now.
      (this.buffer as Buffer).set(new Uint8Array(chunk), this.receivedBytes);
      this.receivedBytes = nextBytes;
    }
    if (isLast) this.finish();
  };

  private finish(): void {
    this.settled = true;
    this.responder.signal.unsubscribe(this);
    this.responder.markReceived();
    const body = this.buffer ? this.buffer.subarray(0, this.receivedBytes) : EMPTY_BODY;
    this.buffer = null;
    const { contentEncoding, maxBodyBytes, budget } = this.options;
    if (contentEncoding === '') return this.resolve(body);
    decode(body, contentEncoding, maxBodyBytes).then((decoded) => {
      // The decoded copy replaces the compressed one in the budget.
      if (decoded !== body && !holdBodyBytes(this.responder, budget, decoded.byteLength))
        return this.reject(busy(budget));
      this.resolve(decoded);
    }, this.reject);
  }

  // Grows the buffer to hold `needBytes`, within the budget.
  private reserve(needBytes: number): boolean {
    const { declaredBytes } = this;
    let capacity = this.buffer ? this.buffer.length : 0;
    if (needBytes <= capacity) return true;
    if (declaredBytes >= 0 && declaredBytes <= EAGER_BYTES) capacity = declaredBytes;
    else capacity = Math.max(EAGER_BYTES, capacity * 2, needBytes);
    if (declaredBytes >= 0) capacity = Math.min(capacity, declaredBytes);
    capacity = Math.min(capacity, this.options.maxBodyBytes);
    if (!holdBodyBytes(this.responder, this.options.budget, capacity)) return false;
    const grown = Buffer.allocUnsafe(capacity);
    if (this.buffer) this.buffer.copy(grown, 0, 0, this.receivedBytes);
    this.buffer = grown;
    return true;
  }

  private fail(err: MaasError): void {
    this.settled = true;
    this.responder.signal.unsubscribe(this);
    this.buffer = null;
    this.reject(err);
  }
}

const EMPTY_BODY = Buffer.alloc(0);

// Makes the request hold `bytes` of the budget (instead of what it held);
// the server gives them back when the request is answered (see app.ts).
function holdBodyBytes(responder: Responder, budget: BodyBudget, bytes: number): boolean {
  if (responder.isComplete) return false; // answered or gone: nothing may be held past that
  if (!budget.take(bytes - responder.bodyBytes)) return false;
  responder.bodyBytes = bytes;
  return true;
}

// Undoes Content-Encoding; the decompressed size is capped too.
export async function decode(body: Buffer, contentEncoding: string, maxBodyBytes: number): Promise<Buffer> {
  const encoding = contentEncoding.trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw new MaasError('INVALID_REQUEST', `unsupported Content-Encoding '${contentEncoding}' (use gzip or deflate)`);
  }
  const options: zlib.ZlibOptions = { maxOutputLength: maxBodyBytes };
  try {
    if (encoding === 'deflate') {
      // HTTP "deflate" is zlib-wrapped, but some clients send raw deflate.
      try {
        return await inflate(body, options);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw err;
        return await inflateRaw(body, options);
      }
    }
    return await gunzip(body, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBodyBytes);
    throw new MaasError('INVALID_REQUEST', `cannot decompress the ${encoding} body: ${(err as Error).message}`);
  }
}

function gunzip(body: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.gunzip(body, options, (err, out) => (err ? reject(err) : resolve(out))));
}
function inflate(body: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    zlib.inflate(body, options, (err, out) => (err ? reject(err) : resolve(out))),
  );
}
function inflateRaw(body: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    zlib.inflateRaw(body, options, (err, out) => (err ? reject(err) : resolve(out))),
  );
}
