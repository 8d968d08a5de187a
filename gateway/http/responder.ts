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
import type { HttpResponse } from './uws';

// Bumped once per event-loop turn in which a request was received.
let loopTurn = 0;
let turnArmed = false;
function nextTurn(): void {
  turnArmed = false;
  loopTurn++;
}

export type HeaderList = ReadonlyArray<readonly [string, string]>;

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

export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? 'Status'}`;
}

export class Responder {
  private abortedFlag = false;
  private sentFlag = false; // send() was called (the body may still be draining)
  private completeFlag = false; // fully written or aborted
  private readonly controller = new AbortController();
  private resolveFinished!: () => void;
  // Settles once the response is fully written or the client went away.
  readonly finished: Promise<void>;
  status = 0; // what send() wrote, for logs
  // Set before send(): the answer carries `Connection: close` and uWS closes
  // the connection once it is written.
  closeConnection = false;
  // Bytes of the server's body budget this request holds (body.ts).
  bodyBytes = 0;
  // Why the connection went away before an answer was written.
  closedBy: 'client' | 'parser' | null = null;
  private receivedTurn = -1;

  constructor(private readonly res: HttpResponse) {
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    res.onAborted(() => {
      this.abortedFlag = true;
      this.closedBy = this.receivedTurn === loopTurn && turnArmed ? 'parser' : 'client';
      this.complete();
      this.controller.abort(new Error('client closed the connection'));
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

  // True when the client went away; nothing more may be written.
  get aborted(): boolean {
    return this.abortedFlag;
  }
  // True once the response is fully written or the client went away.
  get isComplete(): boolean {
    return this.completeFlag;
  }
  // Aborted when the client goes away, so queued work can be dropped.
  get signal(): AbortSignal {
    return this.controller.signal;
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
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      for (const [key, value] of headers) this.res.writeHeader(key, value);
      if (!bytes || bytes.byteLength < STREAM_THRESHOLD_BYTES) {
        // end(body, true) writes `Connection: close` itself.
        this.res.end(bytes ?? '', this.closeConnection);
        this.complete();
      } else {
        // tryEnd cannot close: say so; the client closes, or the server's
        // close does (shutdown is the only time this is set for big bodies).
        if (this.closeConnection) this.res.writeHeader('Connection', 'close');
        this.stream(bytes);
      }
    });
    return true;
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
      if (this.abortedFlag) return true;
      const [ok, done] = this.res.tryEnd(body.subarray(offset - startOffset), totalBytes);
      if (done) this.complete();
      return ok;
    });
  }

  private complete(): void {
    if (this.completeFlag) return;
    this.completeFlag = true;
    this.resolveFinished();
  }
}
