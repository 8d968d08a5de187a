// The KServe v2 HTTP front end on uWebSockets.js (docs/protocol.md). The
// handler reads everything it needs from the request synchronously (uWS
// invalidates it on return), routes it, and hands it to a thin route module
// (routes/*.ts); every answer goes through the Responder, the only writer
// of responses. What runs around each call (request id, auth, limits,
// tracing, usage, access log, error mapping) is the shared pipeline
// (gateway/pipeline), the same for every front end.
import { performance } from 'node:perf_hooks';
import { MaasError } from '../../common/errors';
import { pickRequestId } from '../pipeline/request-id';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES } from './body';
import { Exchange, HttpFrontEnd, type HttpDeps } from './exchange';
import { FRAMING_MESSAGES, readRequestHead, type FramingError } from './request-head';
import { matchRoute } from './router';
import { startInfer } from './routes/infer';
import { answerModelRoute, isModelRoute } from './routes/models';
import { startRepositoryRoute } from './routes/repository';
import { closeHttpServer, type ShutdownState } from './shutdown';
import { loadUws, type HttpRequest, type us_listen_socket } from './uws';

export type { ClosedBy, HttpDeps } from './exchange';
export { EXTENSIONS } from './routes/models';

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export function startHttpServer(deps: HttpDeps, host: string, port: number): Promise<HttpServer> {
  const uws = loadUws();
  const app = uws.App();
  const fe = new HttpFrontEnd(deps, deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, deps.maxBufferedBodyBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const state: ShutdownState = { closing: false, lastArrivalMs: 0, inFlight: new Set<Exchange>() };

  app.any('/*', (res, req) => {
    const ex = new Exchange(res, finish);
    state.inFlight.add(ex);
    try {
      handle(req, ex);
    } catch (err) {
      ex.requestId ||= pickRequestId(undefined);
      fe.sendError(ex, err);
    }
  });

  // Once the answer is written or the connection is gone.
  const finish = (ex: Exchange): void => {
    state.inFlight.delete(ex);
    fe.budget.give(ex.responder.bodyBytes);
    if (ex.responder.closedBy === 'parser' && !ex.refused) {
      // uWS parsed another request on this connection before this one was
      // answered, and closed it (no asynchronous pipelining in uWS v20).
      fe.closedConnection(ex, 'async_pipelining', 'a request was pipelined behind one still being answered; ' +
        'uWS closed the connection without answering either (see docs/http.md)');
    }
  };

  const handle = (req: HttpRequest, ex: Exchange): void => {
    const { responder } = ex;
    const head = readRequestHead(req);
    if (head.framingError) {
      ex.requestId = pickRequestId(head.requestId);
      refuse(ex, head.framingError);
      return;
    }
    const match = matchRoute(req.getMethod(), req.getUrl());
    if (state.closing) {
      ex.requestId = pickRequestId(head.requestId);
      state.lastArrivalMs = performance.now();
      responder.closeConnection = true;
      // Health is answered by status code alone: a shutting-down server is
      // neither live nor ready (Triton: 400, empty body; docs/protocol.md "Health").
      if (match.kind === 'route' && (match.route === 'health_live' || match.route === 'health_ready')) {
        responder.send(400, [['x-request-id', ex.requestId]]);
      } else {
        fe.sendError(ex, new MaasError('SHUTTING_DOWN', 'the server is shutting down'));
      }
      return;
    }
    if (match.kind !== 'route') {
      ex.requestId = pickRequestId(head.requestId);
      if (match.kind === 'not_found') fe.sendError(ex, new MaasError('NOT_FOUND', 'Not Found'));
      else fe.sendError(ex, new MaasError('METHOD_NOT_ALLOWED', 'Method Not Allowed'), [['Allow', match.allow]]);
      return;
    }
    const { route, model, version } = match;
    if (route === 'infer') return startInfer(fe, ex, head, model as string, version);
    if (isModelRoute(route)) return answerModelRoute(fe, ex, head, route, model, version);
    if (route === 'repository_index' || route === 'repository_load' || route === 'repository_unload') {
      return startRepositoryRoute(fe, ex, head, route, model);
    }
    // Open routes: no auth, no limits, no access line.
    ex.requestId = pickRequestId(head.requestId);
    const idHeader: Array<[string, string]> = [['x-request-id', ex.requestId]];
    if (route === 'health_live') responder.send(200, idHeader);
    else if (route === 'health_ready') responder.send(deps.serving.isReady() ? 200 : 400, idHeader);
    else void metrics(ex, idHeader);
  };

  const metrics = async (ex: Exchange, idHeader: Array<[string, string]>): Promise<void> => {
    ex.responder.markReceived();
    try {
      const text = await deps.metrics.text();
      ex.responder.send(200, [['Content-Type', deps.metrics.contentType], ...idHeader], text);
    } catch (err) {
      fe.sendError(ex, err);
    }
  };

  // A request whose framing cannot be trusted: answered 400 MALFORMED_HTTP
  // with `Connection: close`, but only after the current read is parsed
  // (setImmediate). If uWS finds another request in that read (bytes a
  // proxy meant as this one's body: request smuggling), it closes the
  // connection itself, because this answer is still pending; that request
  // never reaches a route. uWS also closes it after an invalid
  // Content-Length. Either way the connection ends, logged and counted.
  const refuse = (ex: Exchange, reason: FramingError): void => {
    ex.refused = true;
    ex.responder.closeConnection = true;
    ex.responder.markReceived();
    setImmediate(answerRefusal, ex, reason);
  };

  const answerRefusal = (ex: Exchange, reason: FramingError): void => {
    if (ex.responder.aborted) {
      fe.closedConnection(ex, reason, `${FRAMING_MESSAGES[reason]}; uWS closed the connection before the 400 could be sent`);
      return;
    }
    fe.sendError(ex, new MaasError('MALFORMED_HTTP', FRAMING_MESSAGES[reason]));
    fe.closedConnection(ex, reason, FRAMING_MESSAGES[reason]);
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
        close: () => (closed ??= closeHttpServer({ uws, app, listenSocket, state, fe, deps })),
      });
    });
  });
}
