// Checks an inference request against a model's metadata before it is
// queued: names, datatypes, shapes and the batch dimension. Returns the
// request's batch size and the key that decides which requests may share a
// batch (equal shapes apart from the batch dimension).
import { MaasError } from '../../common/errors';
import { elementCount } from '../inference/datatypes';
import type { InferRequest } from '../inference/types';
import type { TensorMetadata } from '../inference/model-types';

export interface ValidatedShape {
  batchSize: number; // 1 for a model that does not batch
  shapeKey: string;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

// Runs for every request: plain loops over the (few) inputs, no Map, Set
// or closure per call.
export function validateRequest(
  request: InferRequest,
  modelInputs: readonly TensorMetadata[],
  modelOutputs: readonly TensorMetadata[],
  maxBatchSize: number,
): ValidatedShape {
  const inputs = request.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const name = inputs[i].name;
    if (findByName(modelInputs, name) === undefined) {
      throw new MaasError('INVALID_REQUEST', `unexpected inference input '${name}' for model '${request.modelName}'`);
    }
    for (let j = 0; j < i; j++) {
      if (inputs[j].name === name) throw new MaasError('INVALID_REQUEST', `input '${name}' is given more than once`);
    }
  }
  if (inputs.length !== modelInputs.length) {
    const missing = modelInputs.filter((t) => !inputs.some((input) => input.name === t.name)).map((t) => t.name);
    throw new MaasError(
      'INVALID_REQUEST',
      `model '${request.modelName}' expects ${modelInputs.length} inputs but got ${inputs.length}; missing: ${missing.join(', ')}`,
    );
  }
  const batching = maxBatchSize >= 1;
  let batchSize = batching ? -1 : 1;
  const keyParts = new Array<string>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    const meta = findByName(modelInputs, input.name) as TensorMetadata;
    checkInput(input, meta, batching);
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
    keyParts[i] = shapeKeyPart(input.name, input.shape, batching ? 1 : 0);
  }
  const outputs = request.outputs;
  if (outputs) {
    for (const o of outputs) {
      if (findByName(modelOutputs, o.name) === undefined) {
        throw new MaasError(
          'INVALID_REQUEST',
          `unexpected inference output '${o.name}' for model '${request.modelName}'`,
        );
      }
    }
  }
  return { batchSize, shapeKey: keyParts.length === 1 ? keyParts[0] : keyParts.sort().join(';') };
}

function findByName(tensors: readonly TensorMetadata[], name: string): TensorMetadata | undefined {
  for (let i = 0; i < tensors.length; i++) if (tensors[i].name === name) return tensors[i];
  return undefined;
}

// Datatype, rank and fixed dimensions against the model.
function checkInput(input: InferRequest['inputs'][number], meta: TensorMetadata, batching: boolean): void {
  if (input.datatype !== meta.datatype) {
    throw new MaasError(
      'INVALID_DATATYPE',
      `input '${input.name}': datatype ${input.datatype} does not match the model's ${meta.datatype}`,
    );
  }
  const shape = input.shape;
  let fits = shape.length === meta.shape.length;
  for (let d = batching ? 1 : 0; fits && d < shape.length; d++)
    fits = meta.shape[d] === -1 || meta.shape[d] === shape[d];
  if (!fits) {
    throw new MaasError(
      'INVALID_SHAPE',
      `input '${input.name}': shape ${shapeText(shape)} does not match the model's ${shapeText(meta.shape)}`,
    );
  }
}

// name:d1xd2... from dimension `from` on (the batch dimension left out).
function shapeKeyPart(name: string, shape: readonly number[], from: number): string {
  let key = `${name}:`;
  for (let d = from; d < shape.length; d++) key += d === from ? `${shape[d]}` : `x${shape[d]}`;
  return key;
}
