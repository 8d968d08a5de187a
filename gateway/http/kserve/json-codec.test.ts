import { test } from 'node:test';
import assert from 'node:assert/strict';
import { code, list } from '../../../test/support/maas-assert';
import { MAX_JSON_NESTING_DEPTH, readJsonData, writeJsonData } from './json-codec';

test('nested and flat data read the same, row-major', () => {
  const flat = readJsonData([1, 2, 3, 4, 5, 6], 'FP32', 6, 'x');
  const nested = readJsonData(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    'FP32',
    6,
    'x',
  );
  assert.ok(flat instanceof Float32Array);
  assert.deepEqual(list(nested), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(list(flat), list(nested));
});

test('element count must match the shape', () => {
  assert.equal(
    code(() => readJsonData([1, 2, 3], 'FP32', 4, 'x')),
    'INVALID_SHAPE',
  );
  assert.equal(
    code(() => readJsonData([[1, 2], [3, 4], [5]], 'FP32', 4, 'x')),
    'INVALID_SHAPE',
  );
  assert.match(
    String(
      (() => {
        try {
          readJsonData([1, 2, 3, 4, 5], 'INT32', 2, 'x');
        } catch (e) {
          return (e as Error).message;
        }
      })(),
    ),
    /2 elements .* has 5/,
  );
});

test('integers must be integers in range', () => {
  assert.deepEqual(list(readJsonData([0, 255], 'UINT8', 2, 'x')), [0, 255]);
  assert.equal(
    code(() => readJsonData([256], 'UINT8', 1, 'x')),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => readJsonData([-1], 'UINT32', 1, 'x')),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => readJsonData([1.5], 'INT32', 1, 'x')),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => readJsonData([-129], 'INT8', 1, 'x')),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => readJsonData(['1'], 'INT16', 1, 'x')),
    'INVALID_REQUEST',
  );
  assert.deepEqual(list(readJsonData([-2147483648, 2147483647], 'INT32', 2, 'x')), [-2147483648, 2147483647]);
});

test('INT64/UINT64 JSON numbers land in BigInt arrays', () => {
  const i64 = readJsonData([-3, 9007199254740991], 'INT64', 2, 'x');
  assert.ok(i64 instanceof BigInt64Array);
  assert.deepEqual(list(i64), [-3n, 9007199254740991n]);
  assert.ok(readJsonData([7], 'UINT64', 1, 'x') instanceof BigUint64Array);
  assert.equal(
    code(() => readJsonData([-1], 'UINT64', 1, 'x')),
    'INVALID_REQUEST',
  );
  assert.equal(
    code(() => readJsonData([2 ** 60], 'INT64', 1, 'x')),
    'INVALID_REQUEST',
  );
});

test('BOOL is true/false only', () => {
  assert.deepEqual(list(readJsonData([true, false, true], 'BOOL', 3, 'x')), [1, 0, 1]);
  assert.equal(
    code(() => readJsonData([1], 'BOOL', 1, 'x')),
    'INVALID_REQUEST',
  );
});

test('FP16/BF16 as JSON are refused; BYTES is not supported yet', () => {
  assert.equal(
    code(() => readJsonData([1], 'FP16', 1, 'x')),
    'UNSUPPORTED_ENCODING',
  );
  assert.equal(
    code(() => readJsonData([1], 'BF16', 1, 'x')),
    'UNSUPPORTED_ENCODING',
  );
  assert.equal(
    code(() => readJsonData(['a'], 'BYTES', 1, 'x')),
    'INVALID_DATATYPE',
  );
});

test('nesting deeper than the limit is refused without recursion trouble', () => {
  let deep: unknown = [1];
  for (let i = 0; i < MAX_JSON_NESTING_DEPTH; i++) deep = [deep];
  assert.equal(
    code(() => readJsonData(deep, 'FP32', 1, 'x')),
    'INVALID_REQUEST',
  );
  let ok: unknown = [1];
  for (let i = 0; i < MAX_JSON_NESTING_DEPTH - 1; i++) ok = [ok];
  assert.deepEqual(list(readJsonData(ok, 'FP32', 1, 'x')), [1]);
});

test('data must be an array', () => {
  assert.equal(
    code(() => readJsonData(3, 'FP32', 1, 'x')),
    'INVALID_REQUEST',
  );
});

test('writes flat JSON: numbers, BigInts as numbers, BOOL as true/false', () => {
  assert.deepEqual(JSON.parse(writeJsonData(new Float32Array([0.5, -2, 3]), 'FP32')), [0.5, -2, 3]);
  assert.equal(writeJsonData(new BigInt64Array([-5n, 2n ** 62n]), 'INT64'), `[-5,${2n ** 62n}]`);
  assert.equal(writeJsonData(new Uint8Array([1, 0]), 'BOOL'), '[true,false]');
  assert.equal(writeJsonData(new Int32Array([]), 'INT32'), '[]');
});

test('non-finite floats round-trip as "NaN"/"Infinity"/"-Infinity" strings', () => {
  const text = writeJsonData(new Float64Array([NaN, Infinity, -Infinity, 1]), 'FP64');
  assert.equal(text, '["NaN","Infinity","-Infinity",1]');
  const back = readJsonData(JSON.parse(text), 'FP64', 4, 'x');
  assert.ok(Number.isNaN(back[0]));
  assert.deepEqual(list(back).slice(1), [Infinity, -Infinity, 1]);
  assert.equal(
    code(() => readJsonData(['nan'], 'FP32', 1, 'x')),
    'INVALID_REQUEST',
  );
});
