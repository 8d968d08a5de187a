// What every front end knows about one call, whatever its protocol: who
// asks, under which request id and trace, until when, and for what. The
// pipeline (gateway/pipeline) makes one per call and its steps fill it in;
// the serving layer reads the principal and the deadline from it.

export type Protocol = 'http' | 'grpc' | 'ws';

// Online calls wait for their answer; jobs (batch work) are served after
// every online call (docs/resilience.md "Tenant priorities").
export type WorkClass = 'online' | 'job';

// What a call asks for; the auth and limits steps decide by it.
export type Operation =
  | 'health'
  | 'metrics' // open: no auth, no limits, no access line
  | 'server_metadata'
  | 'model_metadata'
  | 'model_config'
  | 'model_ready'
  | 'model_stats'
  | 'infer'
  | 'repository_index'
  | 'repository_load'
  | 'repository_unload'
  | 'admin'; // the registry's management API (/api/v1); its routes check roles themselves

// Who is calling, as the auth step found out. Without auth every caller is
// ANONYMOUS; the registry's auth adapter fills tenant and roles.
export interface Principal {
  readonly subject: string; // a key id, a JWT subject, or 'anonymous'
  readonly tenant: string | null;
  readonly roles: readonly string[];
}

export const ANONYMOUS: Principal = Object.freeze({ subject: 'anonymous', tenant: null, roles: Object.freeze([]) });

// A W3C trace context (the `traceparent` header or gRPC metadata) as received.
export interface TraceContext {
  readonly traceId: string; // 32 lower-case hex digits
  readonly parentId: string; // 16 lower-case hex digits: the caller's span
  readonly sampled: boolean;
  readonly state: string; // `tracestate`, '' when absent
}

export interface CallContext {
  readonly requestId: string; // echoed or generated (x-request-id, gRPC metadata, WS message id scope)
  readonly protocol: Protocol;
  readonly operation: Operation;
  readonly startedMs: number; // performance.now() when the call arrived
  model: string | undefined;
  version: string | undefined;
  // Set by the auth step (ANONYMOUS until then).
  principal: Principal;
  trace: TraceContext | null;
  // Absolute, in performance.now() milliseconds; 0 = none. A front end sets
  // it from what its protocol carries (a gRPC deadline); the limits step
  // may use it to refuse early.
  deadlineMs: number;
  workClass?: WorkClass; // default 'online'
  // Headers (HTTP) or metadata (gRPC) the steps ask the front end to add to
  // the answer, e.g. rate-limit state; null when none.
  responseHeaders: Array<[string, string]> | null;
}
