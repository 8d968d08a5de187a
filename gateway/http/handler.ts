// What happens to each HTTP request, synchronously inside uWS's handler:
// read the head, check the framing, route, and hand the request to its
// route module (routes/*.ts); the open routes (health, metrics) and the
// refusals (framing, not found, shutting down) are answered here.
import { performance } from 'node:perf_hooks';
import { MaasError } from '../../common/errors';
import { pickRequestId } from '../pipeline/request-id';
import type { Exchange, HttpFrontEnd } from './exchange';
import { FRAMING_MESSAGES, readRequestHead, type FramingError } from './request-head';
import { matchRoute } from './router';
import { startInfer } from './routes/infer';
import { answerModelRoute, isModelRoute } from './routes/models';
import { startRepositoryRoute } from './routes/repository';
import type { ShutdownState } from './shutdown';
import type { HttpRequest } from './uws';

export class HttpHandler {
  constructor(
    private readonly fe: HttpFrontEnd,
    private readonly state: ShutdownState,
  ) {}

  // Once the answer is written or the connection is gone (Responder's onComplete).
  readonly finish = (ex: Exchange): void => {
    this.state.inFlight.delete(ex);
    this.fe.budget.give(ex.responder.bodyBytes);
    if (ex.responder.closedBy === 'parser' && !ex.refused) {
      // uWS parsed another request on this connection before this one was
      // answered, and closed it (no asynchronous pipelining in uWS v20).
      this.fe.closedConnection(
        ex,
        'async_pipelining',
        'a request was pipelined behind one still being answered; ' +
          'uWS closed the connection without answering either (see docs/http.md)',
      );
    }
  };

  handle(req: HttpRequest, ex: Exchange): void {
    const { fe, state } = this;
    const { responder } = ex;
    const head = readRequestHead(req);
    if (head.framingError) {
      ex.requestId = pickRequestId(head.requestId);
      this.refuse(ex, head.framingError);
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
    else if (route === 'health_ready') responder.send(fe.deps.serving.isReady() ? 200 : 400, idHeader);
    else void this.metrics(ex, idHeader);
  }

  private async metrics(ex: Exchange, idHeader: Array<[string, string]>): Promise<void> {
    ex.responder.markReceived();
    const { metrics } = this.fe.deps;
    try {
      const text = await metrics.text();
      ex.responder.send(200, [['Content-Type', metrics.contentType], ...idHeader], text);
    } catch (err) {
      this.fe.sendError(ex, err);
    }
  }

  // A request whose framing cannot be trusted: answered 400 MALFORMED_HTTP
  // with `Connection: close`, but only after the current read is parsed
  // (setImmediate). If uWS finds another request in that read (bytes a
  // proxy meant as this one's body: request smuggling), it closes the
  // connection itself, because this answer is still pending; that request
  // never reaches a route. uWS also closes it after an invalid
  // Content-Length. Either way the connection ends, logged and counted.
  private refuse(ex: Exchange, reason: FramingError): void {
    ex.refused = true;
    ex.responder.closeConnection = true;
    ex.responder.markReceived();
    setImmediate(this.answerRefusal, ex, reason);
  }

  private readonly answerRefusal = (ex: Exchange, reason: FramingError): void => {
    if (ex.responder.aborted) {
      this.fe.closedConnection(
        ex,
        reason,
        `${FRAMING_MESSAGES[reason]}; uWS closed the connection before the 400 could be sent`,
      );
      return;
    }
    this.fe.sendError(ex, new MaasError('MALFORMED_HTTP', FRAMING_MESSAGES[reason]));
    this.fe.closedConnection(ex, reason, FRAMING_MESSAGES[reason]);
  };
}
