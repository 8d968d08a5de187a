// The one writer of HTTP responses. uWS forbids touching a response after the
// client aborted, wants every write outside the handler's synchronous part
// corked, and buffers without limit unless large bodies go out via
// tryEnd/onWritable. Routes hand their answer here and never touch `res`.
//
// Why a connection went away (Responder.closedBy): uWS v20 closes a
// connection when a request is parsed while the previous response is still
// pending (it does not support asynchronous pipelining, docs/http.md), and
// it does so inside the same read that completed the request. A request
// marked received (markReceived) and aborted before the event loop moved on
// (a setImmediate later) was therefore closed by the parser, not by its
// client.
import { Cancellation, type CancelSignal } from '../inference/cancel';
import type { HttpResponse } from './uws';

// Bumped once per event-loop turn in which a request was received.
let loopTurn = 0;
let turnArmed = false;
function nextTurn(): void {
  turnArmed = false;
  loopTurn++;
}

export type HeaderList = ReadonlyArray<readonly [string, string]>;

// How often a streamed answer had to wait for the client to read
// (onWritable calls), process-wide; tests read it to prove the path ran.
export const responderStats = { writableWaits: 0 };

// Bodies at least this large are streamed with tryEnd so a slow reader does
// not make uWS buffer the whole thing at once.
const STREAM_THRESHOLD_BYTES = 64 * 1024;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

const STATUS_LINES = new Map<number, string>();

