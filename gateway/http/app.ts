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
import { DEFAULT_MAX_BODY_BYTES, readBody } from './body';
import { MIN_COMPRESS_BYTES, compress, pickEncoding, type ResponseEncoding } from './compress';
import { Responder, type HeaderList } from './responder';
import { matchRoute, type RouteName } from './router';
import { loadUws, type HttpRequest, type us_listen_socket } from './uws';

export interface HttpDeps {
  models: ModelService;
  metrics: { contentType: string; text(): Promise<string> };
  logger: Logger;
  maxBodyBytes?: number;
  serverName?: string;
  serverVersion?: string;
  closeDeadlineMs?: number; // how long close() waits for in-flight responses
}

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

// Only what this front end really implements (PROTOCOL.md 1.3, Triton's order).
export const EXTENSIONS = ['schedule_policy', 'model_configuration', 'binary_tensor_data', 'parameters', 'statistics'];

const DEFAULT_CLOSE_DEADLINE_MS = 10_000;
const MAX_REQUEST_ID_CHARS = 200;
const JSON_TYPE = 'application/json';

// What one request carries from the synchronous part of the handler.
interface RequestContext {
  responder: Responder;
  requestId: string;
  startedMs: number;
  responseEncoding?: ResponseEncoding; // from Accept-Encoding, for inference answers
  model?: string;
  version?: string;
}

export function startHttpServer(deps: HttpDeps, host: string, port: number): Promise<HttpServer> {
  const uws = loadUws();
  const app = uws.App();
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const inFlight = new Set<Responder>();
  let closing = false;

  app.any('/*', (res, req) => {
    const responder = new Responder(res);
    inFlight.add(responder);
    void responder.finished.then(() => inFlight.delete(responder));
    try {
      handle(req, responder);
    } catch (err) {
      sendError({ responder, requestId: randomUUID(), startedMs: performance.now() }, err);
    }
  });

  const handle = (req: HttpRequest, responder: Responder): void => {
    const ctx: RequestContext = {
      responder,
      requestId: pickRequestId(req.getHeader('x-request-id')),
      startedMs: performance.now(),
    };
    const match = matchRoute(req.getMethod(), req.getUrl());
    if (closing) {
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
      const headerLength = req.getHeader('inference-header-content-length');
      ctx.responseEncoding = pickEncoding(req.getHeader('accept-encoding'));
      const body = readBody(responder, bodyOptions(req));
      void infer(ctx, body, headerLength);
      return;
    }
    if (match.route === 'repository_index') {
      void repositoryIndex(ctx, readBody(responder, bodyOptions(req)));
      return;
    }
    if (match.route === 'metrics') {
      void metrics(ctx);
      return;
    }
    try {
      answerSync(ctx, match.route);
    } catch (err) {
      sendError(ctx, err);
    }
  };

  const bodyOptions = (req: HttpRequest) => ({
    maxBodyBytes,
    contentLength: req.getHeader('content-length'),
    contentEncoding: req.getHeader('content-encoding'),
  });

  // Routes that answer from the model service's synchronous state.
  const answerSync = (ctx: RequestContext, route: Exclude<RouteName, 'infer' | 'repository_index' | 'metrics'>): void => {
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
        responder.sendJson(200, {
          name: deps.serverName ?? 'maas',
          version: deps.serverVersion ?? '0.0.0',
          extensions: EXTENSIONS,
        }, idHeader);
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
        if (ready !== undefined && typeof ready !== 'boolean') throw new MaasError('INVALID_REQUEST', "'ready' must be a boolean");
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
      ctx.responder.send(200, [['Content-Type', deps.metrics.contentType], ['x-request-id', ctx.requestId]], text);
    } catch (err) {
      sendError(ctx, err);
    }
  };

  // Answers with {"error", "code"}; errors we did not make become a bare 500
  // so no internal detail reaches the client (the log has it).
  const sendError = (ctx: RequestContext, err: unknown, extraHeaders: HeaderList = [], logUnexpected = true): MaasError => {
    const error = publicError(err);
    if (logUnexpected && error.code === 'INTERNAL' && !(err instanceof MaasError)) {
      deps.logger.error({ err, requestId: ctx.requestId, model: ctx.model }, 'unexpected error in the HTTP front end');
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
    if (error) { fields.code = error.code; fields.error = error.message; }
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

  // Stops accepting, lets in-flight responses finish within the deadline,
  // then closes every remaining connection.
  async function closeServer(listenSocket: us_listen_socket): Promise<void> {
    closing = true;
    uws.us_listen_socket_close(listenSocket);
    const deadlineMs = deps.closeDeadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...inFlight].map((r) => r.finished)),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, deadlineMs); }),
    ]);
    clearTimeout(timer);
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
  if (isErrorCode(code) && code !== 'INTERNAL') return new MaasError(code as ErrorCode, (err as Error).message ?? String(err));
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
