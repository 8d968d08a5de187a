// The WebSocket streaming front end on the HTTP port, `GET /v2/stream`
// upgraded (docs/websocket.md). One socket carries many requests at once;
// each request is its own pipeline call (begin → admit → serving → finish),
// fed to the same serving layer and batchers as HTTP and gRPC. Answers go
// out as they finish, matched by `id`; a decoupled model's several answers
// go out in order, the last with final:true.
// Owner of every upgraded socket and its outgoing queue: this module. A
// socket's answers wait in its queue while the socket's buffered amount is
// above the high-water mark and flow again on drain; a client whose unread
// answers pass maxBufferedBytes is closed with 1008 instead of growing
// memory. A closed socket cancels its requests: queued ones never reach the
// engine, running ones are discarded.
import { performance } from 'node:perf_hooks';
import { MaasError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { sleep } from '../../common/timers';
import { Cancellation } from '../inference/cancel';
import { bearerToken } from '../pipeline/auth';
import type { Pipeline } from '../pipeline/pipeline';
import type { ModelService } from '../serving/types';
import type { TemplatedApp, WebSocket } from '../http/uws';
import {
  decodeWsInferRequest,
  encodeError,
  encodePong,
  encodeResult,
  peekId,
  parseFrame,
  type RequestId,
} from './messages';

export const WS_PATH = '/v2/stream';
export const DEFAULT_WS_MAX_IN_FLIGHT = 4096;
export const DEFAULT_WS_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
// Above this many buffered bytes a socket's answers wait for drain.
const HIGH_WATER_BYTES = 1024 * 1024;
const IDLE_TIMEOUT_S = 120;
const UWS_MAX_BACKPRESSURE_BYTES = 1 << 30;

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;

export interface WsDeps {
  serving: ModelService;
  pipeline: Pipeline;
  logger: Logger;
  maxMessageBytes: number; // a larger frame closes the socket with 1009
  maxInFlight?: number; // per socket; more answer TOO_MANY_IN_FLIGHT (429)
  maxBufferedBytes?: number; // per socket; unread answers beyond it close it with 1008
}

interface SocketState {
  token: string | null; // from the upgrade (Authorization or ?token=) or an auth message; never logged
  traceparent: string;
  tracestate: string;
  inFlight: Map<RequestId, Cancellation>;
  queue: Array<{ payload: Buffer | string; binary: boolean }>;
  queuedBytes: number;
  closed: boolean;
}

type Socket = WebSocket<SocketState>;

export interface WsFrontEnd {
  // Stops taking requests (they answer SHUTTING_DOWN), lets in-flight ones
  // finish until the deadline, then closes every socket with 1001.
  close(deadlineMs: number): Promise<void>;
}

export function attachWebSocket(app: TemplatedApp, deps: WsDeps): WsFrontEnd {
  const maxInFlight = deps.maxInFlight ?? DEFAULT_WS_MAX_IN_FLIGHT;
  const maxBufferedBytes = deps.maxBufferedBytes ?? DEFAULT_WS_MAX_BUFFERED_BYTES;
  const sockets = new Set<Socket>();
  let active = 0;
  let closing = false;

  const send = (ws: Socket, state: SocketState, payload: Buffer | string, binary: boolean): void => {
    if (state.closed) return;
    if (state.queue.length === 0 && ws.getBufferedAmount() < HIGH_WATER_BYTES) {
      if (ws.send(payload, binary) === 2)
        closeSocket(ws, state, CLOSE_TOO_BIG, 'an answer is larger than the socket may buffer');
      return;
    }
    state.queue.push({ payload, binary });
    state.queuedBytes += payload.length;
    if (state.queuedBytes + ws.getBufferedAmount() > maxBufferedBytes) {
      closeSocket(ws, state, CLOSE_POLICY, 'the client does not read its answers');
    }
  };

  const flush = (ws: Socket, state: SocketState): void => {
    while (!state.closed && state.queue.length > 0 && ws.getBufferedAmount() < HIGH_WATER_BYTES) {
      const next = state.queue.shift() as { payload: Buffer | string; binary: boolean };
      state.queuedBytes -= next.payload.length;
      ws.send(next.payload, next.binary);
    }
  };

  const closeSocket = (ws: Socket, state: SocketState, code: number, reason: string): void => {
    if (state.closed) return;
    deps.logger.warn({ code, inFlight: state.inFlight.size }, `WebSocket closed by the server: ${reason}`);
    ws.end(code, reason);
  };

  const infer = async (
    ws: Socket,
    state: SocketState,
    id: RequestId,
    body: Record<string, unknown>,
    binary: boolean,
    cancel: Cancellation,
  ): Promise<void> => {
    const call = deps.pipeline.begin({
      protocol: 'ws',
      operation: 'infer',
      model: typeof body.model === 'string' ? body.model : undefined,
      version: typeof body.version === 'string' ? body.version : undefined,
      traceparent: state.traceparent,
      tracestate: state.tracestate,
    });
    try {
      const admitted = deps.pipeline.admit(call, state.token);
      if (admitted) await admitted;
      const request = decodeWsInferRequest(body, binary, cancel);
      // The name as the auth step resolved it for the caller (a registry model).
      if (call.model !== undefined) request.modelName = call.model;
      request.call = call;
      // A decoupled model answers several times, final:false … final:true.
      let inferences = 0;
      await deps.serving.inferStream(request, (result, final) => {
        inferences += result.batchSize;
        if (final) state.inFlight.delete(id);
        send(ws, state, encodeResult(id, result, binary, final), binary);
      });
      deps.pipeline.finish(call, { error: null, clientGone: state.closed, inferences });
    } catch (err) {
      state.inFlight.delete(id);
      const error = deps.pipeline.fail(err);
      send(ws, state, encodeError(id, error, binary), binary);
      deps.pipeline.finish(call, { error, clientGone: state.closed, inferences: 0 }, err);
    } finally {
      active -= 1;
    }
  };

  const onMessage = (ws: Socket, frame: ArrayBuffer, binary: boolean): void => {
    const state = ws.getUserData();
    if (frame.byteLength > deps.maxMessageBytes) {
      closeSocket(
        ws,
        state,
        CLOSE_TOO_BIG,
        `a message of ${frame.byteLength} bytes is over the limit of ${deps.maxMessageBytes}`,
      );
      return;
    }
    // uWS reuses the frame's memory after this callback: tensors need a copy.
    const bytes = Buffer.from(frame.slice(0));
    let id: RequestId | undefined;
    try {
      const message = parseFrame(bytes, binary);
      switch (message.type) {
        case 'ping':
          send(ws, state, encodePong(binary), binary);
          return;
        case 'auth':
          state.token = message.token;
          return;
        case 'cancel': {
          id = message.id;
          const cancel = state.inFlight.get(id);
          if (!cancel)
            throw new MaasError('UNKNOWN_REQUEST_ID', `no request with id ${JSON.stringify(id)} is in flight`);
          cancel.cancel('cancelled by the client');
          return;
        }
        case 'infer': {
          id = message.id;
          if (closing) throw new MaasError('SHUTTING_DOWN', 'the server is shutting down');
          if (state.inFlight.has(id))
            throw new MaasError('INVALID_REQUEST', `a request with id ${JSON.stringify(id)} is already in flight`);
          if (state.inFlight.size >= maxInFlight) {
            throw new MaasError('TOO_MANY_IN_FLIGHT', `this socket already has ${maxInFlight} requests in flight`);
          }
          const cancel = new Cancellation();
          state.inFlight.set(id, cancel);
          active += 1;
          void infer(ws, state, id, message.body, binary, cancel);
          return;
        }
      }
    } catch (err) {
      const error = deps.pipeline.fail(err);
      send(ws, state, encodeError(id ?? peekId(bytes, binary), error, binary), binary);
    }
  };

  app.ws<SocketState>(WS_PATH, {
    maxPayloadLength: 2 * deps.maxMessageBytes, // up to twice the limit we answer 1009; beyond, uWS drops the connection
    // uWS's own cap drops what is sent above it, the close frame included;
    // our queue keeps uWS's buffer near HIGH_WATER_BYTES, so its cap only
    // has to stay out of the way.
    maxBackpressure: UWS_MAX_BACKPRESSURE_BYTES,
    idleTimeout: IDLE_TIMEOUT_S,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const query = new URLSearchParams(req.getQuery() ?? '');
      // As on HTTP: a bearer token, else x-api-key; here also ?token= (browsers
      // cannot set upgrade headers).
      const token =
        bearerToken(req.getHeader('authorization')) ??
        (req.getHeader('x-api-key').trim() || null) ??
        (query.get('token') || null);
      const state: SocketState = {
        token,
        traceparent: req.getHeader('traceparent'),
        tracestate: req.getHeader('tracestate'),
        inFlight: new Map(),
        queue: [],
        queuedBytes: 0,
        closed: false,
      };
      if (closing) {
        res
          .writeStatus('503 Service Unavailable')
          .end('{"error":"the server is shutting down","code":"SHUTTING_DOWN"}');
        return;
      }
      res.upgrade(
        state,
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      sockets.add(ws);
    },
    message: onMessage,
    drain: (ws) => flush(ws, ws.getUserData()),
    close: (ws) => {
      const state = ws.getUserData();
      state.closed = true;
      sockets.delete(ws);
      state.queue.length = 0;
      for (const cancel of state.inFlight.values()) cancel.cancel('the client disconnected');
    },
  });

  return {
    async close(deadlineMs) {
      closing = true;
      const startedMs = performance.now();
      while (active > 0 && performance.now() - startedMs < deadlineMs) await sleep(10);
      for (const ws of [...sockets]) {
        const state = ws.getUserData();
        flush(ws, state);
        if (!state.closed) ws.end(CLOSE_GOING_AWAY, 'the server is shutting down');
      }
    },
  };
}
