// Models loaded, reloaded and unloaded while traffic flows, over real HTTP
// against the real engine (docs/architecture.md "Model lifecycle"): no
// request fails across a load or a swap, queued requests finish on the
// runtime they were queued on, an unload drains before it frees sessions,
// a failed reload leaves what served, and poll mode follows the directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/logger';
import { InferenceMetrics } from '../common/metrics';
import { loadModel } from '../native';
import { FilesystemCatalog } from '../gateway/catalog/filesystem';
import { startServer, type RunningServer } from '../gateway/server';
import { ModelServing } from '../gateway/serving/model-service';
import { addModelBytes, writeModel } from './support/models';

// Queued requests wait this long for company: long enough to act while they wait.
const SLOW_BATCH = { max_batch_size: 16, dynamic_batching: { max_queue_delay_microseconds: 400_000 } };

let repo: string;
let server: RunningServer;
let base: string;

before(async () => {
  repo = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-lifecycle-'));
  await writeModel(repo, 'stable', { max_batch_size: 8, dynamic_batching: {} }, { 1: addModelBytes(100) });
  await writeModel(repo, 'moving', { max_batch_size: 8, dynamic_batching: {} }, { 1: addModelBytes(1) });
  await writeModel(repo, 'swap', SLOW_BATCH, { 1: addModelBytes(1) });
  server = await startServer({
    modelRepository: repo,
    httpPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    controlMode: 'explicit',
    loadModels: ['stable', 'swap'],
    drainDeadlineMs: 5000,
  });
  base = `http://127.0.0.1:${server.httpPort}`;
});

after(async () => {
  await server?.close();
  await fs.rm(repo, { recursive: true, force: true });
});

interface Answer {
  status: number;
  version?: string;
  y?: number[];
  code?: string;
}

