// What every gRPC handler shares (docs/grpc.md): opening the pipeline call
// from the call's metadata (request id, trace context, `authorization`),
// the answer's metadata, and the error → gRPC status mapping through the one
// error registry (common/errors.ts). The MaasError code also travels in
// the trailing metadata `maas-error-code`.
import { performance } from 'node:perf_hooks';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { MaasError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { Operation } from '../inference/call';
import { bearerToken } from '../pipeline/auth';
import type { Pipeline, PipelineCall } from '../pipeline/pipeline';
import type { ModelRepository, ModelService } from '../serving/types';
import { MalformedMessage } from './proto';

export interface GrpcDeps {
  serving: ModelService;
  repository: ModelRepository;
  pipeline: Pipeline;
  logger: Logger;
  serverName: string;
  serverVersion: string;
  // true once close() began: ServerReady and health answer not ready.
  isClosing(): boolean;
}

function first(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  return values.length > 0 && typeof values[0] === 'string' ? values[0] : undefined;
}

export interface OpenedCall {
  call: PipelineCall;
  admitted: void | Promise<void>;
}

export function openCall(
  deps: GrpcDeps,
  metadata: Metadata,
  operation: Operation,
  deadline: Date | number,
  model?: string,
  version?: string,
  requestId?: string,
): OpenedCall {
  const call = deps.pipeline.begin({
    protocol: 'grpc',
    operation,
    requestId: requestId || first(metadata, 'x-request-id'),
    traceparent: first(metadata, 'traceparent'),
    tracestate: first(metadata, 'tracestate'),
    model,
    version: version || undefined,
  });
  const deadlineMs = typeof deadline === 'number' ? deadline : deadline.getTime();
  if (Number.isFinite(deadlineMs)) call.deadlineMs = performance.now() + (deadlineMs - Date.now());
  // As on HTTP: a bearer token, else an x-api-key.
  const credentials =
    bearerToken(first(metadata, 'authorization') ?? '') ?? (first(metadata, 'x-api-key')?.trim() || null);
  // A refusal thrown synchronously (no or bad credentials) becomes a rejection,
  // answered with its status like any later failure; the caller awaits it at once.
  let admitted: void | Promise<void>;
  try {
    admitted = deps.pipeline.admit(call, credentials);
  } catch (err) {
    admitted = Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return { call, admitted };
}

export function answerMetadata(call: PipelineCall): Metadata {
  const metadata = new Metadata();
  metadata.set('x-request-id', call.requestId);
  const extra = call.responseHeaders;
  if (extra) for (const [key, value] of extra) metadata.set(key.toLowerCase(), value);
  return metadata;
}

// The status a failed call answers with.
export function serviceError(error: MaasError, call: PipelineCall | null): Partial<ServiceError> {
  const metadata = call ? answerMetadata(call) : new Metadata();
  metadata.set('maas-error-code', error.code);
  return { code: error.grpcStatus, details: error.message, metadata };
}

// A request grpc-js could not parse (see proto.ts).
export function checkWellFormed<T>(request: T | MalformedMessage): T {
  if (request instanceof MalformedMessage) {
    throw new MaasError('INVALID_REQUEST', `the request is not a valid protobuf message: ${request.reason}`);
  }
  return request;
}
