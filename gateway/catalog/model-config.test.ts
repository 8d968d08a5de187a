import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configPrecision, parseModelConfig } from './model-config';
import { completeConfig } from '../serving/complete-config';
import { selectVersions } from '../serving/lifecycle';
import { MaasError } from '../../common/errors';

const versions = ['1', '2', '3'].map((v) => ({
  version: v,
  fingerprint: v,
  sizeBytes: 1,
  read: async () => new Uint8Array(),
}));

test('parseModelConfig fills Triton defaults', () => {
  const c = parseModelConfig('m', undefined);
  assert.equal(c.max_batch_size, 0);
  assert.equal(c.dynamic_batching, undefined);
  assert.deepEqual(
    c.instance_group.map((g) => [g.kind, g.count]),
    [['KIND_CPU', 1]],
  );
  assert.equal(c.platform, 'onnxruntime_onnx');
});

test('parseModelConfig reads dynamic batching, both places for queue settings', () => {
  const c = parseModelConfig('m', {
    max_batch_size: 16,
    dynamic_batching: {
      preferred_batch_size: [4, 8],
      max_queue_delay_microseconds: 100,
      max_queue_size: 3,
      default_timeout_microseconds: 50,
    },
    instance_group: [{ kind: 'cpu', count: 2 }],
  });
  assert.deepEqual(c.dynamic_batching?.preferred_batch_size, [4, 8]);
  assert.equal(c.dynamic_batching?.max_queue_delay_microseconds, 100);
  assert.equal(c.dynamic_batching?.default_queue_policy?.max_queue_size, 3);
  assert.equal(c.dynamic_batching?.default_queue_policy?.default_timeout_microseconds, 50);
  assert.equal(c.instance_group[0].kind, 'KIND_CPU');
  assert.equal(c.instance_group[0].count, 2);
  const p = parseModelConfig('m', {
    max_batch_size: 4,
    dynamic_batching: { default_queue_policy: { max_queue_size: 9 }, max_queue_size: 1 },
  });
  assert.equal(p.dynamic_batching?.default_queue_policy?.max_queue_size, 9);
});

test('parseModelConfig rejects bad values with the model named', () => {
  const bad: unknown[] = [
    [],
    { name: 'other' },
    { max_batch_size: -1 },
    { max_batch_size: 1.5 },
    { max_batch_size: 4, dynamic_batching: { preferred_batch_size: [8] } },
    { max_batch_size: 4, dynamic_batching: { default_queue_policy: { timeout_action: 'DELAY' } } },
    { max_batch_size: 4, dynamic_batching: { priority_levels: 2, default_priority_level: 3 } },
    { instance_group: [{ kind: 'KIND_TPU' }] },
    { instance_group: [{ kind: ['cpu'] }] }, // String(['cpu']) would read as 'cpu'
    { instance_group: [{ count: 0 }] },
    { instance_group: [] },
  ];
  for (const raw of bad) {
    assert.throws(
      () => parseModelConfig('m', raw),
      (e: unknown) => e instanceof MaasError && /model 'm'/.test(e.message),
      JSON.stringify(raw),
    );
  }
});

test('completeConfig splits the batch dimension and requires it to be dynamic', () => {
  const batching = parseModelConfig('m', { max_batch_size: 8 });
  const done = completeConfig(
    batching,
    [{ name: 'x', type: 'float32', dims: [-1, 3] }],
    [{ name: 'y', type: 'int64', dims: [-1] }],
  );
  assert.deepEqual(done.config.input, [{ name: 'x', data_type: 'TYPE_FP32', dims: [3] }]);
  assert.deepEqual(done.config.output, [{ name: 'y', data_type: 'TYPE_INT64', dims: [] }]);
  assert.deepEqual(done.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }]);
  assert.throws(() => completeConfig(batching, [{ name: 'x', type: 'float32', dims: [2, 3] }], []), /fixed at 2/);
  const plain = completeConfig(parseModelConfig('m', {}), [{ name: 'x', type: 'bool', dims: [2, 3] }], []);
  assert.deepEqual(plain.inputs, [{ name: 'x', datatype: 'BOOL', shape: [2, 3] }]);
});

test('selectVersions follows version_policy (latest 1 by default)', () => {
  assert.deepEqual(
    selectVersions(versions, undefined).map((v) => v.version),
    ['3'],
  );
  assert.deepEqual(
    selectVersions(versions, { latest: { num_versions: 2 } }).map((v) => v.version),
    ['2', '3'],
  );
  assert.deepEqual(
    selectVersions(versions, { all: {} }).map((v) => v.version),
    ['1', '2', '3'],
  );
  assert.deepEqual(
    selectVersions(versions, { specific: { versions: [1, 3] } }).map((v) => v.version),
    ['1', '3'],
  );
  // A catalog's default version (a registry alias) is served whatever the policy.
  assert.deepEqual(
    selectVersions(versions, undefined, '1').map((v) => v.version),
    ['3', '1'],
  );
});