export function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_TEXT[status] ?? 'Status'}`;
    STATUS_LINES.set(status, line);
  }
  return line;
}

// A JS string holds UTF-16 units; none takes more than 3 bytes in UTF-8. A
// string answer this short is surely under the streaming threshold and goes
// to uWS as it is (uWS encodes it); a longer one becomes bytes first.
const MAX_DIRECT_STRING_CHARS = Math.floor(STREAM_THRESHOLD_BYTES / 3);

// What the corked write of the answer being sent needs. cork() runs its
// callback synchronously, so one module-level slot (and one function) serves
// every answer without a closure per request.
let writingResponder: Responder | null = null;
let writingStatus = 0;
let writingHeaders: HeaderList = [];
let writingBody: Uint8Array | string | undefined;

function corkedWrite(): void {
  (writingResponder as Responder).writeCorked(writingStatus, writingHeaders, writingBody);
}

export class Responder {
  private abortedFlag = false;
  private sentFlag = false; // send() was called (the body may still be draining)
  private completeFlag = false; // fully written or aborted
  private readonly cancellation = new Cancellation();
  private resolveFinished: (() => void) | null = null;
  private finishedPromise: Promise<void> | null = null;
  status = 0; // what send() wrote, for logs
  // Set before send(): the answer carries `Connection: close` and uWS closes
  // the connection once it is written.
  closeConnection = false;
  // Bytes of the server's body budget this request holds (body.ts).
  bodyBytes = 0;
  // Why the connection went away before an answer was written.
  closedBy: 'client' | 'parser' | null = null;
  private receivedTurn = -1;

  // onComplete runs once, when the response is fully written or the client
  // went away (the owner's bookkeeping; a plain callback, no Promise per request).
  constructor(
    private readonly res: HttpResponse,
    private readonly onComplete: (() => void) | null = null,
  ) {
    res.onAborted(() => {
      this.abortedFlag = true;
      this.closedBy = this.receivedTurn === loopTurn && turnArmed ? 'parser' : 'client';
      this.complete();
      this.cancellation.cancel('client closed the connection');
    });
  }

  // The whole request (head and body) has arrived: see closedBy.
  markReceived(): void {
    this.receivedTurn = loopTurn;
    if (!turnArmed) {
      turnArmed = true;
      setImmediate(nextTurn);
    }
  }

  // Settles once the response is fully written or the client went away
  // (made on first use: only shutdown waits on it).
  get finished(): Promise<void> {
    if (this.completeFlag) return Promise.resolve();
    this.finishedPromise ??= new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    return this.finishedPromise;
  }

  // True when the client went away; nothing more may be written.
  get aborted(): boolean {
    return this.abortedFlag;
  }
  // True once the response is fully written or the client went away.
  get isComplete(): boolean {
    return this.completeFlag;
  }
  // Cancelled when the client goes away, so queued work can be dropped.
  get signal(): CancelSignal {
    return this.cancellation;
  }
  // True once an answer was started (or can no longer be given).
  get done(): boolean {
    return this.sentFlag || this.abortedFlag;
  }

  // Registers the body reader. Kept here so no one else holds `res`.
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    if (!this.abortedFlag) this.res.onData(handler);
  }

  // Writes status, headers and body. Returns false when nothing was written
  // (client gone or an answer was already given).
  send(status: number, headers: HeaderList, body?: Uint8Array | string): boolean {
    if (this.done) return false;
    this.sentFlag = true;
    this.status = status;
    const payload = typeof body === 'string' && body.length > MAX_DIRECT_STRING_CHARS ? Buffer.from(body) : body;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- cork takes a callback; a module-level one reading these slots saves a closure per response
    writingResponder = this;
    writingStatus = status;
    writingHeaders = headers;
    writingBody = payload;
    try {
      this.res.cork(corkedWrite);
    } finally {
      writingResponder = null;
      writingHeaders = [];
      writingBody = undefined;
    }
    return true;
  }

  // Inside cork() (see corkedWrite); nobody else calls it.
  writeCorked(status: number, headers: HeaderList, body: Uint8Array | string | undefined): void {
    const res = this.res;
    res.writeStatus(statusLine(status));
    for (let i = 0; i < headers.length; i++) res.writeHeader(headers[i][0], headers[i][1]);
    if (body === undefined || typeof body === 'string' || body.byteLength < STREAM_THRESHOLD_BYTES) {
      // end(body, true) writes `Connection: close` itself.
      res.end(body ?? '', this.closeConnection);
      this.complete();
    } else {
      // tryEnd cannot close: say so; the client closes, or the server's
      // close does (shutdown is the only time this is set for big bodies).
      if (this.closeConnection) res.writeHeader('Connection', 'close');
      this.stream(body);
    }
  }

  // A body of unknown length (chunked transfer encoding): writes each chunk
  // as `chunks` yields it and, when uWS reports backpressure, waits for the
  // client to read before asking for the next, so at most about one chunk is
  // buffered. Stops early when the client goes away. When `chunks` throws
  // after the head went out, the connection is closed (the client sees a
  // cut body, never a complete-looking one) and the error is rethrown.
  async sendChunked(status: number, headers: HeaderList, chunks: AsyncIterable<string>): Promise<void> {
    if (this.done) return;
    this.sentFlag = true;
    this.status = status;
    const res = this.res;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      for (const [name, value] of headers) res.writeHeader(name, value);
    });
    try {
      for await (const chunk of chunks) {
        if (this.abortedFlag) break;
        let drained = true;
        res.cork(() => {
          drained = res.write(chunk);
        });
        if (!drained && !this.abortedFlag) await this.writable();
        if (this.abortedFlag) break;
      }
    } catch (err) {
      if (!this.abortedFlag) res.close();
      this.complete();
      throw err;
    }
    if (!this.abortedFlag) res.cork(() => res.end(undefined, this.closeConnection));
    this.complete();
  }

  // Settles when uWS can take more (onWritable) or the client went away.
  private writable(): Promise<void> {
    return new Promise<void>((resolve) => {
      const listener = {
        onCancel: () => resolve(),
      };
      this.cancellation.subscribe(listener);
      this.res.onWritable(() => {
        responderStats.writableWaits++;
        this.cancellation.unsubscribe(listener);
        resolve();
        return true;
      });
    });
  }

  sendJson(status: number, value: unknown, headers: HeaderList = []): boolean {
    return this.send(status, [['Content-Type', 'application/json'], ...headers], JSON.stringify(value));
  }

  private stream(body: Uint8Array): void {
    const totalBytes = body.byteLength;
    const startOffset = this.res.getWriteOffset();
    const [, finished] = this.res.tryEnd(body, totalBytes);
    if (finished) {
      this.complete();
      return;
    }
    this.res.onWritable((offset) => {
      responderStats.writableWaits++;
      if (this.abortedFlag) return true;
      const [ok, done] = this.res.tryEnd(body.subarray(offset - startOffset), totalBytes);
      if (done) this.complete();
      return ok;
    });
  }

  private complete(): void {
    if (this.completeFlag) return;
    this.completeFlag = true;
    this.onComplete?.();
    this.resolveFinished?.();
  }
}