async function infer(model: string, x = [0, 1, 2, 3]): Promise<Answer> {
  const res = await fetch(`${base}/v2/models/${model}/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: x }] }),
  });
  const body = (await res.json()) as { model_version?: string; outputs?: Array<{ data: number[] }>; code?: string };
  return { status: res.status, version: body.model_version, y: body.outputs?.[0].data, code: body.code };
}

function post(p: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${p}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
}

// Clients sending one request after another until stop(); every answer kept.
function traffic(model: string, clients: number): { stop(): Promise<Answer[]> } {
  let running = true;
  const answers: Answer[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (running) answers.push(await infer(model));
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

async function indexOf(
  name: string,
): Promise<Array<{ name: string; version?: string; state: string; reason: string }>> {
  const entries = (await (await post('/v2/repository/index', {})).json()) as Array<{
    name: string;
    version?: string;
    state: string;
    reason: string;
  }>;
  return entries.filter((e) => e.name === name);
}

test('explicit mode: only --load-model models load; the index lists the others as not loaded', async () => {
  assert.equal((await infer('stable')).status, 200);
  assert.deepEqual(await indexOf('moving'), [{ name: 'moving', state: 'UNAVAILABLE', reason: 'not loaded' }]);
  const notLoaded = await infer('moving');
  assert.equal(notLoaded.status, 404);
  assert.equal(notLoaded.code, 'MODEL_NOT_FOUND');
  const unknown = await post('/v2/repository/models/nosuch/load');
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { code: string }).code, 'MODEL_NOT_FOUND');
});

test('load, reload to a new version and unload under concurrent traffic: zero failed requests', async () => {
  const background = traffic('stable', 8);
  try {
    assert.equal((await post('/v2/repository/models/moving/load')).status, 200);
    assert.deepEqual((await infer('moving')).y, [1, 2, 3, 4]);
    const onMoving = traffic('moving', 8);
    await new Promise((r) => setTimeout(r, 100));
    await writeModel(repo, 'moving', undefined, { 2: addModelBytes(2) });
    assert.equal((await post('/v2/repository/models/moving/load')).status, 200);
    // From the answer of the load on, every new request gets version 2.
    const after = await infer('moving');
    assert.equal(after.version, '2');
    assert.deepEqual(after.y, [2, 3, 4, 5]);
    await new Promise((r) => setTimeout(r, 100));
    const answers = await onMoving.stop();
    assert.ok(answers.length > 16, `${answers.length} requests during the swap`);
    for (const a of answers) {
      assert.equal(a.status, 200, JSON.stringify(a));
      assert.deepEqual(a.y, a.version === '1' ? [1, 2, 3, 4] : [2, 3, 4, 5]);
    }
    assert.ok(answers.some((a) => a.version === '2'));
    assert.deepEqual(
      (await indexOf('moving')).map((e) => [e.version, e.state]),
      [['2', 'READY']],
    );
    assert.equal((await post('/v2/repository/models/moving/unload')).status, 200);
    const gone = await infer('moving');
    assert.equal(gone.status, 400);
    assert.equal(gone.code, 'MODEL_NOT_READY');
    assert.deepEqual(await indexOf('moving'), [{ name: 'moving', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    // Unloaded models do not make the server unready (strict readiness counts loaded ones).
    assert.equal((await fetch(`${base}/v2/health/ready`)).status, 200);
  } finally {
    const answers = await background.stop();
    assert.ok(answers.length > 0);
    assert.deepEqual(
      answers.filter((a) => a.status !== 200),
      [],
      'the other model never failed',
    );
  }
});

test('hot swap while requests are queued: they finish on the old version, new ones go to the new', async () => {
  // Queued behind a 400 ms batching delay on version 1.
  const queued = Array.from({ length: 6 }, (_, i) => infer('swap', [i, i, i, i]));
  await new Promise((r) => setTimeout(r, 50));
  await writeModel(repo, 'swap', undefined, { 2: addModelBytes(2) });
  const loading = post('/v2/repository/models/swap/load');
  const queuedAnswers = await Promise.all(queued);
  assert.equal((await loading).status, 200);
  queuedAnswers.forEach((a, i) => {
    assert.equal(a.status, 200, JSON.stringify(a));
    assert.equal(a.version, '1');
    assert.deepEqual(a.y, [i + 1, i + 1, i + 1, i + 1]);
  });
  const fresh = await infer('swap');
  assert.equal(fresh.version, '2');
  assert.deepEqual(fresh.y, [2, 3, 4, 5]);

  // A config-only reload (the load's `config` parameter) swaps the same way.
  const waiting = infer('swap', [5, 5, 5, 5]);
  await new Promise((r) => setTimeout(r, 50));
  const config = JSON.stringify({ max_batch_size: 4 });
  assert.equal((await post('/v2/repository/models/swap/load', { parameters: { config } })).status, 200);
  const waited = await waiting;
  assert.equal(waited.status, 200);
  assert.deepEqual(waited.y, [7, 7, 7, 7]);
  const reconfigured = (await (await fetch(`${base}/v2/models/swap/config`)).json()) as {
    max_batch_size: number;
    dynamic_batching?: unknown;
  };
  assert.equal(reconfigured.max_batch_size, 4);
  assert.equal(reconfigured.dynamic_batching, undefined);
});

test('a reload that fails keeps the serving version; the load answers MODEL_LOAD_FAILED with the reason', async () => {
  assert.equal((await post('/v2/repository/models/swap/load')).status, 200);
  await writeModel(repo, 'swap', undefined, { 3: addModelBytes(0, ['Det']) });
  const failed = await post('/v2/repository/models/swap/load');
  assert.equal(failed.status, 400);
  const body = (await failed.json()) as { code: string; error: string };
  assert.equal(body.code, 'MODEL_LOAD_FAILED');
  assert.match(body.error, /Det/);
  const still = await infer('swap');
  assert.equal(still.status, 200);
  assert.equal(still.version, '2');
  const badConfig = await post('/v2/repository/models/stable/load', {
    parameters: { config: '{"max_batch_size": -1}' },
  });
  assert.equal(((await badConfig.json()) as { code: string }).code, 'MODEL_LOAD_FAILED');
  assert.equal((await infer('stable')).status, 200);
});

test('unload drains queued work before it frees the sessions', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-unload-'));
  let live = 0;
  const counting: typeof loadModel = async (bytes, options) => {
    const session = await loadModel(bytes, options);
    live++;
    const release = session.release.bind(session);
    session.release = () => {
      live--;
      release();
    };
    return session;
  };
  await writeModel(dir, 'm', SLOW_BATCH, { 1: addModelBytes(1) });
  const serving = new ModelServing({
    catalog: new FilesystemCatalog(dir),
    loadModel: counting,
    metrics: new InferenceMetrics(),
    logger: createLogger('silent'),
    controlMode: 'explicit',
    drainDeadlineMs: 5000,
  });
  try {
    await serving.load('m');
    assert.equal(live, 1);
    const request = (v: number) =>
      serving.infer({
        modelName: 'm',
        parameters: {},
        priority: 0,
        timeoutUs: 0,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: new Float32Array([v, v, v, v]) }],
      });
    const queued = [request(1), request(2), request(3)];
    const unloading = serving.unload('m');
    await new Promise((r) => setImmediate(r)); // operations on one model run in turn: the unload starts next
    // Routing stopped as the unload began: a new request is refused while the queue drains.
    await assert.rejects(request(9), { code: 'MODEL_NOT_READY' });
    assert.deepEqual(
      (await Promise.all(queued)).map((r) => (r.outputs[0].data as Float32Array)[0]),
      [2, 3, 4],
    );
    await unloading;
    assert.equal(live, 0, 'the sessions are freed once drained');
    assert.deepEqual(await serving.index(false), [{ name: 'm', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    await serving.load('m');
    assert.equal(live, 1, 'a model can be loaded again after an unload');
  } finally {
    await serving.close(1000);
    await fs.rm(dir, { recursive: true, force: true });
  }
  assert.equal(live, 0);
});

test('poll mode follows the directory: a new model serves, a removed one unloads; load and unload are refused', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-poll-'));
  await writeModel(dir, 'first', { max_batch_size: 4 }, { 1: addModelBytes(1) });
  const polled = await startServer({
    modelRepository: dir,
    httpPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    controlMode: 'poll',
    repositoryPollSecs: 0.1,
  });
  const url = `http://127.0.0.1:${polled.httpPort}`;
  const ready = async (name: string) => (await fetch(`${url}/v2/models/${name}/ready`)).status === 200;
  const waitFor = async (what: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await what()); i++) await new Promise((r) => setTimeout(r, 50));
    return what();
  };
  try {
    assert.equal(await ready('first'), true);
    await writeModel(dir, 'second', { max_batch_size: 4 }, { 1: addModelBytes(2) });
    assert.equal(await waitFor(() => ready('second')), true, 'a new model directory is loaded');
    await fs.rm(path.join(dir, 'first'), { recursive: true });
    assert.equal(await waitFor(async () => !(await ready('first'))), true, 'a removed model is unloaded');
    const refused = await fetch(`${url}/v2/repository/models/second/unload`, { method: 'POST' });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { code: string }).code, 'MODEL_CONTROL_DISABLED');
  } finally {
    await polled.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
