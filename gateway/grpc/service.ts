// GRPCInferenceService (docs/grpc.md): the unary calls. Each runs the
// shared pipeline (begin → admit → serving → finish) like an HTTP route and
// answers from the same serving layer; ModelStreamInfer is in stream.ts.
import type { ServerUnaryCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { MaasError } from '../../common/errors';
import { Cancellation } from '../inference/cancel';
import type { Operation } from '../inference/call';
import { SERVER_EXTENSIONS } from '../inference/extensions';
import type { ModelConfig } from '../serving/types';
import type { PipelineCall } from '../pipeline/pipeline';
import { readLoadParameters } from '../serving/load-request';
import { answerMetadata, checkWellFormed, openCall, serviceError, type GrpcDeps } from './calls';
import { decodeGrpcInferRequest, encodeGrpcInferResponse, type WireInferRequest } from './infer-codec';
import { modelStreamInfer } from './stream';

interface NameVersion {
  name?: string;
  version?: string;
}

// resolved: the model the auth step resolved the request's name to for the
// caller (a tenant's registry model), as HTTP's routes use it; call: the
// pipeline's call, which serving reads (its protocol, for the metrics).
type Work<Req> = (request: Req, cancel: Cancellation, resolved: NameVersion, call: PipelineCall) => unknown;

// An inference answer: the message and the batch size it served (usage, limits).
class Inferred {
  constructor(
    readonly message: unknown,
    readonly inferences: number,
  ) {}
}

// One unary handler: pipeline around `work`, the answer or the mapped status.
function unary<Req>(
  deps: GrpcDeps,
  operation: Operation,
  target: (request: Req) => NameVersion,
  work: Work<Req>,
): (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>) => void {
  return (grpcCall, callback) => {
    const raw = grpcCall.request;
    const nv = raw && typeof raw === 'object' ? target(raw) : {};
    const { call, admitted } = openCall(
      deps,
      grpcCall.metadata,
      operation,
      grpcCall.getDeadline(),
      nv.name,
      nv.version,
    );
    const cancel = new Cancellation();
    grpcCall.on('cancelled', () => cancel.cancel('the client cancelled the call'));
    let inferences = 0;
    const run = async (): Promise<void> => {
      try {
        if (admitted) await admitted;
        let answer = await work(
          checkWellFormed(raw),
          cancel,
          { name: call.model ?? nv.name, version: nv.version },
          call,
        );
        if (answer instanceof Inferred) {
          inferences = answer.inferences;
          answer = answer.message;
        }
        grpcCall.sendMetadata(answerMetadata(call));
        callback(null, answer);
        deps.pipeline.finish(call, { error: null, clientGone: grpcCall.cancelled, inferences });
      } catch (err) {
        const error = deps.pipeline.fail(err);
        callback(serviceError(error, call));
        deps.pipeline.finish(call, { error, clientGone: grpcCall.cancelled, inferences: 0 }, err);
      }
    };
    void run();
  };
}

const byName = (r: NameVersion): NameVersion => r;

export function inferenceService(deps: GrpcDeps): UntypedServiceImplementation {
  const { serving, repository } = deps;
  return {
    // Health is open (no pipeline call), as on HTTP.
    ServerLive: (_call: unknown, callback: sendUnaryData<unknown>) => callback(null, { live: true }),
    ServerReady: (_call: unknown, callback: sendUnaryData<unknown>) =>
      callback(null, { ready: !deps.isClosing() && serving.isReady() }),
    ModelReady: unary<NameVersion>(deps, 'model_ready', byName, (_r, _cancel, r) => {
      const name = r.name ?? '';
      const version = r.version || undefined;
      if (serving.isModelReady(name, version)) return { ready: true };
      // Unknown model or version: a NOT_FOUND status, as Triton; known but not ready: ready=false.
      try {
        serving.metadata(name, version);
      } catch (err) {
        if (err instanceof MaasError && err.code !== 'MODEL_NOT_READY') throw err;
      }
      return { ready: false };
    }),
    ServerMetadata: unary<object>(
      deps,
      'server_metadata',
      () => ({}),
      () => ({ name: deps.serverName, version: deps.serverVersion, extensions: SERVER_EXTENSIONS }),
    ),
    ModelMetadata: unary<NameVersion>(deps, 'model_metadata', byName, (_r, _cancel, r) =>
      serving.metadata(r.name ?? '', r.version || undefined),
    ),
    ModelConfig: unary<NameVersion>(deps, 'model_config', byName, (_r, _cancel, r) => ({
      config: configMessage(serving.config(r.name ?? '', r.version || undefined)),
    })),
    ModelStatistics: unary<NameVersion>(deps, 'model_stats', byName, (_r, _cancel, r) => ({
      model_stats: serving.statistics(r.name || undefined, r.version || undefined),
    })),
    RepositoryIndex: unary<{ ready?: boolean }>(
      deps,
      'repository_index',
      () => ({}),
      async (r) => ({ models: await repository.index(r.ready === true) }),
    ),
    RepositoryModelLoad: unary<RepositoryRequest>(deps, 'repository_load', modelOf, async (r) => {
      await repository.load(r.model_name ?? '', readLoadParameters(repositoryParameters(r.parameters)));
      return {};
    }),
    RepositoryModelUnload: unary<RepositoryRequest>(deps, 'repository_unload', modelOf, async (r) => {
      await repository.unload(r.model_name ?? '');
      return {};
    }),
    ModelInfer: unary<WireInferRequest>(
      deps,
      'infer',
      (r) => ({ name: r.model_name, version: r.model_version }),
      async (r, cancel, resolved, call) => {
        const { request } = decodeGrpcInferRequest(r, cancel);
        if (resolved.name !== undefined) request.modelName = resolved.name;
        request.call = call;
        const result = await serving.infer(request);
        return new Inferred(encodeGrpcInferResponse(result, request.id), result.batchSize);
      },
    ),
    ModelStreamInfer: modelStreamInfer(deps),
  };
}

interface RepositoryRequest {
  model_name?: string;
  parameters?: Record<string, { parameter_choice?: string; [k: string]: unknown }>;
}

const modelOf = (r: RepositoryRequest): NameVersion => ({ name: r.model_name });

// ModelRepositoryParameter oneofs → the plain values readLoadParameters expects.
function repositoryParameters(wire: RepositoryRequest['parameters']): Record<string, unknown> | undefined {
  if (!wire) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(wire)) out[key] = p.parameter_choice ? p[p.parameter_choice] : undefined;
  return out;
}

