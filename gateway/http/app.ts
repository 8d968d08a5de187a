// The KServe v2 HTTP front end on uWebSockets.js (PROTOCOL.md 1.1-1.12, 5.2).
// The handler reads everything it needs from the request synchronously (uWS
// invalidates it on return), then answers through a Responder, the only
// writer of responses.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { ERRORS, MaasError, isErrorCode, type ErrorCode } from '../../common/errors';
import type { InferResult } from '../inference/types';
import type { ModelService } from '../repository/types';
import { decodeInferRequest } from '../tensors/infer-request';
import { encodeInferResponse } from '../tensors/infer-response';
import { readJson } from '../tensors/json-reader';
import { sleep, withDeadline } from '../../common/timers';
import { BodyBudget, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES, readBody, type BodyOptions } from './body';
import { MIN_COMPRESS_BYTES, compress, pickEncoding, type ResponseEncoding } from './compress';
import { Responder, type HeaderList } from './responder';
import { FRAMING_MESSAGES, readRequestHead, type FramingError, type RequestHead } from './request-head';
import { matchRoute, type RouteName } from './router';
import { loadUws, type HttpRequest, type us_listen_socket } from './uws';

export interface HttpDeps {
  models: ModelService;
  metrics: {
    contentType: string;
    text(): Promise<string>;
    // A connection closed because of what came on it (a ClosedBy reason).
    closedConnection?(reason: ClosedBy): void;
  };
  logger: Logger;
  maxBodyBytes?: number;
  maxBufferedBodyBytes?: number; // request bodies held at once, all connections (body.ts)
  serverName?: string;
  serverVersion?: string;
  closeDeadlineMs?: number; // how long close() waits for in-flight responses
  // After in-flight work is done, how long close() keeps answering 503 on
  // open connections once requests stop arriving (clients racing the close
  // get an answer, not a reset).
  closeLingerMs?: number;
}

// Why the server (or uWS, on its behalf) closed a connection: the label of
// maas_http_closed_connections_total.
export type ClosedBy = FramingError | 'async_pipelining' | 'body_too_large' | 'server_busy';

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

// Only what this front end really implements (PROTOCOL.md 1.3, Triton's order).
export const EXTENSIONS = ['schedule_policy', 'model_configuration', 'binary_tensor_data', 'parameters', 'statistics'];

const DEFAULT_CLOSE_DEADLINE_MS = 10_000;
const DEFAULT_CLOSE_LINGER_MS = 500;
// Errors after which the rest of what the client sends is not read: the
// answer closes the connection.
const CLOSING_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BODY_TOO_LARGE', 'SERVER_BUSY', 'MALFORMED_HTTP']);
const MAX_REQUEST_ID_CHARS = 200;
const JSON_TYPE = 'application/json';
const MAX_INDEX_BODY_BYTES = 64 * 1024; // POST /v2/repository/index carries {"ready": bool}

// What one request carries from the synchronous part of the handler.
interface RequestContext {
  responder: Responder;
  requestId: string;
  startedMs: number;
  refused?: boolean; // answered MALFORMED_HTTP (see refuse)
  responseEncoding?: ResponseEncoding; // from Accept-Encoding, for inference answers
  model?: string;
  version?: string;
}

