import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRequest } from './validate';
import type { InferRequest } from '../inference/types';
import type { TensorMetadata } from './types';

const inputs: TensorMetadata[] = [
  { name: 'a', datatype: 'FP32', shape: [-1, 3] },
  { name: 'b', datatype: 'INT64', shape: [-1, -1] },
];
const outputs: TensorMetadata[] = [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }];

function request(over: Partial<InferRequest> = {}): InferRequest {
  return {
    modelName: 'm',
    parameters: {},
    priority: 0,
    timeoutUs: 0,
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [2, 3], data: new Float32Array(6) },
      { name: 'b', datatype: 'INT64', shape: [2, 5], data: new BigInt64Array(10) },
    ],
    ...over,
  };
}

test('a valid request gives its batch size and a shape key without the batch dim', () => {
  const v = validateRequest(request(), inputs, outputs, 8);
  assert.equal(v.batchSize, 2);
  const other = request({
    inputs: [
      { name: 'b', datatype: 'INT64', shape: [4, 5], data: new BigInt64Array(20) },
      { name: 'a', datatype: 'FP32', shape: [4, 3], data: new Float32Array(12) },
    ],
  });
  assert.equal(validateRequest(other, inputs, outputs, 8).shapeKey, v.shapeKey);
  const differentInner = request({
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [2, 3], data: new Float32Array(6) },
      { name: 'b', datatype: 'INT64', shape: [2, 4], data: new BigInt64Array(8) },
    ],
  });
  assert.notEqual(validateRequest(differentInner, inputs, outputs, 8).shapeKey, v.shapeKey);
});

test('each kind of mismatch is refused with its code', () => {
  const cases: Array<[Partial<InferRequest>, string, RegExp]> = [
    [{ inputs: [request().inputs[0]] }, 'INVALID_REQUEST', /missing: b/],
    [
      { inputs: [...request().inputs, { name: 'c', datatype: 'FP32', shape: [1], data: new Float32Array(1) }] },
      'INVALID_REQUEST',
      /unexpected inference input 'c'/,
    ],
    [{ inputs: [request().inputs[0], request().inputs[0]] }, 'INVALID_REQUEST', /more than once/],
    [
      { inputs: [{ ...request().inputs[0], datatype: 'FP64', data: new Float64Array(6) }, request().inputs[1]] },
      'INVALID_DATATYPE',
      /FP64/,
    ],
    [
      { inputs: [{ ...request().inputs[0], shape: [2, 4], data: new Float32Array(8) }, request().inputs[1]] },
      'INVALID_SHAPE',
      /\[2,4\]/,
    ],
    [
      { inputs: [{ ...request().inputs[0], shape: [6], data: new Float32Array(6) }, request().inputs[1]] },
      'INVALID_SHAPE',
      /does not match/,
    ],
    [
      {
        inputs: [
          { ...request().inputs[0], shape: [9, 3], data: new Float32Array(27) },
          { ...request().inputs[1], shape: [9, 5], data: new BigInt64Array(45) },
        ],
      },
      'INVALID_SHAPE',
      /max_batch_size=8/,
    ],
    [
      { inputs: [{ ...request().inputs[0], shape: [1, 3], data: new Float32Array(3) }, request().inputs[1]] },
      'INVALID_SHAPE',
      /disagree/,
    ],
    [
      { inputs: [{ ...request().inputs[0], data: new Float32Array(5) }, request().inputs[1]] },
      'INVALID_SHAPE',
      /5 elements/,
    ],
    [{ outputs: [{ name: 'z' }] }, 'INVALID_REQUEST', /unexpected inference output 'z'/],
  ];
  for (const [over, code, message] of cases) {
    assert.throws(
      () => validateRequest(request(over), inputs, outputs, 8),
      (e: unknown) => {
        const err = e as { code: string; message: string };
        return err.code === code && message.test(err.message);
      },
      `${code} ${message}`,
    );
  }
});

test('a model without batching compares the full shape', () => {
  const plain: TensorMetadata[] = [{ name: 'a', datatype: 'FP32', shape: [2, 3] }];
  const ok = request({ inputs: [{ name: 'a', datatype: 'FP32', shape: [2, 3], data: new Float32Array(6) }] });
  assert.equal(validateRequest(ok, plain, outputs, 0).batchSize, 1);
  const bad = request({ inputs: [{ name: 'a', datatype: 'FP32', shape: [3, 3], data: new Float32Array(9) }] });
  assert.throws(() => validateRequest(bad, plain, outputs, 0), /does not match/);
});
