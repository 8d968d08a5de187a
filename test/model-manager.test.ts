// ModelManager against the real engine on a real repository: broken models
// are reported and do not stop the others; versions route; requests batch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/logger';
import { InferenceMetrics } from '../common/metrics';
import { loadModel } from '../native';
import { encodeModel } from '../models/onnx-writer';
import { buildIdentityModel, writeDemoRepository } from '../models/demo';
import { ModelManager } from '../gateway/repository/model-manager';
import type { InferRequest } from '../gateway/inference/types';

let repo: string;
let manager: ModelManager;
let metrics: InferenceMetrics;

async function addModel(name: string, config: unknown, versions: Record<string, Uint8Array>): Promise<void> {
  const dir = path.join(repo, name);
  await fs.mkdir(dir, { recursive: true });
  if (config !== undefined)
    await fs.writeFile(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  for (const [v, bytes] of Object.entries(versions)) {
    await fs.mkdir(path.join(dir, v), { recursive: true });
    await fs.writeFile(path.join(dir, v, 'model.onnx'), bytes);
  }
}

// y = x + addend, FP32 [batch, 4]
function addModelBytes(addend: number, extraOps: string[] = []): Uint8Array {
  return encodeModel({
    nodes: [
      { opType: 'Add', inputs: ['x', 'k'], outputs: extraOps.length ? ['t'] : ['y'] },
      ...extraOps.map((op, i) => ({
        opType: op,
        inputs: [i === 0 ? 't' : `u${i - 1}`],
        outputs: [i === extraOps.length - 1 ? 'y' : `u${i}`],
      })),
    ],
    inputs: [{ name: 'x', dataType: 'FLOAT', shape: ['batch', 4] }],
    outputs: [{ name: 'y', dataType: 'FLOAT', shape: ['batch', 4] }],
    initializers: [{ name: 'k', dataType: 'FLOAT', dims: [1], values: new Float32Array([addend]) }],
  });
}

function request(modelName: string, x: number[], over: Partial<InferRequest> = {}): InferRequest {
  return {
    modelName,
    parameters: {},
    priority: 0,
    timeoutUs: 0,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [x.length / 4, 4], data: new Float32Array(x) }],
    ...over,
  };
}

before(async () => {
  repo = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-repo-'));
  await writeDemoRepository(repo);
  await addModel(
    'versioned',
    { max_batch_size: 8, version_policy: { all: {} } },
    { 1: addModelBytes(1), 2: addModelBytes(2) },
  );
  await addModel(
    'batched',
    { max_batch_size: 64, dynamic_batching: { max_queue_delay_microseconds: 200_000 } },
    { 1: addModelBytes(10) },
  );
  await addModel('broken', { max_batch_size: 8 }, { 1: new Uint8Array([0x08, 0x07, 0x3a, 0xff, 0xff, 0x01, 0x02]) });
  await addModel('unsupported', { max_batch_size: 8 }, { 1: addModelBytes(0, ['Erf', 'Gelu']) });
  await addModel('badjson', '{"max_batch_size": ', { 1: buildIdentityModel() });
  await addModel(
    'fixedbatch',
    { max_batch_size: 8 },
    {
      1: encodeModel({
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
        inputs: [{ name: 'x', dataType: 'FLOAT', shape: [2, 4] }],
        outputs: [{ name: 'y', dataType: 'FLOAT', shape: [2, 4] }],
      }),
    },
  );
  await addModel('noversions', { max_batch_size: 8 }, {});
  await addModel(
    'ambiguous',
    { max_batch_size: 8, version_policy: { all: {} } },
    { 1: addModelBytes(1), '01': addModelBytes(2) },
  );
  await addModel(
    'manyinstances',
    { max_batch_size: 8, instance_group: [{ kind: 'KIND_CPU', count: 3000 }] },
    { 1: addModelBytes(1) },
  );
  metrics = new InferenceMetrics();
  manager = new ModelManager({ repositoryDir: repo, loadModel, metrics, logger: createLogger('silent') });
  await manager.loadAll();
});

after(async () => {
  await manager.close(1000);
  await fs.rm(repo, { recursive: true, force: true });
});

test('broken models are UNAVAILABLE with a reason; the others are READY', () => {
  const byName = new Map(manager.index(false).map((e) => [`${e.name}/${e.version ?? ''}`, e]));
  assert.equal(byName.get('mlp/1')?.state, 'READY');
  assert.equal(byName.get('identity/1')?.state, 'READY');
  assert.equal(byName.get('versioned/1')?.state, 'READY');
  assert.equal(byName.get('versioned/2')?.state, 'READY');
  assert.equal(byName.get('broken/1')?.state, 'UNAVAILABLE');
  const unsupported = byName.get('unsupported/1');
  assert.equal(unsupported?.state, 'UNAVAILABLE');
  assert.match(unsupported!.reason, /Erf/);
  assert.match(unsupported!.reason, /Gelu/);
  assert.match(byName.get('badjson/')!.reason, /not valid JSON/);
  assert.match(byName.get('fixedbatch/1')!.reason, /fixed at 2/);
  assert.match(byName.get('noversions/')!.reason, /no version/);
  assert.equal(manager.isReady(), false, 'strict readiness: not every model is ready');
  assert.equal(manager.isModelReady('mlp'), true);
  assert.equal(manager.isModelReady('broken'), false);
  assert.equal(manager.isModelReady('nosuch'), false);
  const readyOnly = manager.index(true);
  assert.ok(readyOnly.every((e) => e.state === 'READY'));
  assert.ok(readyOnly.some((e) => e.name === 'mlp'));
});

