import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaasError } from '../../common/errors';
import type { InferInput, InferOutput } from '../inference/types';
import type { NumericArray } from '../inference/datatypes';
import { batchShapeKey, concatInputs, splitOutputs } from './assemble';

// Elements as a plain array, whatever the element type.
const values = (data: NumericArray): unknown[] => Array.from(data as ArrayLike<unknown>);

function fp32(name: string, shape: number[], values: number[]): InferInput {
  return { name, datatype: 'FP32', shape, data: Float32Array.from(values) };
}
function int64(name: string, shape: number[], values: bigint[]): InferInput {
  return { name, datatype: 'INT64', shape, data: BigInt64Array.from(values) };
}

test('FP32: concat along dim 0, then split back to the same tensors', () => {
  const requests = [[fp32('x', [1, 2], [1, 2])], [fp32('x', [2, 2], [3, 4, 5, 6])], [fp32('x', [1, 2], [7, 8])]];
  const batched = concatInputs(requests, ['x']).get('x');
  assert.ok(batched);
  assert.deepEqual(batched.shape, [4, 2]);
  assert.ok(batched.data instanceof Float32Array);
  assert.deepEqual(values(batched.data), [1, 2, 3, 4, 5, 6, 7, 8]);

  const output: InferOutput = { name: 'y', datatype: 'FP32', shape: batched.shape, data: batched.data };
  const split = splitOutputs([output], [1, 2, 1]);
  assert.equal(split.length, 3);
  for (const [i, [input]] of requests.entries()) {
    assert.deepEqual(split[i][0].shape, input.shape);
    assert.deepEqual(values(split[i][0].data), values(input.data));
    assert.equal(split[i][0].data.buffer, batched.data.buffer, 'a view, not a copy');
  }
});

test('INT64: concat of several inputs keeps each one separate and exact', () => {
  const big = 2n ** 62n;
  const requests = [
    [int64('ids', [1, 3], [1n, 2n, big]), fp32('w', [1], [0.5])],
    [fp32('w', [2], [1.5, 2.5]), int64('ids', [2, 3], [4n, 5n, 6n, -big, 8n, 9n])],
  ];
  const batched = concatInputs(requests, ['ids', 'w']);
  const ids = batched.get('ids');
  const w = batched.get('w');
  assert.ok(ids && w);
  assert.ok(ids.data instanceof BigInt64Array);
  assert.deepEqual(ids.shape, [3, 3]);
  assert.deepEqual(values(ids.data), [1n, 2n, big, 4n, 5n, 6n, -big, 8n, 9n]);
  assert.deepEqual(w.shape, [3]);
  assert.deepEqual(values(w.data), [0.5, 1.5, 2.5]);

  const split = splitOutputs([{ name: 'ids', datatype: 'INT64', shape: ids.shape, data: ids.data }], [1, 2]);
  assert.deepEqual(values(split[0][0].data), [1n, 2n, big]);
  assert.deepEqual(split[1][0].shape, [2, 3]);
  assert.deepEqual(values(split[1][0].data), [4n, 5n, 6n, -big, 8n, 9n]);
});

test('a single request passes through without a copy', () => {
  const input = fp32('x', [2, 2], [1, 2, 3, 4]);
  const batched = concatInputs([[input]], ['x']).get('x');
  assert.equal(batched?.data, input.data);
  const output: InferOutput = { name: 'y', datatype: 'FP32', shape: [2, 2], data: input.data };
  assert.equal(splitOutputs([output], [2])[0][0].data, input.data);
});

test('split refuses an output whose first dimension is not the batch total', () => {
  const output: InferOutput = { name: 'y', datatype: 'FP32', shape: [3, 2], data: new Float32Array(6) };
  assert.throws(
    () => splitOutputs([output], [1, 1]),
    (err: unknown) => {
      assert.ok(err instanceof MaasError);
      assert.match(err.message, /output "y".*first dimension must equal the batch size 2/);
      return true;
    },
  );
  const scalar: InferOutput = { name: 's', datatype: 'FP32', shape: [], data: new Float32Array(1) };
  assert.throws(() => splitOutputs([scalar], [1]), MaasError);
});

test('concat refuses inputs that cannot share a batch', () => {
  assert.throws(
    () => concatInputs([[fp32('x', [1, 2], [1, 2])], [fp32('x', [1, 3], [1, 2, 3])]], ['x']),
    (err: unknown) => err instanceof MaasError && err.code === 'INVALID_SHAPE',
  );
  assert.throws(
    () => concatInputs([[fp32('x', [1], [1])], [int64('x', [1], [1n])]], ['x']),
    (err: unknown) => err instanceof MaasError && err.code === 'INVALID_DATATYPE',
  );
  assert.throws(
    () => concatInputs([[fp32('x', [1], [1])], [fp32('z', [1], [1])]], ['x']),
    (err: unknown) => err instanceof MaasError && /no input "x"/.test(err.message),
  );
  assert.throws(
    () => concatInputs([[fp32('x', [2], [1])], [fp32('x', [1], [1])]], ['x']),
    (err: unknown) => err instanceof MaasError && /elements/.test(err.message),
  );
});

test('batchShapeKey ignores the batch dimension and input order', () => {
  const a = batchShapeKey([fp32('x', [1, 3], [0, 0, 0]), int64('y', [1], [0n])]);
  const b = batchShapeKey([int64('y', [4], [0n, 0n, 0n, 0n]), fp32('x', [4, 3], new Array(12).fill(0))]);
  const c = batchShapeKey([fp32('x', [1, 4], [0, 0, 0, 0]), int64('y', [1], [0n])]);
  assert.equal(a, b);
  assert.notEqual(a, c);
});