export function startHttpServer(deps: HttpDeps, host: string, port: number): Promise<HttpServer> {
  const uws = loadUws();
  const app = uws.App();
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const budget = new BodyBudget(Math.max(maxBodyBytes, deps.maxBufferedBodyBytes ?? DEFAULT_MAX_BUFFERED_BYTES));
  const inFlight = new Set<RequestContext>();
  let closing = false;
  let lastArrivalMs = 0; // while closing

  app.any('/*', (res, req) => {
    const responder = new Responder(res);
    const ctx: RequestContext = { responder, requestId: '', startedMs: performance.now() };
    inFlight.add(ctx);
    void responder.finished.then(() => finish(ctx));
    try {
      handle(req, ctx);
    } catch (err) {
      ctx.requestId ||= randomUUID();
      sendError(ctx, err);
    }
  });

  // Once the answer is written or the connection is gone.
  const finish = (ctx: RequestContext): void => {
    inFlight.delete(ctx);
    budget.give(ctx.responder.bodyBytes);
    const { responder } = ctx;
    if (responder.closedBy === 'parser' && !ctx.refused) {
      // uWS parsed another request on this connection before this one was
      // answered, and closed it (no asynchronous pipelining in uWS v20).
      closedConnection(
        ctx,
        'async_pipelining',
        'a request was pipelined behind one still being answered; ' +
          'uWS closed the connection without answering either (see docs/http.md)',
      );
    }
  };

  const closedConnection = (ctx: RequestContext, reason: ClosedBy, why: string): void => {
    deps.metrics.closedConnection?.(reason);
    deps.logger.warn({ requestId: ctx.requestId, model: ctx.model, reason }, `connection closed: ${why}`);
  };

  const handle = (req: HttpRequest, ctx: RequestContext): void => {
    const { responder } = ctx;
    const head = readRequestHead(req);
    ctx.requestId = pickRequestId(head.requestId);
    if (head.framingError) {
      refuse(ctx, head.framingError);
      return;
    }
    const match = matchRoute(req.getMethod(), req.getUrl());
    if (closing) {
      lastArrivalMs = performance.now();
      responder.closeConnection = true;
      // Health is answered by status code alone: a shutting-down server is
      // neither live nor ready (Triton: 400, empty body; PROTOCOL.md 1.2).
      if (match.kind === 'route' && (match.route === 'health_live' || match.route === 'health_ready')) {
        responder.send(400, [['x-request-id', ctx.requestId]]);
      } else {
        sendError(ctx, new MaasError('SHUTTING_DOWN', 'the server is shutting down'));
      }
      return;
    }
    if (match.kind === 'not_found') {
      sendError(ctx, new MaasError('NOT_FOUND', 'Not Found'));
      return;
    }
    if (match.kind === 'method_not_allowed') {
      sendError(ctx, new MaasError('METHOD_NOT_ALLOWED', 'Method Not Allowed'), [['Allow', match.allow]]);
      return;
    }
    ctx.model = match.model;
    ctx.version = match.version;
    if (match.route === 'infer') {
      const headerLength = head.inferenceHeaderLength;
      ctx.responseEncoding = pickEncoding(head.acceptEncoding);
      const body = readBody(responder, bodyOptions(head, maxBodyBytes));
      void infer(ctx, body, headerLength);
      return;
    }
    if (match.route === 'repository_index') {
      const body = readBody(responder, bodyOptions(head, Math.min(maxBodyBytes, MAX_INDEX_BODY_BYTES)));
      void repositoryIndex(ctx, body);
      return;
    }
    if (match.route === 'metrics') {
      responder.markReceived();
      void metrics(ctx);
      return;
    }
    try {
      answerSync(ctx, match.route);
    } catch (err) {
      sendError(ctx, err);
    }
  };

  const bodyOptions = (head: RequestHead, limitBytes: number): BodyOptions => ({
    maxBodyBytes: limitBytes,
    contentLength: head.contentLength,
    contentEncoding: head.contentEncoding,
    budget,
  });

  // A request whose framing cannot be trusted: answered 400 MALFORMED_HTTP
  // with `Connection: close`, but only after the current read is parsed
  // (setImmediate). If uWS finds another request in that read (bytes a
  // proxy meant as this one's body: request smuggling), it closes the
  // connection itself, because this answer is still pending; that request
  // never reaches a route. uWS also closes it after an invalid
  // Content-Length. Either way the connection ends, logged and counted.
  const refuse = (ctx: RequestContext, reason: FramingError): void => {
    ctx.refused = true;
    ctx.responder.closeConnection = true;
    ctx.responder.markReceived();
    setImmediate(answerRefusal, ctx, reason);
  };

  const answerRefusal = (ctx: RequestContext, reason: FramingError): void => {
    if (ctx.responder.aborted) {
      closedConnection(
        ctx,
        reason,
        `${FRAMING_MESSAGES[reason]}; uWS closed the connection before the 400 could be sent`,
      );
      return;
    }
    sendError(ctx, new MaasError('MALFORMED_HTTP', FRAMING_MESSAGES[reason]));
    closedConnection(ctx, reason, FRAMING_MESSAGES[reason]);
  };

  // Routes that answer from the model service's synchronous state.
  const answerSync = (
    ctx: RequestContext,
    route: Exclude<RouteName, 'infer' | 'repository_index' | 'metrics'>,
  ): void => {
    const { models } = deps;
    const { responder, model, version } = ctx;
    const idHeader: HeaderList = [['x-request-id', ctx.requestId]];
    switch (route) {
      case 'health_live':
        responder.send(200, idHeader);
        return;
      case 'health_ready':
        responder.send(models.isReady() ? 200 : 400, idHeader);
        return;
      case 'model_ready':
        if (models.isModelReady(model as string, version)) responder.send(200, idHeader);
        else sendError(ctx, new MaasError('MODEL_NOT_READY', 'Model version not ready'));
        return;
      case 'server_metadata':
        responder.sendJson(
          200,
          {
            name: deps.serverName ?? 'maas',
            version: deps.serverVersion ?? '0.0.0',
            extensions: EXTENSIONS,
          },
          idHeader,
        );
        return;
      case 'model_metadata':
        responder.sendJson(200, models.metadata(model as string, version), idHeader);
        return;
      case 'model_config':
        responder.sendJson(200, models.config(model as string, version), idHeader);
        return;
      case 'model_stats':
        responder.sendJson(200, { model_stats: models.statistics(model, version) }, idHeader);
        return;
    }
  };

  const infer = async (ctx: RequestContext, bodyPromise: Promise<Buffer>, headerLength: string): Promise<void> => {
    const { models } = deps;
    const modelName = ctx.model as string;
    let result: InferResult | undefined;
    try {
      const body = await bodyPromise;
      // Look the model up first so an unknown model is a 404 whatever the body.
      const metadata = models.metadata(modelName, ctx.version);
      const decoded = decodeInferRequest(body, {
        modelName,
        modelVersion: ctx.version,
        headerLength,
        signal: ctx.responder.signal,
        describeModel: () => ({ metadata, maxBatchSize: models.config(modelName, ctx.version).max_batch_size }),
      });
      result = await models.infer(decoded.request);
      if (ctx.responder.aborted) return logInfer(ctx, 499);
      const encoded = encodeInferResponse(result, {
        id: decoded.request.id,
        requestedOutputs: decoded.request.outputs,
        outputEncoding: decoded.outputEncoding,
      });
      const headers: Array<[string, string]> = [
        ['Content-Type', encoded.contentType],
        ['x-request-id', ctx.requestId],
        ['Server-Timing', serverTiming(ctx, result)],
      ];
      if (encoded.headerLengthBytes !== undefined) {
        // The JSON length before compression, as Triton's clients expect.
        headers.push(['Inference-Header-Content-Length', String(encoded.headerLengthBytes)]);
      }
      let payload = encoded.body;
      if (ctx.responseEncoding && payload.byteLength >= MIN_COMPRESS_BYTES) {
        payload = await compress(payload, ctx.responseEncoding);
        headers.push(['Content-Encoding', ctx.responseEncoding]);
      }
      ctx.responder.send(200, headers, payload);
      logInfer(ctx, 200);
    } catch (err) {
      const error = sendError(ctx, err, [['Server-Timing', serverTiming(ctx, result)]], false);
      logInfer(ctx, ctx.responder.aborted && ctx.responder.status === 0 ? 499 : error.httpStatus, error, err);
    }
  };

  const repositoryIndex = async (ctx: RequestContext, bodyPromise: Promise<Buffer>): Promise<void> => {
    try {
      const body = await bodyPromise;
      let readyOnly = false;
      if (body.byteLength > 0) {
        // Bounded like every request body (json-reader.ts): depth and values.
        const parsed = readJson(body);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          throw new MaasError('INVALID_REQUEST', 'the index request must be a JSON object');
        }
        const ready = (parsed as { ready?: unknown }).ready;
        if (ready !== undefined && typeof ready !== 'boolean')
          throw new MaasError('INVALID_REQUEST', "'ready' must be a boolean");
        readyOnly = ready === true;
      }
      ctx.responder.sendJson(200, deps.models.index(readyOnly), [['x-request-id', ctx.requestId]]);
    } catch (err) {
      sendError(ctx, err);
    }
  };

  const metrics = async (ctx: RequestContext): Promise<void> => {
    try {
      const text = await deps.metrics.text();
      ctx.responder.send(
        200,
        [
          ['Content-Type', deps.metrics.contentType],
          ['x-request-id', ctx.requestId],
        ],
        text,
      );
    } catch (err) {
      sendError(ctx, err);
    }
  };

  // Answers with {"error", "code"}; errors we did not make become a bare 500
  // so no internal detail reaches the client (the log has it).
  const sendError = (
    ctx: RequestContext,
    err: unknown,
    extraHeaders: HeaderList = [],
    logUnexpected = true,
  ): MaasError => {
    const error = publicError(err);
    if (logUnexpected && error.code === 'INTERNAL' && !(err instanceof MaasError)) {
      deps.logger.error({ err, requestId: ctx.requestId, model: ctx.model }, 'unexpected error in the HTTP front end');
    }
    if (CLOSING_CODES.has(error.code) && !ctx.responder.done) {
      // The client may still be sending: do not read the rest.
      ctx.responder.closeConnection = true;
      if (error.code !== 'MALFORMED_HTTP') {
        closedConnection(ctx, error.code === 'SERVER_BUSY' ? 'server_busy' : 'body_too_large', error.message);
      }
    }
    ctx.responder.sendJson(error.httpStatus, { error: error.message, code: error.code }, [
      ['x-request-id', ctx.requestId],
      ...extraHeaders,
    ]);
    return error;
  };

  const logInfer = (ctx: RequestContext, status: number, error?: MaasError, cause?: unknown): void => {
    const fields: Record<string, unknown> = {
      requestId: ctx.requestId,
      model: ctx.model,
      version: ctx.version,
      status,
      durationMs: round3(performance.now() - ctx.startedMs),
    };
    if (error) {
      fields.code = error.code;
      fields.error = error.message;
    }
    if (status >= 500) deps.logger.error({ ...fields, err: cause }, 'infer');
    else deps.logger.info(fields, 'infer');
  };

  return new Promise<HttpServer>((resolve, reject) => {
    app.listen(host, port, (listenSocket: us_listen_socket | false) => {
      if (!listenSocket) {
        reject(new Error(`cannot listen for HTTP on ${host}:${port} (address in use or not available)`));
        return;
      }
      const boundPort = uws.us_socket_local_port(listenSocket as never);
      let closed: Promise<void> | undefined;
      resolve({
        port: boundPort,
        close: () => (closed ??= closeServer(listenSocket)),
      });
    });
  });

  // Stops accepting, lets in-flight responses finish within the deadline and
  // answers what is left 503 SHUTTING_DOWN; keeps answering 503 on open
  // connections until requests stop coming (closeLingerMs), then closes
  // every connection. Every answer from here on carries Connection: close.
  async function closeServer(listenSocket: us_listen_socket): Promise<void> {
    closing = true;
    uws.us_listen_socket_close(listenSocket);
    const startedMs = performance.now();
    lastArrivalMs = startedMs;
    const deadlineMs = deps.closeDeadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS;
    const lingerMs = Math.min(deps.closeLingerMs ?? DEFAULT_CLOSE_LINGER_MS, deadlineMs);
    for (const ctx of inFlight) ctx.responder.closeConnection = true;
    await withDeadline(Promise.all([...inFlight].map((ctx) => ctx.responder.finished)), deadlineMs);
    for (const ctx of [...inFlight]) {
      if (!ctx.responder.done)
        sendError(
          ctx,
          new MaasError(
            'SHUTTING_DOWN',
            'the server is shutting down: the close deadline passed before the answer was ready',
          ),
        );
    }
    for (;;) {
      const quietForMs = performance.now() - lastArrivalMs;
      const leftMs = deadlineMs - (performance.now() - startedMs);
      if (quietForMs >= lingerMs || leftMs <= 0) break;
      await sleep(Math.min(lingerMs - quietForMs, leftMs));
    }
    // Not in the package's typings, but present in the v20.30 binary:
    // closes keep-alive connections so the process can exit.
    const closeAll = (app as unknown as { close?: () => void }).close;
    if (typeof closeAll === 'function') closeAll.call(app);
  }
}

function publicError(err: unknown): MaasError {
  if (err instanceof MaasError) return err;
  // Engine errors carry one of our codes; keep them (their messages are ours).
  const code = (err as { code?: unknown } | null)?.code;
  if (isErrorCode(code) && code !== 'INTERNAL')
    return new MaasError(code as ErrorCode, (err as Error).message ?? String(err));
  return new MaasError('INTERNAL', ERRORS.INTERNAL.description);
}

function serverTiming(ctx: RequestContext, result: InferResult | undefined): string {
  const totalMs = round3(performance.now() - ctx.startedMs);
  if (!result) return `total;dur=${totalMs}`;
  const { queueUs, computeInferUs } = result.timing;
  return `queue;dur=${round3(queueUs / 1000)}, infer;dur=${round3(computeInferUs / 1000)}, total;dur=${totalMs}`;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

// Echo a sane client id; otherwise make one.
function pickRequestId(value: string): string {
  if (value !== '' && value.length <= MAX_REQUEST_ID_CHARS && /^[\x21-\x7e]+$/.test(value)) return value;
  return randomUUID();
}
