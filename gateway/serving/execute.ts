// Runs one batch on one engine session: concatenate the requests' inputs
// along the batch dimension, run, slice the outputs back per request. The
// batcher hands batches here (through VersionRuntime) and owns the
// requests until this settles.
import { performance } from 'node:perf_hooks';
import { MaasError } from '../../common/errors';
import type { VersionMeters } from '../../common/metrics';
import type { Session, Tensor } from '../../native/types';
import { concatInputs, splitOutputs } from '../batching/assemble';
import { DATATYPES, kserveFromEngineType } from '../inference/datatypes';
import type { TensorMetadata } from '../inference/model-types';
import type { InferInput, InferOutput } from '../inference/types';

// One request as the batcher holds it.
export interface QueuedWork {
  inputs: InferInput[];
  batchSize: number;
}

// What one batch execution reports back to each of its requests.
export interface ExecutionResult {
  outputs: InferOutput[];
  batchSize: number; // of the whole batch
  computeInputUs: number;
  computeInferUs: number;
  computeOutputUs: number;
}

export interface BatchTarget {
  session: Session;
  inputs: readonly TensorMetadata[];
  outputs: readonly TensorMetadata[];
  meters: VersionMeters;
}

export async function executeBatch(target: BatchTarget, batch: QueuedWork[]): Promise<ExecutionResult[]> {
  const inputStartMs = performance.now();
  let totalBatch = 0;
  for (let i = 0; i < batch.length; i++) totalBatch += batch[i].batchSize;
  const feeds: Record<string, Tensor> = {};
  if (batch.length === 1) {
    // Validated against the model already (validate.ts): handed over as they are.
    const inputs = batch[0].inputs;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      feeds[input.name] = engineTensor(input.name, input.datatype, input.shape, input.data);
    }
  } else {
    const merged = concatInputs(
      batch.map((w) => w.inputs),
      target.inputs.map((t) => t.name),
    );
    for (const meta of target.inputs) {
      const m = merged.get(meta.name)!;
      feeds[meta.name] = engineTensor(meta.name, meta.datatype, m.shape, m.data);
    }
  }
  const inferStartMs = performance.now();
  const results = await target.session.run(feeds);
  const outputStartMs = performance.now();
  const outputs = new Array<InferOutput>(target.outputs.length);
  for (let i = 0; i < target.outputs.length; i++) {
    const meta = target.outputs[i];
    const t = results[meta.name];
    if (!t) throw new MaasError('ENGINE_INTERNAL', `the engine returned no output '${meta.name}'`);
    outputs[i] = { name: meta.name, datatype: kserveFromEngineType(t.type), shape: t.dims, data: t.data };
  }
  const perRequest =
    batch.length === 1
      ? [outputs]
      : splitOutputs(
          outputs,
          batch.map((w) => w.batchSize),
        );
  const endMs = performance.now();
  const computeInputUs = (inferStartMs - inputStartMs) * 1000;
  const computeInferUs = (outputStartMs - inferStartMs) * 1000;
  const computeOutputUs = (endMs - outputStartMs) * 1000;
  target.meters.recordExecution(totalBatch, computeInputUs, computeInferUs, computeOutputUs);
  const out = new Array<ExecutionResult>(perRequest.length);
  for (let i = 0; i < perRequest.length; i++) {
    out[i] = { outputs: perRequest[i], batchSize: totalBatch, computeInputUs, computeInferUs, computeOutputUs };
  }
  return out;
}

function engineTensor(
  name: string,
  datatype: InferInput['datatype'],
  shape: number[],
  data: InferInput['data'],
): Tensor {
  const type = DATATYPES[datatype].engineType;
  if (!type)
    throw new MaasError('INVALID_DATATYPE', `input '${name}': datatype ${datatype} is not supported by the engine`);
  return { type, dims: shape, data };
}
