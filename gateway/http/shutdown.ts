// Graceful close of the HTTP front end: stops accepting, lets in-flight
// responses finish within the deadline and answers what is left 503
// SHUTTING_DOWN; keeps answering 503 on open connections until requests stop
// coming (closeLingerMs), then closes every connection. Every answer from
// the start of the close carries Connection: close (docs/http.md).
import { performance } from 'node:perf_hooks';
import { MaasError } from '../../common/errors';
import { sleep, withDeadline } from '../../common/timers';
import type { Exchange, HttpDeps, HttpFrontEnd } from './exchange';
import type { TemplatedApp, UwsModule, us_listen_socket } from './uws';

const DEFAULT_CLOSE_DEADLINE_MS = 10_000;
const DEFAULT_CLOSE_LINGER_MS = 500;

// Shared between the request handler and close(): the handler answers 503
// while `closing`, and records arrivals for the linger.
export interface ShutdownState {
  closing: boolean;
  lastArrivalMs: number;
  inFlight: Set<Exchange>;
}

export interface ClosingServer {
  uws: UwsModule;
  app: TemplatedApp;
  listenSocket: us_listen_socket;
  state: ShutdownState;
  fe: HttpFrontEnd;
  deps: HttpDeps;
}

export async function closeHttpServer({ uws, app, listenSocket, state, fe, deps }: ClosingServer): Promise<void> {
  state.closing = true;
  uws.us_listen_socket_close(listenSocket);
  const startedMs = performance.now();
  state.lastArrivalMs = startedMs;
  const deadlineMs = deps.closeDeadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS;
  const lingerMs = Math.min(deps.closeLingerMs ?? DEFAULT_CLOSE_LINGER_MS, deadlineMs);
  for (const ex of state.inFlight) ex.responder.closeConnection = true;
  await withDeadline(Promise.all([...state.inFlight].map((ex) => ex.responder.finished)), deadlineMs);
  for (const ex of [...state.inFlight]) {
    if (!ex.responder.done) {
      fe.sendError(
        ex,
        new MaasError(
          'SHUTTING_DOWN',
          'the server is shutting down: the close deadline passed before the answer was ready',
        ),
      );
    }
  }
  for (;;) {
    const quietForMs = performance.now() - state.lastArrivalMs;
    const leftMs = deadlineMs - (performance.now() - startedMs);
    if (quietForMs >= lingerMs || leftMs <= 0) break;
    await sleep(Math.min(lingerMs - quietForMs, leftMs));
  }
  // Not in the package's typings, but present in the v20.30 binary:
  // closes keep-alive connections so the process can exit.
  const closeAll = (app as unknown as { close?: () => void }).close;
  if (typeof closeAll === 'function') closeAll.call(app);
}
