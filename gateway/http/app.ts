// The KServe v2 HTTP front end on uWebSockets.js (docs/protocol.md): the uWS
// app, its one catch-all handler, listen and close. Each request is read
// synchronously (uWS invalidates it on return) and routed by HttpHandler
// (handler.ts) to a thin route module (routes/*.ts); every answer goes
// through the Responder, the only writer of responses. What runs around
// each call (request id, auth, limits, tracing, usage, access log, error
// mapping) is the shared pipeline (gateway/pipeline), the same for every
// front end.
import { pickRequestId } from '../pipeline/request-id';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES } from './body';
import { Exchange, HttpFrontEnd, type HttpDeps } from './exchange';
import { HttpHandler } from './handler';
import { closeHttpServer, type ShutdownState } from './shutdown';
import { loadUws, type us_listen_socket } from './uws';

export type { ClosedBy, HttpDeps } from './exchange';
export { EXTENSIONS } from './routes/models';

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export function startHttpServer(deps: HttpDeps, host: string, port: number): Promise<HttpServer> {
  const uws = loadUws();
  const app = uws.App();
  const fe = new HttpFrontEnd(
    deps,
    deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    deps.maxBufferedBodyBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
  );
  const state: ShutdownState = { closing: false, lastArrivalMs: 0, inFlight: new Set<Exchange>() };
  const handler = new HttpHandler(fe, state);

  app.any('/*', (res, req) => {
    const ex = new Exchange(res, handler.finish);
    state.inFlight.add(ex);
    try {
      handler.handle(req, ex);
    } catch (err) {
      ex.requestId ||= pickRequestId(undefined);
      fe.sendError(ex, err);
    }
  });

  return new Promise<HttpServer>((resolve, reject) => {
    app.listen(host, port, (listenSocket: us_listen_socket | false) => {
      if (!listenSocket) {
        reject(new Error(`cannot listen for HTTP on ${host}:${port} (address in use or not available)`));
        return;
      }
      const boundPort = uws.us_socket_local_port(listenSocket);
      let closed: Promise<void> | undefined;
      resolve({
        port: boundPort,
        close: () => (closed ??= closeHttpServer({ uws, app, listenSocket, state, fe, deps })),
      });
    });
  });
}
