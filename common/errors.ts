// One registry of error codes for the whole project. Each code has a fixed HTTP
// status (docs/protocol.md "Errors") and gRPC status; codes are never reused.
// Add new codes at the end of their area; a test keeps this table, the README
// and the types in step.

export interface ErrorSpec {
  httpStatus: number;
  grpcStatus: number; // numeric gRPC status code (0 OK .. 16 UNAUTHENTICATED)
  description: string;
}

export const ERRORS = {
  // request decoding and validation (gateway/tensors, gateway/http)
  INVALID_JSON: { httpStatus: 400, grpcStatus: 3, description: 'the body is not valid JSON' },
  INVALID_REQUEST: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'the request does not follow the inference protocol',
  },
  INVALID_DATATYPE: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'unknown datatype, or not the one the model expects',
  },
  INVALID_SHAPE: { httpStatus: 400, grpcStatus: 3, description: 'the shape does not match the model or the data' },
  INVALID_BINARY: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'the binary tensor data is truncated or inconsistent',
  },
  INVALID_PARAMETER: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'a request parameter has a bad value or a reserved name',
  },
  UNSUPPORTED_ENCODING: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'the datatype cannot travel in this encoding (FP16/BF16 as JSON)',
  },
  BODY_TOO_LARGE: { httpStatus: 413, grpcStatus: 8, description: 'the request body exceeds the configured limit' },
  // 413, not 5xx: the request asks for more than the server hands out, and
  // retrying it unchanged cannot help (docs/http.md).
  OUTPUT_TOO_LARGE: {
    httpStatus: 413,
    grpcStatus: 8,
    description: 'an output exceeds the per-tensor limit, or is too large for JSON (ask for binary output)',
  },
  // WebSocket streaming protocol (gateway/ws; docs/websocket.md)
  MALFORMED_MESSAGE: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'a WebSocket frame is not MessagePack (binary) or JSON (text)',
  },
  UNKNOWN_REQUEST_ID: {
    httpStatus: 400,
    grpcStatus: 5,
    description: 'a cancel names no request in flight on this socket',
  },
  TOO_MANY_IN_FLIGHT: {
    httpStatus: 429,
    grpcStatus: 8,
    description: 'the socket already has its maximum of requests in flight',
  },
  MALFORMED_HTTP: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'the HTTP framing is invalid (Content-Length, Transfer-Encoding, Host); the connection is closed',
  },
  // routing and lookup
  NOT_FOUND: { httpStatus: 404, grpcStatus: 5, description: 'no such route' },
  METHOD_NOT_ALLOWED: { httpStatus: 405, grpcStatus: 12, description: 'the route exists but not for this method' },
  MODEL_NOT_FOUND: { httpStatus: 404, grpcStatus: 5, description: 'no model of that name in the repository' },
  MODEL_VERSION_NOT_FOUND: { httpStatus: 404, grpcStatus: 5, description: 'the model has no such version' },
  MODEL_NOT_READY: { httpStatus: 400, grpcStatus: 14, description: 'the model failed to load or is not loaded' },
  // Triton answers UNSUPPORTED (HTTP 400, gRPC UNIMPLEMENTED) for a decoupled
  // model on /infer or unary ModelInfer (docs/protocol.md "Decoupled models").
  DECOUPLED_NOT_SUPPORTED: {
    httpStatus: 400,
    grpcStatus: 12,
    description: 'a decoupled (streaming) model answers only on gRPC ModelStreamInfer and WebSocket',
  },
  // model lifecycle (repository extension; gateway/serving)
  MODEL_CONTROL_DISABLED: {
    httpStatus: 400,
    grpcStatus: 9,
    description: 'load and unload need --model-control-mode explicit',
  },
  MODEL_LOAD_FAILED: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'the model could not be loaded; what served before keeps serving',
  },
  // scheduling (gateway/batching)
  QUEUE_FULL: { httpStatus: 503, grpcStatus: 14, description: 'the model queue holds max_queue_size requests' },
  // Triton rejects a queue timeout as UNAVAILABLE ("Request timeout expired").
  QUEUE_TIMEOUT: {
    httpStatus: 503,
    grpcStatus: 14,
    description: 'the request waited longer than its timeout in the queue',
  },
  CANCELLED: { httpStatus: 400, grpcStatus: 1, description: 'the request was cancelled before it ran' },
  SHUTTING_DOWN: { httpStatus: 503, grpcStatus: 14, description: 'the server is shutting down' },
  SERVER_BUSY: {
    httpStatus: 503,
    grpcStatus: 14,
    description: 'the server is buffering too many request bytes; retry later',
  },
  // load shedding and circuit breaking (docs/resilience.md)
  DEADLINE_UNMEETABLE: {
    httpStatus: 429,
    grpcStatus: 8,
    description: 'the queue ahead of the request would outlast its deadline; refused before queueing',
  },
  MODEL_OVERLOADED: {
    httpStatus: 503,
    grpcStatus: 14,
    description: "the model's queue would outlast even its default deadline; refused before queueing",
  },
  MODEL_CIRCUIT_OPEN: {
    httpStatus: 503,
    grpcStatus: 14,
    description: 'the model version failed repeatedly; its circuit breaker is open until a probe succeeds',
  },
  // engine (native)
  ENGINE_INVALID_ARGUMENT: { httpStatus: 400, grpcStatus: 3, description: 'the engine refused the inputs' },
  ENGINE_INVALID_MODEL: { httpStatus: 400, grpcStatus: 3, description: 'the ONNX model is broken or inconsistent' },
  ENGINE_UNSUPPORTED: {
    httpStatus: 501,
    grpcStatus: 12,
    description: 'the model uses an op or dtype the engine lacks',
  },
  ENGINE_NOT_FOUND: { httpStatus: 404, grpcStatus: 5, description: 'the engine found no such item' },
  ENGINE_OUT_OF_MEMORY: { httpStatus: 500, grpcStatus: 8, description: 'the engine could not allocate memory' },
  ENGINE_INTERNAL: { httpStatus: 500, grpcStatus: 13, description: 'an unexpected failure inside the engine' },
  ENGINE_CANCELLED: { httpStatus: 400, grpcStatus: 1, description: 'the engine work was cancelled' },
  ENGINE_RELEASED: { httpStatus: 400, grpcStatus: 9, description: 'the session was released' },
  ENGINE_DEVICE_FAULT: {
    httpStatus: 503,
    grpcStatus: 14,
    description: 'the GPU reported a fault; the model version is unavailable until reloaded',
  },
  // registry and security (registry/, docs/security.md)
  UNAUTHENTICATED: {
    httpStatus: 401,
    grpcStatus: 16,
    description: 'no credentials, or an unknown, expired or revoked key or an invalid token',
  },
  FORBIDDEN: { httpStatus: 403, grpcStatus: 7, description: 'the caller is known but its role may not do this' },
  INVALID_NAME: {
    httpStatus: 400,
    grpcStatus: 3,
    description: 'a tenant, model, alias, version or key name breaks the naming rules',
  },
  TENANT_NOT_FOUND: { httpStatus: 404, grpcStatus: 5, description: 'no tenant of that name visible to the caller' },
  KEY_NOT_FOUND: { httpStatus: 404, grpcStatus: 5, description: 'no API key of that id visible to the caller' },
  JOB_NOT_FOUND: {
    httpStatus: 404,
    grpcStatus: 5,
    description: 'no asynchronous job of that id visible to the caller',
  },
  ALREADY_EXISTS: {
    httpStatus: 409,
    grpcStatus: 6,
    description: 'a tenant, model or version of that name already exists',
  },
  MODEL_REJECTED: {
    httpStatus: 422,
    grpcStatus: 3,
    description: 'the uploaded model failed validation; the version is failed and nothing is served',
  },
  // limits (limits/, docs/limits.md)
  RATE_LIMITED: {
    httpStatus: 429,
    grpcStatus: 8,
    description: "over the tenant's or key's request or inference rate; see Retry-After",
  },
  CONCURRENCY_LIMITED: {
    httpStatus: 429,
    grpcStatus: 8,
    description: 'the tenant or key already has its maximum of requests in flight',
  },
  QUOTA_EXCEEDED: {
    httpStatus: 429,
    grpcStatus: 8,
    description: "the tenant's or key's monthly inference quota is used up",
  },
  LIMITS_UNAVAILABLE: {
    httpStatus: 503,
    grpcStatus: 14,
    description: 'the shared limits store (Redis) is unreachable and limits fail closed (--limits-fail-closed)',
  },
  // catch-all
  INTERNAL: { httpStatus: 500, grpcStatus: 13, description: 'an unexpected failure' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class MaasError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly grpcStatus: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MaasError';
    this.code = code;
    this.httpStatus = ERRORS[code].httpStatus;
    this.grpcStatus = ERRORS[code].grpcStatus;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, value);
}

// Wraps anything thrown into a MaasError, keeping a known `code` (the engine
// sets ENGINE_* codes on its Errors).
export function toMaasError(err: unknown): MaasError {
  if (err instanceof MaasError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new MaasError(isErrorCode(code) ? code : 'INTERNAL', message, { cause: err });
}
