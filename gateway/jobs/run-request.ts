// One request of a job, through the same path as an online HTTP request:
// the pipeline (request id, limits, usage, tracing, access log) and the
// serving layer (validation, the model's batcher), with the call marked as
// job work so that serving queues it behind online traffic
// (gateway/serving/job-window.ts). The body is decoded and the answer
// encoded by the HTTP front end's KServe JSON codec, so a job's result line
// is byte for byte what POST /v2/models/{m}/infer answers (outputs always
// as JSON: a JSONL line holds no binary tensors).
import type { Principal } from '../inference/call';
import { decodeInferRequest } from '../http/kserve/infer-request';
import { encodeInferResponse } from '../http/kserve/infer-response';
import type { Pipeline } from '../pipeline/pipeline';
import type { ModelServing } from '../serving/model-service';

export interface RequestRunner {
  pipeline: Pipeline;
  serving: ModelServing;
  // The serving name of the model a caller names (its tenant's, else a
  // public one); undefined: the name as given (a repository model).
  resolveModel(tenant: string | null, name: string): string | undefined;
}

const JSON_OUTPUTS = { defaultBinary: false, binaryByName: new Map<string, boolean>() };

export interface JobRequest {
  jobId: string;
  index: number;
  principal: Principal;
  model: string;
  version: string | undefined;
  body: Buffer; // one KServe v2 inference request (JSON)
}

// Resolves with the result line (JSON text, no newline): the inference
// response, or {"error","code"} as the HTTP front end would answer. Never rejects.
export async function runJobRequest(
  r: RequestRunner,
  job: JobRequest,
): Promise<{ line: string; ok: boolean; code: string }> {
  const { pipeline, serving } = r;
  const call = pipeline.begin({
    protocol: 'http',
    operation: 'infer',
    requestId: `${job.jobId}.${job.index}`,
    model: job.model,
    version: job.version,
    workClass: 'job',
  });
  try {
    const admitted = pipeline.admitAs(call, job.principal);
    if (admitted) await admitted;
    const model = r.resolveModel(job.principal.tenant, job.model) ?? job.model;
    call.model = model;
    const config = serving.config(model, job.version);
    const decoded = decodeInferRequest(job.body, {
      modelName: model,
      modelVersion: job.version,
      headerLength: '',
      describeModel: () => ({ metadata: serving.metadata(model, job.version), maxBatchSize: config.max_batch_size }),
    });
    decoded.request.call = call;
    const result = await serving.infer(decoded.request);
    const encoded = encodeInferResponse(result, {
      id: decoded.request.id,
      requestedOutputs: decoded.request.outputs,
      outputEncoding: JSON_OUTPUTS,
    });
    pipeline.finish(call, { error: null, clientGone: false, inferences: result.batchSize });
    const line = typeof encoded.body === 'string' ? encoded.body : encoded.body.toString('utf8');
    return { line, ok: true, code: 'OK' };
  } catch (err) {
    const error = pipeline.fail(err);
    pipeline.finish(call, { error, clientGone: false, inferences: 0 }, err);
    return { line: JSON.stringify({ error: error.message, code: error.code }), ok: false, code: error.code };
  }
}
