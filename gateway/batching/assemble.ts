// Tensor plumbing around a batch: requests' inputs are concatenated along the
// batch dimension (dim 0) into one tensor per input, and the batch's outputs
// are sliced back per request as views (subarray), without copies.
// BYTES tensors are not handled: they have no fixed element size.
import { MaasError } from '../../common/errors';
import { elementCount, type KServeDatatype, type NumericArray } from '../inference/datatypes';
import type { InferInput, InferOutput } from '../inference/types';

export interface BatchedTensor {
  datatype: KServeDatatype;
  shape: number[];
  data: NumericArray;
}

type NumericArrayConstructor = new (length: number) => NumericArray;

// The key under which requests may share a batch: every input's name, datatype
// and shape without the batch dimension (docs/protocol.md "Batching": equal shapes only).
export function batchShapeKey(inputs: readonly InferInput[]): string {
  return inputs
    .map((input) => `${input.name}:${input.datatype}[${input.shape.slice(1).join(',')}]`)
    .sort()
    .join(';');
}

// One tensor per input name, the requests' tensors stacked along dim 0 in
// request order. A single request passes through untouched (same buffer).
export function concatInputs(
  requests: readonly InferInput[][],
  inputNames: readonly string[],
): Map<string, BatchedTensor> {
  if (requests.length === 0) throw new MaasError('INTERNAL', 'cannot assemble a batch of no requests');
  const batched = new Map<string, BatchedTensor>();
  for (const name of inputNames) {
    const parts = requests.map((inputs, i) => findInput(inputs, name, i));
    const first = parts[0];
    if (parts.length === 1) {
      checkTensor(first, `input "${name}"`);
      batched.set(name, { datatype: first.datatype, shape: first.shape, data: first.data });
      continue;
    }
    const itemShape = first.shape.slice(1);
    let batchDim = 0;
    for (const [i, part] of parts.entries()) {
      checkTensor(part, `input "${name}" of request ${i}`);
      if (part.datatype !== first.datatype || part.data.constructor !== first.data.constructor) {
        throw new MaasError(
          'INVALID_DATATYPE',
          `input "${name}": request ${i} has ${part.datatype}, request 0 has ${first.datatype}`,
        );
      }
      if (!sameDims(part.shape.slice(1), itemShape)) {
        throw new MaasError(
          'INVALID_SHAPE',
          `input "${name}": request ${i} has shape [${part.shape}], which does not batch with [${first.shape}]`,
        );
      }
      batchDim += part.shape[0];
    }
    const shape = [batchDim, ...itemShape];
    const data = new (first.data.constructor as NumericArrayConstructor)(elementCount(shape));
    let offset = 0;
    for (const part of parts) {
      // Same constructor checked above, so set() copies element for element.
      (data as Float32Array).set(part.data as Float32Array, offset);
      offset += part.data.length;
    }
    batched.set(name, { datatype: first.datatype, shape, data });
  }
  return batched;
}

// Slices each batch output along dim 0 into one output list per request, in
// the order of batchSizes. The slices are views of the batch's buffers.
export function splitOutputs(outputs: readonly InferOutput[], batchSizes: readonly number[]): InferOutput[][] {
  const total = batchSizes.reduce((sum, n) => sum + n, 0);
  const perRequest: InferOutput[][] = batchSizes.map(() => []);
  for (const output of outputs) {
    checkTensor(output, `output "${output.name}"`, 'INTERNAL');
    if (output.shape.length === 0 || output.shape[0] !== total) {
      throw new MaasError(
        'INTERNAL',
        `output "${output.name}" has shape [${output.shape}] but its first dimension must equal the batch size ${total}`,
      );
    }
    if (batchSizes.length === 1) {
      perRequest[0].push(output);
      continue;
    }
    const itemShape = output.shape.slice(1);
    const itemElements = elementCount(itemShape);
    let start = 0;
    batchSizes.forEach((batchSize, i) => {
      const end = start + batchSize * itemElements;
      perRequest[i].push({
        name: output.name,
        datatype: output.datatype,
        shape: [batchSize, ...itemShape],
        data: output.data.subarray(start, end),
      });
      start = end;
    });
  }
  return perRequest;
}

function findInput(inputs: readonly InferInput[], name: string, requestIndex: number): InferInput {
  const input = inputs.find((candidate) => candidate.name === name);
  if (!input) throw new MaasError('INVALID_REQUEST', `request ${requestIndex} has no input "${name}"`);
  return input;
}

// Inputs that fail are the caller's fault (INVALID_SHAPE); outputs, the engine's (INTERNAL).
function checkTensor(
  tensor: { datatype: KServeDatatype; shape: number[]; data: NumericArray },
  what: string,
  code: 'INVALID_SHAPE' | 'INTERNAL' = 'INVALID_SHAPE',
): void {
  if (tensor.datatype === 'BYTES') throw new MaasError('INTERNAL', `${what}: BYTES tensors cannot be batched here`);
  if (tensor.shape.length === 0) throw new MaasError(code, `${what} has no batch dimension`);
  if (tensor.data.length !== elementCount(tensor.shape)) {
    throw new MaasError(
      code,
      `${what} has ${tensor.data.length} elements but shape [${tensor.shape}] needs ${elementCount(tensor.shape)}`,
    );
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
