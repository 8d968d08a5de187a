// Checks an inference request against a model's metadata before it is
// queued: names, datatypes, shapes and the batch dimension. Returns the
// request's batch size and the key that decides which requests may share a
// batch (equal shapes apart from the batch dimension).
import { MaasError } from '../../common/errors';
import { elementCount } from '../tensors/datatypes';
import type { InferRequest } from '../inference/types';
import type { TensorMetadata } from './types';

export interface ValidatedShape {
  batchSize: number; // 1 for a model that does not batch
  shapeKey: string;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function validateRequest(
  request: InferRequest,
  modelInputs: readonly TensorMetadata[],
  modelOutputs: readonly TensorMetadata[],
  maxBatchSize: number,
): ValidatedShape {
  const model = `model '${request.modelName}'`;
  const byName = new Map(modelInputs.map((t) => [t.name, t]));
  const seen = new Set<string>();
  for (const input of request.inputs) {
    if (!byName.has(input.name))
      throw new MaasError('INVALID_REQUEST', `unexpected inference input '${input.name}' for ${model}`);
    if (seen.has(input.name)) throw new MaasError('INVALID_REQUEST', `input '${input.name}' is given more than once`);
    seen.add(input.name);
  }
  if (request.inputs.length !== modelInputs.length) {
    const missing = modelInputs.filter((t) => !seen.has(t.name)).map((t) => t.name);
    throw new MaasError(
      'INVALID_REQUEST',
      `${model} expects ${modelInputs.length} inputs but got ${request.inputs.length}; missing: ${missing.join(', ')}`,
    );
  }
  const batching = maxBatchSize >= 1;
  let batchSize = batching ? -1 : 1;
  const keyParts: string[] = [];
  for (const input of request.inputs) {
    const meta = byName.get(input.name)!;
    if (input.datatype !== meta.datatype) {
      throw new MaasError(
        'INVALID_DATATYPE',
        `input '${input.name}': datatype ${input.datatype} does not match the model's ${meta.datatype}`,
      );
    }
    if (input.shape.length !== meta.shape.length) {
      throw new MaasError(
        'INVALID_SHAPE',
        `input '${input.name}': shape ${shapeText(input.shape)} does not match the model's ${shapeText(meta.shape)}`,
      );
    }
    input.shape.forEach((d, i) => {
      if (i === 0 && batching) return;
      if (meta.shape[i] !== -1 && meta.shape[i] !== d) {
        throw new MaasError(
          'INVALID_SHAPE',
          `input '${input.name}': shape ${shapeText(input.shape)} does not match the model's ${shapeText(meta.shape)}`,
        );
      }
    });
    if (batching) {
      const n = input.shape[0];
      if (n < 1 || n > maxBatchSize) {
        throw new MaasError(
          'INVALID_SHAPE',
          `input '${input.name}': batch size ${n} is outside [1, max_batch_size=${maxBatchSize}]`,
        );
      }
      if (batchSize !== -1 && n !== batchSize) {
        throw new MaasError('INVALID_SHAPE', `inputs disagree on the batch size (${batchSize} and ${n})`);
      }
      batchSize = n;
    }
    if (input.data.length !== elementCount(input.shape)) {
      throw new MaasError(
        'INVALID_SHAPE',
        `input '${input.name}': ${input.data.length} elements do not fill shape ${shapeText(input.shape)}`,
      );
    }
    keyParts.push(`${input.name}:${(batching ? input.shape.slice(1) : input.shape).join('x')}`);
  }
  if (request.outputs) {
    const outputNames = new Set(modelOutputs.map((t) => t.name));
    for (const o of request.outputs) {
      if (!outputNames.has(o.name))
        throw new MaasError('INVALID_REQUEST', `unexpected inference output '${o.name}' for ${model}`);
    }
  }
  return { batchSize, shapeKey: keyParts.sort().join(';') };
}