const KIND_NAMES: Record<string, string> = { cpu: 'KIND_CPU', gpu: 'KIND_GPU', auto: 'KIND_AUTO' };

// The configuration as ModelConfig (our JSON form uses Triton's field names;
// only the instance-group kind shorthands need their enum names).
function configMessage(config: ModelConfig): unknown {
  return {
    ...config,
    instance_group: config.instance_group.map((g) => ({
      ...g,
      kind: g.kind ? (KIND_NAMES[g.kind] ?? g.kind) : undefined,
    })),
  };
}

export const HEALTH_SERVICE_NAMES = new Set(['', 'inference.GRPCInferenceService']);

// grpc.health.v1.Health/Check: SERVING while ready; an unknown service name is NOT_FOUND.
export function healthService(deps: GrpcDeps): UntypedServiceImplementation {
  return {
    Check: (call: ServerUnaryCall<{ service?: string }, unknown>, callback: sendUnaryData<unknown>) => {
      const service = call.request instanceof Object ? (call.request.service ?? '') : '';
      if (!HEALTH_SERVICE_NAMES.has(service)) {
        callback({ code: 5, details: `unknown service '${service}'` });
        return;
      }
      callback(null, { status: !deps.isClosing() && deps.serving.isReady() ? 'SERVING' : 'NOT_SERVING' });
    },
  };
}
