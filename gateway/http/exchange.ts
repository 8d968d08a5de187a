// One HTTP request on its way through the front end (Exchange), and what
// every route shares (HttpFrontEnd): the pipeline calls, the error answer,
// body options and connection bookkeeping. Routes (routes/*.ts) stay thin:
// they read what they need, call the serving layer, and answer through here.
import { performance } from 'node:perf_hooks';
import { MaasError, type ErrorCode } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { Operation } from '../inference/call';
import type { Pipeline, PipelineCall } from '../pipeline/pipeline';
import type { ModelRepository, ModelService } from '../serving/types';
import { BodyBudget, type BodyOptions } from './body';
import type { FramingError, RequestHead } from './request-head';
import { bearerToken } from './request-head';
import { Responder, type HeaderList } from './responder';
import type { HttpResponse } from './uws';

export interface HttpDeps {
  serving: ModelService;
  repository: ModelRepository;
  pipeline: Pipeline;
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

// Errors after which the rest of what the client sends is not read: the
// answer closes the connection.
const CLOSING_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BODY_TOO_LARGE', 'SERVER_BUSY', 'MALFORMED_HTTP']);

export class Exchange {
  readonly responder: Responder;
  readonly startedMs = performance.now();
  requestId = '';
  // The pipeline's call: every route but health, metrics and refusals has one.
  call: PipelineCall | null = null;
  refused = false; // answered MALFORMED_HTTP (see app.ts refuse)
  model: string | undefined = undefined;

  constructor(res: HttpResponse, onComplete: (ex: Exchange) => void) {
    this.responder = new Responder(res, () => onComplete(this));
  }
}

export class HttpFrontEnd {
  readonly maxBodyBytes: number;
  readonly budget: BodyBudget;

  constructor(
    readonly deps: HttpDeps,
    maxBodyBytes: number,
    maxBufferedBytes: number,
  ) {
    this.maxBodyBytes = maxBodyBytes;
    this.budget = new BodyBudget(Math.max(maxBodyBytes, maxBufferedBytes));
  }

  // Opens the pipeline call of a route (request id, trace) and admits it
  // (auth, limits): undefined when admitted synchronously.
  begin(ex: Exchange, head: RequestHead, operation: Operation, model?: string, version?: string): void | Promise<void> {
    const call = this.deps.pipeline.begin({
      protocol: 'http',
      operation,
      requestId: head.requestId,
      traceparent: head.traceparent,
      tracestate: head.tracestate,
      model,
      version,
      startedMs: ex.startedMs,
    });
    ex.call = call;
    ex.requestId = call.requestId;
    ex.model = model;
    return this.deps.pipeline.admit(call, bearerToken(head.authorization));
  }

  bodyOptions(head: RequestHead, limitBytes: number): BodyOptions {
    return {
      maxBodyBytes: limitBytes,
      contentLength: head.contentLength,
      contentEncoding: head.contentEncoding,
      budget: this.budget,
    };
  }

  // The headers every answer of a pipeline call carries.
  baseHeaders(ex: Exchange): Array<[string, string]> {
    const headers: Array<[string, string]> = [['x-request-id', ex.requestId]];
    const extra = ex.call?.responseHeaders;
    if (extra) for (const h of extra) headers.push(h);
    return headers;
  }

  sendJson(ex: Exchange, status: number, value: unknown): void {
    ex.responder.sendJson(status, value, this.baseHeaders(ex));
    this.succeed(ex);
  }

  // Ends the pipeline call of a success (no-op without a call).
  succeed(ex: Exchange, inferences = 0): void {
    const call = ex.call;
    if (!call) return;
    ex.call = null;
    this.deps.pipeline.finish(call, { error: null, clientGone: ex.responder.aborted, inferences });
  }

  // Answers {"error", "code"} with the error's status and ends the call.
  sendError(ex: Exchange, err: unknown, extraHeaders: HeaderList = []): MaasError {
    const error = this.deps.pipeline.fail(err);
    const { responder } = ex;
    if (CLOSING_CODES.has(error.code) && !responder.done) {
      // The client may still be sending: do not read the rest.
      responder.closeConnection = true;
      if (error.code !== 'MALFORMED_HTTP') {
        this.closedConnection(ex, error.code === 'SERVER_BUSY' ? 'server_busy' : 'body_too_large', error.message);
      }
    }
    const headers = this.baseHeaders(ex);
    for (const h of extraHeaders) headers.push([h[0], h[1]]);
    responder.sendJson(error.httpStatus, { error: error.message, code: error.code }, headers);
    const call = ex.call;
    if (call) {
      ex.call = null;
      this.deps.pipeline.finish(
        call,
        { error, clientGone: responder.aborted && responder.status === 0, inferences: 0 },
        err,
      );
    } else if (error.code === 'INTERNAL' && !(err instanceof MaasError)) {
      this.deps.logger.error({ err, requestId: ex.requestId }, 'unexpected error in the HTTP front end');
    }
    return error;
  }

  closedConnection(ex: Exchange, reason: ClosedBy, why: string): void {
    this.deps.metrics.closedConnection?.(reason);
    this.deps.logger.warn({ requestId: ex.requestId, model: ex.model, reason }, `connection closed: ${why}`);
  }
}