test('durations, priority levels and instance counts are bounded with clear errors', () => {
  const message = (raw: unknown): string => {
    try {
      parseModelConfig('m', raw);
    } catch (err) {
      assert.ok(err instanceof MaasError);
      return err.message;
    }
    return assert.fail('expected a config error');
  };
  const huge = Number.MAX_SAFE_INTEGER;
  assert.match(
    message({ max_batch_size: 4, dynamic_batching: { max_queue_delay_microseconds: huge } }),
    /max_queue_delay_microseconds is 9007199254740991, above the largest allowed, 2147483647000/,
  );
  assert.match(
    message({ max_batch_size: 4, dynamic_batching: { default_queue_policy: { default_timeout_microseconds: huge } } }),
    /default_timeout_microseconds .* above the largest allowed/,
  );
  assert.match(
    message({ max_batch_size: 4, dynamic_batching: { priority_levels: 1e9 } }),
    /priority_levels .* above the largest allowed, 1024/,
  );
  assert.match(
    message({ instance_group: [{ count: 3000 }] }),
    /instance_group\[0\]\.count is 3000, above the largest allowed, 64/,
  );
  assert.match(message({ instance_group: [{ count: 40 }, { count: 40 }] }), /asks for 80 or more instances/);
  // The largest allowed values themselves are fine.
  const ok = parseModelConfig('m', {
    max_batch_size: 4,
    instance_group: [{ count: 64 }],
    dynamic_batching: { max_queue_delay_microseconds: (2 ** 31 - 1) * 1000, priority_levels: 1024 },
  });
  assert.equal(ok.instance_group[0].count, 64);
});

test('parseModelConfig reads model_transaction_policy.decoupled and refuses a non-boolean', () => {
  assert.equal(parseModelConfig('m', {}).model_transaction_policy, undefined);
  assert.deepEqual(parseModelConfig('m', { model_transaction_policy: { decoupled: true } }).model_transaction_policy, {
    decoupled: true,
  });
  assert.deepEqual(parseModelConfig('m', { model_transaction_policy: {} }).model_transaction_policy, {
    decoupled: false,
  });
  assert.throws(
    () => parseModelConfig('m', { model_transaction_policy: { decoupled: 'yes' } }),
    /model_transaction_policy.decoupled must be a boolean/,
  );
  assert.throws(() => parseModelConfig('m', { model_transaction_policy: 1 }), /must be an object/);
});

test('instance_group gpus: Triton meaning of count, and the checks on gpus', () => {
  const c = parseModelConfig('m', { instance_group: [{ kind: 'KIND_GPU', count: 2, gpus: [0, 1] }] });
  assert.deepEqual(c.instance_group[0].gpus, [0, 1]);
  assert.equal(c.instance_group[0].count, 2);
  const bad = (group: Record<string, unknown>, message: RegExp) =>
    assert.throws(() => parseModelConfig('m', { instance_group: [group] }), { message });
  bad({ kind: 'KIND_CPU', count: 1, gpus: [0] }, /KIND_CPU but lists gpus/);
  bad({ kind: 'KIND_GPU', gpus: [1, 1] }, /lists a GPU twice/);
  bad({ kind: 'KIND_GPU', gpus: [-1] }, /gpus\[0\]/);
  bad({ kind: 'KIND_GPU', gpus: 'all' }, /gpus must be an array of integers/);
  bad({ kind: 'KIND_GPU', count: 0, gpus: [0] }, /count must be at least 1/);
  // count is per listed GPU: 40 x 2 GPUs passes the per-model limit of 64.
  bad({ kind: 'KIND_GPU', count: 40, gpus: [0, 1] }, /instances \(count x gpus\), above the largest allowed/);
});

test('parameters.precision: fp32, fp16 or bf16 (the GPU precision), anything else refused', () => {
  const c = parseModelConfig('m', { parameters: { precision: { string_value: 'fp16' } } });
  assert.equal(configPrecision(c), 'fp16');
  assert.equal(configPrecision(parseModelConfig('m', {})), 'fp32');
  assert.equal(configPrecision(parseModelConfig('m', { parameters: { other: { string_value: 'x' } } })), 'fp32');
  assert.throws(() => parseModelConfig('m', { parameters: { precision: { string_value: 'int8' } } }), {
    message: /parameters.precision.string_value must be one of fp32, fp16, bf16/,
  });
  assert.throws(() => parseModelConfig('m', { parameters: { precision: 'fp16' } }), { message: /precision/ });
  assert.throws(() => parseModelConfig('m', { parameters: [] }), { message: /parameters must be an object/ });
});
