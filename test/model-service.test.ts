// The serving layer against the real engine on a real repository (the
// filesystem catalog): broken models are reported and do not stop the
// others; versions route; requests batch. Live load/unload: test/lifecycle.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/logger';
import { InferenceMetrics } from '../common/metrics';
import { loadModel } from '../native';
import { encodeModel } from '../models/onnx-writer';
import { addModelBytes, writeModel } from './support/models';
import { buildIdentityModel, writeDemoRepository } from '../models/demo';
import { FilesystemCatalog } from '../gateway/catalog/filesystem';
import { ModelServing, type ModelServingOptions } from '../gateway/serving/model-service';
import { defaultIntraOpThreads } from '../gateway/serving/runtime-loader';
import type { InferRequest } from '../gateway/inference/types';

let repo: string;
let manager: ModelServing;
let metrics: InferenceMetrics;

// A started ModelServing over a directory (none mode: everything loads).
async function serve(
  options: Omit<ModelServingOptions, 'catalog' | 'logger'> & { repositoryDir: string },
): Promise<ModelServing> {
  const { repositoryDir, ...rest } = options;
  const serving = new ModelServing({
    catalog: new FilesystemCatalog(repositoryDir),
    logger: createLogger('silent'),
    ...rest,
  });
  await serving.start();
  return serving;
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
  await writeModel(
    repo,
    'versioned',
    { max_batch_size: 8, version_policy: { all: {} } },
    { 1: addModelBytes(1), 2: addModelBytes(2) },
  );
  await writeModel(
    repo,
    'batched',
    { max_batch_size: 64, dynamic_batching: { max_queue_delay_microseconds: 200_000 } },
    { 1: addModelBytes(10) },
  );
  await writeModel(
    repo,
    'broken',
    { max_batch_size: 8 },
    { 1: new Uint8Array([0x08, 0x07, 0x3a, 0xff, 0xff, 0x01, 0x02]) },
  );
  await writeModel(repo, 'unsupported', { max_batch_size: 8 }, { 1: addModelBytes(0, ['Det', 'Hardmax']) });
  await writeModel(repo, 'badjson', '{"max_batch_size": ', { 1: buildIdentityModel() });
  await writeModel(
    repo,
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
  await writeModel(repo, 'noversions', { max_batch_size: 8 }, {});
  await writeModel(
    repo,
    'ambiguous',
    { max_batch_size: 8, version_policy: { all: {} } },
    { 1: addModelBytes(1), '01': addModelBytes(2) },
  );
  await writeModel(
    repo,
    'manyinstances',
    { max_batch_size: 8, instance_group: [{ kind: 'KIND_CPU', count: 3000 }] },
    { 1: addModelBytes(1) },
  );
  metrics = new InferenceMetrics();
  manager = await serve({ repositoryDir: repo, loadModel, metrics });
});

after(async () => {
  await manager.close(1000);
  await fs.rm(repo, { recursive: true, force: true });
});

test('broken models are UNAVAILABLE with a reason; the others are READY', async () => {
  const byName = new Map((await manager.index(false)).map((e) => [`${e.name}/${e.version ?? ''}`, e]));
  assert.equal(byName.get('mlp/1')?.state, 'READY');
  assert.equal(byName.get('identity/1')?.state, 'READY');
  assert.equal(byName.get('versioned/1')?.state, 'READY');
  assert.equal(byName.get('versioned/2')?.state, 'READY');
  assert.equal(byName.get('broken/1')?.state, 'UNAVAILABLE');
  const unsupported = byName.get('unsupported/1');
  assert.equal(unsupported?.state, 'UNAVAILABLE');
  assert.match(unsupported.reason, /Det/);
  assert.match(unsupported.reason, /Hardmax/);
  assert.match(byName.get('badjson/')!.reason, /not valid JSON/);
  assert.match(byName.get('fixedbatch/1')!.reason, /fixed at 2/);
  assert.match(byName.get('noversions/')!.reason, /no version/);
  assert.equal(manager.isReady(), false, 'strict readiness: not every model is ready');
  assert.equal(manager.isModelReady('mlp'), true);
  assert.equal(manager.isModelReady('broken'), false);
  assert.equal(manager.isModelReady('nosuch'), false);
  const readyOnly = await manager.index(true);
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
  let m: ModelServing | undefined;
  try {
    m = await serve({ repositoryDir: dir, loadModel: countingLoad, metrics: new InferenceMetrics() });
    const byName = new Map((await m.index(false)).map((e) => [e.name, e]));
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
    await m?.close(1000);
    await fs.rm(dir, { recursive: true, force: true });
  }
  assert.equal(liveSessions, 0, 'close releases every session');
  assert.equal(m?.isModelReady('a_good'), false);
});

test('version directories 1 and 01 are refused together, with a reason naming both', async () => {
  const entries = (await manager.index(false)).filter((e) => e.name === 'ambiguous');
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

test('an instance_group count of 3000 is a config error, not 3000 sessions', async () => {
  const [entry] = (await manager.index(false)).filter((e) => e.name === 'manyinstances');
  assert.equal(entry.state, 'UNAVAILABLE');
  assert.match(entry.reason, /count is 3000, above the largest allowed, 64/);
});

// Each instance gets the cores left after the event loop's, shared among the
// model's instances (not all of them each); an explicit --threads is kept, and the total is bounded.
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
  const shared = await serve({ repositoryDir: dir, loadModel: recording, metrics: new InferenceMetrics() });
  assert.deepEqual(asked, [
    ...new Array(2).fill(defaultIntraOpThreads(2)),
    ...new Array(3).fill(defaultIntraOpThreads(3)),
  ]);
  // The cores left after the event loop's, shared: never fewer than one each.
  assert.equal(defaultIntraOpThreads(1, 16), 15);
  assert.equal(defaultIntraOpThreads(3, 16), 5);
  assert.equal(defaultIntraOpThreads(1, 2), 1);
  assert.equal(defaultIntraOpThreads(4, 2), 1);
  await shared.close(0);

  asked.length = 0;
  const explicit = await serve({
    repositoryDir: dir,
    loadModel: recording,
    metrics: new InferenceMetrics(),
    intraOpThreads: 300,
  });
  // a: 2 x 300 = 600 threads; b: 3 x 300 = 900 more would pass 1024.
  const states = Object.fromEntries((await explicit.index(false)).map((e) => [e.name, e]));
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

test("statistics report the engine's own memory figures: the weights (and arenas) each instance holds", () => {
  const [mlp] = manager.statistics('mlp');
  const [usage] = mlp.memory_usage;
  assert.equal(usage.type, 'CPU');
  // 784x128 + 128x64 + 64x10 float weights and their biases: ~430 KB.
  assert.ok(usage.byte_size >= 4 * (784 * 128 + 128 * 64 + 64 * 10), `${usage.byte_size} bytes`);
  assert.ok(usage.byte_size < 16 * 1024 * 1024, `${usage.byte_size} bytes`);
});
