// A small client for the WebSocket streaming protocol (docs/websocket.md),
// used by tests and the benchmark: many requests in flight on one socket,
// answers matched by id, MessagePack or JSON frames. Built on the `ws`
// package, which we did not write, so the server meets an independent
// WebSocket implementation.
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';

export type WsEncoding = 'msgpack' | 'json';

export interface WsTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: Uint8Array | number[] | boolean[];
}

export interface WsResult {
  type: 'result';
  id: string | number;
  model: string;
  version: string;
  outputs: WsTensor[];
  final: boolean;
}

export interface WsErrorMessage {
  type: 'error';
  id?: string | number;
  code: string;
  status: number;
  message: string;
}

export class WsRequestError extends Error {
  constructor(readonly answer: WsErrorMessage) {
    super(`${answer.code} (${answer.status}): ${answer.message}`);
    this.name = 'WsRequestError';
  }
}

export interface WsInferOptions {
  id?: string | number;
  version?: string;
  outputs?: Array<{ name: string }>;
  parameters?: Record<string, string | number | boolean>;
  // Each answer before the final one (a decoupled model's final:false answers).
  onPartial?: (result: WsResult) => void;
}

interface Waiter {
  resolve: (r: WsResult) => void;
  reject: (e: Error) => void;
  onPartial?: (result: WsResult) => void;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export class WsClient {
  private nextId = 1;
  private readonly pending = new Map<string | number, Waiter>();
  private readonly pongs: Array<() => void> = [];
  // Errors the server sent without an id (a frame it could not read).
  readonly orphanErrors: WsErrorMessage[] = [];
  closeCode: number | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly socket: WebSocket,
    readonly encoding: WsEncoding,
  ) {
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closeCode = code;
        const error = new Error(`the socket closed (${code} ${reason.toString()})`);
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  // url: ws://host:port/v2/stream[?token=…]
  // headers: extra upgrade headers (x-api-key, for instance).
  static connect(
    url: string,
    options: { encoding?: WsEncoding; token?: string; headers?: Record<string, string> } = {},
  ): Promise<WsClient> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const socket = new WebSocket(url, { headers, maxPayload: 1 << 30 });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new WsClient(socket, options.encoding ?? 'msgpack')));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  // Sends one infer message; resolves with its result, rejects with WsRequestError.
  infer(model: string, inputs: WsTensor[], options: WsInferOptions = {}): Promise<WsResult> {
    // After the close event nothing would ever settle a new request.
    if (this.closeCode !== null) return Promise.reject(new Error(`the socket closed (${this.closeCode})`));
    const id = options.id ?? this.nextId++;
    const message: Record<string, unknown> = { type: 'infer', id, model, inputs };
    if (options.version !== undefined) message.version = options.version;
    if (options.outputs) message.outputs = options.outputs;
    if (options.parameters) message.parameters = options.parameters;
    const answer = new Promise<WsResult>((resolve, reject) =>
      this.pending.set(id, { resolve, reject, onPartial: options.onPartial }),
    );
    this.send(message);
    return answer;
  }

  cancel(id: string | number): void {
    this.send({ type: 'cancel', id });
  }

  ping(): Promise<void> {
    const pong = new Promise<void>((resolve) => this.pongs.push(resolve));
    this.send({ type: 'ping' });
    return pong;
  }

  send(message: unknown): void {
    if (this.encoding === 'msgpack') this.socket.send(packr.pack(message), { binary: true });
    else this.socket.send(JSON.stringify(message), { binary: false });
  }

  // Raw bytes or text, for tests of what the server does with bad frames.
  sendRaw(data: Buffer | string): void {
    this.socket.send(data, { binary: typeof data !== 'string' });
  }

  close(code = 1000): Promise<{ code: number; reason: string }> {
    this.socket.close(code);
    return this.closed;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const message = (isBinary ? unpackr.unpack(data) : JSON.parse(data.toString('utf8'))) as
      WsResult | WsErrorMessage | { type: 'pong' };
    if (message.type === 'pong') {
      this.pongs.shift()?.();
      return;
    }
    const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
    if (!waiter) {
      if (message.type === 'error') this.orphanErrors.push(message);
      return;
    }
    if (message.type === 'result' && !message.final) {
      waiter.onPartial?.(message);
      return;
    }
    this.pending.delete(message.id as string | number);
    if (message.type === 'result') waiter.resolve(message);
    else waiter.reject(new WsRequestError(message));
  }
}

// FP32 data for a tensor, in the encoding's form.
export function fp32Data(values: Float32Array, encoding: WsEncoding): Uint8Array | number[] {
  return encoding === 'msgpack'
    ? new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
    : Array.from(values);
}

// An FP32 output as a Float32Array, whichever encoding carried it.
export function fp32Output(tensor: WsTensor): Float32Array {
  if (tensor.data instanceof Uint8Array) {
    const copy = new Uint8Array(tensor.data); // aligned
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  }
  return Float32Array.from(tensor.data as number[]);
}