test('metadata and config come from the ONNX graph with the batch dimension', () => {
  const meta = manager.metadata('mlp');
  assert.deepEqual(meta.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }]);
  assert.deepEqual(meta.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }]);
  assert.deepEqual(meta.versions, ['1']);
  assert.deepEqual(manager.metadata('versioned').versions, ['1', '2']);
  assert.deepEqual(manager.config('mlp').input, [{ name: 'input', data_type: 'TYPE_FP32', dims: [784] }]);
  assert.throws(() => manager.metadata('nosuch'), { code: 'MODEL_NOT_FOUND' });
  assert.throws(() => manager.metadata('versioned', '7'), { code: 'MODEL_VERSION_NOT_FOUND' });
  assert.throws(() => manager.metadata('broken'), { code: 'MODEL_NOT_READY' });
});

test('versions route: latest by default, a named one on request', async () => {
  const latest = await manager.infer(request('versioned', [0, 1, 2, 3]));
  assert.equal(latest.modelVersion, '2');
  assert.deepEqual([...(latest.outputs[0].data as Float32Array)], [2, 3, 4, 5]);
  const v1 = await manager.infer(request('versioned', [0, 1, 2, 3], { modelVersion: '1' }));
  assert.equal(v1.modelVersion, '1');
  assert.deepEqual([...(v1.outputs[0].data as Float32Array)], [1, 2, 3, 4]);
  await assert.rejects(manager.infer(request('versioned', [0, 1, 2, 3], { modelVersion: '3' })), {
    code: 'MODEL_VERSION_NOT_FOUND',
  });
  await assert.rejects(manager.infer(request('broken', [0, 1, 2, 3])), { code: 'MODEL_NOT_READY' });
});

test('concurrent requests are batched into fewer executions with correct slices', async () => {
  const n = 20;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => manager.infer(request('batched', [i, i, i, i, -i, -i, -i, -i]))),
  );
  results.forEach((r, i) => {
    assert.deepEqual(r.outputs[0].shape, [2, 4]);
    assert.deepEqual(
      [...(r.outputs[0].data as Float32Array)],
      [i, i, i, i, -i, -i, -i, -i].map((v) => v + 10),
    );
  });
  const [stats] = manager.statistics('batched');
  assert.equal(stats.inference_count, 2 * n);
  assert.ok(stats.execution_count < n, `expected batching: ${stats.execution_count} executions for ${n} requests`);
  assert.equal(stats.inference_stats.success.count, n);
  const text = await metrics.text();
  assert.match(text, /nv_inference_request_success\{model="batched",version="1"\} 20/);
  assert.match(text, /nv_inference_count\{model="batched",version="1"\} 40/);
  assert.match(text, /maas_inference_batch_size_bucket\{le="\+Inf",model="batched",version="1"\} \d+/);
});

test('bad requests fail with codes and count as failures', async () => {
  await assert.rejects(manager.infer(request('versioned', [1, 2, 3])), { code: 'INVALID_SHAPE' });
  await assert.rejects(manager.infer(request('versioned', Array(36).fill(0))), { code: 'INVALID_SHAPE' }); // batch 9 > 8
  const [stats] = manager.statistics('versioned', '2');
  assert.ok(stats.inference_stats.fail.count >= 2);
  assert.throws(() => manager.statistics('nosuch'), { code: 'MODEL_NOT_FOUND' });
});

test('failed loads leave no sessions behind, a bad version_policy stops only its model, close frees the rest', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-leak-'));
  const failOnSecondInstance = addModelBytes(7);
  let liveSessions = 0;
  let flakyLoads = 0;
  // The real engine, counting sessions that are alive (loaded, not released).
  const countingLoad: typeof loadModel = async (bytes, options) => {
    if (Buffer.compare(Buffer.from(bytes), Buffer.from(failOnSecondInstance)) === 0 && ++flakyLoads === 2) {
      throw Object.assign(new Error('simulated load failure'), { code: 'ENGINE_OUT_OF_MEMORY' });
    }
    const session = await loadModel(bytes, options);
    liveSessions += 1;
    const release = session.release.bind(session);
    let released = false;
    session.release = () => {
      if (!released) {
        released = true;
        liveSessions -= 1;
      }
      release();
    };
    return session;
  };
  const write = async (name: string, config: unknown, bytes: Uint8Array) => {
    await fs.mkdir(path.join(dir, name, '1'), { recursive: true });
    await fs.writeFile(path.join(dir, name, 'config.json'), JSON.stringify(config));
    await fs.writeFile(path.join(dir, name, '1', 'model.onnx'), bytes);
  };
  await write('a_good', { max_batch_size: 4, instance_group: [{ count: 2 }] }, addModelBytes(1));
  await write('b_badpolicy', { max_batch_size: 4, version_policy: { specific: { versions: 'x' } } }, addModelBytes(2));
  await write('c_flaky', { max_batch_size: 4, instance_group: [{ count: 2 }] }, failOnSecondInstance);
  const m = new ModelManager({
    repositoryDir: dir,
    loadModel: countingLoad,
    metrics: new InferenceMetrics(),
    logger: createLogger('silent'),
  });
  try {
    await m.loadAll();
    const byName = new Map(m.index(false).map((e) => [e.name, e]));
    assert.equal(byName.get('a_good')?.state, 'READY');
    assert.equal(byName.get('b_badpolicy')?.state, 'UNAVAILABLE');
    assert.match(byName.get('b_badpolicy')!.reason, /version_policy/);
    assert.equal(byName.get('c_flaky')?.state, 'UNAVAILABLE');
    assert.match(byName.get('c_flaky')!.reason, /simulated load failure/);
    assert.equal(liveSessions, 2, "only a_good's two instances stay loaded");
    assert.deepEqual(
      [...((await m.infer(request('a_good', [0, 1, 2, 3]))).outputs[0].data as Float32Array)],
      [1, 2, 3, 4],
    );
  } finally {
    await m.close(1000);
    await fs.rm(dir, { recursive: true, force: true });
  }
  assert.equal(liveSessions, 0, 'close releases every session');
  assert.equal(m.isModelReady('a_good'), false);
});

test('version directories 1 and 01 are refused together, with a reason naming both', () => {
  const entries = manager.index(false).filter((e) => e.name === 'ambiguous');
  assert.deepEqual(
    entries.map((e) => e.state),
    ['UNAVAILABLE'],
  );
  assert.match(
    entries[0].reason,
    /version directories '01' and '1' both name version 1|version directories '1' and '01' both name version 1/,
  );
  assert.equal(manager.isModelReady('ambiguous'), false);
});

test('an instance_group count of 3000 is a config error, not 3000 sessions', () => {
  const [entry] = manager.index(false).filter((e) => e.name === 'manyinstances');
  assert.equal(entry.state, 'UNAVAILABLE');
  assert.match(entry.reason, /count is 3000, above the largest allowed, 64/);
});

// Each instance gets the cores shared among the model's instances (not all
// of them each); an explicit --threads is kept, and the total is bounded.
test('engine threads: shared among instances by default, --threads kept, the total bounded', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-threads-'));
  const write = async (name: string, count: number) => {
    await fs.mkdir(path.join(dir, name, '1'), { recursive: true });
    await fs.writeFile(
      path.join(dir, name, 'config.json'),
      JSON.stringify({ max_batch_size: 4, instance_group: [{ count }] }),
    );
    await fs.writeFile(path.join(dir, name, '1', 'model.onnx'), addModelBytes(1));
  };
  await write('a', 2);
  await write('b', 3);
  const asked: Array<number | undefined> = [];
  // Records what each session is asked for; starts one thread whatever it is.
  const recording = (bytes: Uint8Array, options?: { intraOpThreads?: number }) => {
    asked.push(options?.intraOpThreads);
    return loadModel(bytes, { intraOpThreads: 1 });
  };
  const shared = new ModelManager({
    repositoryDir: dir,
    loadModel: recording,
    metrics: new InferenceMetrics(),
    logger: createLogger('silent'),
  });
  await shared.loadAll();
  const cores = os.availableParallelism();
  assert.deepEqual(asked, [
    ...new Array(2).fill(Math.max(1, Math.floor(cores / 2))),
    ...new Array(3).fill(Math.max(1, Math.floor(cores / 3))),
  ]);
  await shared.close(0);

  asked.length = 0;
  const explicit = new ModelManager({
    repositoryDir: dir,
    loadModel: recording,
    metrics: new InferenceMetrics(),
    logger: createLogger('silent'),
    intraOpThreads: 300,
  });
  await explicit.loadAll();
  // a: 2 x 300 = 600 threads; b: 3 x 300 = 900 more would pass 1024.
  const states = Object.fromEntries(explicit.index(false).map((e) => [e.name, e]));
  assert.equal(states.a.state, 'READY');
  assert.equal(states.b.state, 'UNAVAILABLE');
  assert.match(
    states.b.reason,
    /3 instance\(s\) x 300 engine thread\(s\) = 900 threads; with the 600 already started that passes the server's limit of 1024/,
  );
  assert.deepEqual(asked, [300, 300], 'b started no session');
  await explicit.close(0);
  await fs.rm(dir, { recursive: true, force: true });
});
