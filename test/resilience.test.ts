// Resilience in the serving layer against the real engine (docs/resilience.md):
// the circuit breaker, tenant priorities and the response cache (in process
// and in a real redis-server, also one that goes away). Engine failures are
// injected by wrapping real sessions (a fault switch per model, named as
// such): a model whose run fails on demand, which no healthy ONNX file does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/logger';
import { InferenceMetrics } from '../common/metrics';
import { loadModel } from '../native';
import { FilesystemCatalog } from '../gateway/catalog/filesystem';
import type { CallContext, WorkClass } from '../gateway/inference/call';
import type { InferRequest } from '../gateway/inference/types';
import { ModelServing } from '../gateway/serving/model-service';
import type { TenantPriority } from '../gateway/serving/priority';
import { RedisResponseCache } from '../gateway/serving/redis-cache';
import { MemoryResponseCache, ResponseCache, type ResponseCacheStore } from '../gateway/serving/response-cache';
import { addModelBytes, writeModel } from './support/models';
import { startRedis } from './support/services/redis';

const silent = createLogger('silent');

// Per model: what its sessions' run() does besides running (the fault injection).
interface Fault {
  code: string | null; // throw an engine error with this code instead of running
  gate: Promise<void> | null; // wait for this before running
  runs: number;
}
const faults = new Map<string, Fault>();
function fault(model: string): Fault {
  let f = faults.get(model);
  if (!f) faults.set(model, (f = { code: null, gate: null, runs: 0 }));
  return f;
}

// Each test model's bytes, to tell which model a session loads.
const modelOfBytes = new Map<string, string>();
async function writeTestModel(name: string, config: unknown, addend: number): Promise<void> {
  const bytes = addModelBytes(addend);
  modelOfBytes.set(Buffer.from(bytes).toString('base64'), name);
  await writeModel(repo, name, config, { 1: bytes });
}

// The real engine; sessions of a model named in `faults` go through its switch.
const injectingLoad: typeof loadModel = async (bytes, options) => {
  const session = await loadModel(bytes, options);
  const name = modelOfBytes.get(Buffer.from(bytes).toString('base64')) ?? '';
  const run = session.run.bind(session);
  session.run = async (feeds) => {
    const f = faults.get(name);
    if (f) {
      f.runs += 1;
      if (f.gate) await f.gate;
      if (f.code) throw Object.assign(new Error(`injected ${f.code}`), { code: f.code });
    }
    return run(feeds);
  };
  return session;
};

let repo: string;

before(async () => {
  repo = await fs.mkdtemp(path.join(os.tmpdir(), 'maas-resilience-'));
  const breaker = { failure_threshold: 3, reset_timeout_ms: 300 };
  await writeTestModel('flaky', { max_batch_size: 4, circuit_breaker: breaker }, 1);
  await writeTestModel('steady', { max_batch_size: 4 }, 2);
  await writeTestModel('contended', { max_batch_size: 1, dynamic_batching: {} }, 3);
  await writeTestModel('cached', { max_batch_size: 4, response_cache: { enable: true, ttl_seconds: 1 } }, 4);
});

after(async () => {
  await fs.rm(repo, { recursive: true, force: true });
});

async function serve(
  extra: Partial<ConstructorParameters<typeof ModelServing>[0]> = {},
): Promise<{ models: ModelServing; metrics: InferenceMetrics }> {
  const metrics = new InferenceMetrics();
  const models = new ModelServing({
    catalog: new FilesystemCatalog(repo),
    loadModel: injectingLoad,
    metrics,
    logger: silent,
    ...extra,
  });
  await models.start();
  return { models, metrics };
}

function call(tenant: string | null, workClass: WorkClass = 'online'): CallContext {
  return {
    requestId: 'r',
    protocol: 'http',
    operation: 'infer',
    startedMs: performance.now(),
    model: undefined,
    version: undefined,
    principal: { subject: tenant ?? 'anonymous', tenant, roles: [] },
    trace: null,
    deadlineMs: 0,
    workClass,
    responseHeaders: null,
  };
}

function request(model: string, x: number, over: Partial<InferRequest> = {}): InferRequest {
  return {
    modelName: model,
    parameters: {},
    priority: 0,
    timeoutUs: 0,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: new Float32Array([x, x, x, x]) }],
    ...over,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

function metric(text: string, name: string, model: string): number | undefined {
  const m = new RegExp(`^${name}\\{model="${model}",version="1"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a model that fails every run opens its breaker; others keep serving; a probe closes it', async () => {
  const { models, metrics } = await serve();
  const f = fault('flaky');
  try {
    assert.equal(await codeOf(models.infer(request('flaky', 1))), 'OK');
    // Caller errors (4xx from the engine) are no evidence against the model.
    f.code = 'ENGINE_INVALID_ARGUMENT';
    for (let i = 0; i < 5; i++)
      assert.equal(await codeOf(models.infer(request('flaky', 1))), 'ENGINE_INVALID_ARGUMENT');
    assert.equal(models.isModelReady('flaky'), true);
    // Three consecutive engine faults open it.
    f.code = 'ENGINE_INTERNAL';
    for (let i = 0; i < 3; i++) assert.equal(await codeOf(models.infer(request('flaky', 1))), 'ENGINE_INTERNAL');
    const runsWhenOpened = f.runs;
    assert.equal(await codeOf(models.infer(request('flaky', 1))), 'MODEL_CIRCUIT_OPEN');
    assert.equal(f.runs, runsWhenOpened, 'refused without running');
    assert.equal(models.isModelReady('flaky'), false);
    const entry = (await models.index(false)).find((e) => e.name === 'flaky');
    assert.match(entry?.reason ?? '', /circuit breaker open/);
    assert.equal(metric(await metrics.text(), 'maas_model_circuit_state', 'flaky'), 2);
    // Another model is untouched.
    assert.equal(await codeOf(models.infer(request('steady', 1))), 'OK');
    assert.equal(models.isModelReady('steady'), true);
    assert.equal(metric(await metrics.text(), 'maas_model_circuit_state', 'steady'), 0);

    // Past reset_timeout_ms a failed probe opens it again at once.
    await sleep(400);
    assert.equal(metric(await metrics.text(), 'maas_model_circuit_state', 'flaky'), 1);
    assert.equal(await codeOf(models.infer(request('flaky', 1))), 'ENGINE_INTERNAL');
    assert.equal(await codeOf(models.infer(request('flaky', 1))), 'MODEL_CIRCUIT_OPEN');
    // The model heals; the next probe closes the breaker.
    f.code = null;
    await sleep(400);
    const healed = await models.infer(request('flaky', 1));
    assert.deepEqual([...healed.outputs[0].data], [2, 2, 2, 2]);
    assert.equal(models.isModelReady('flaky'), true);
    assert.equal(metric(await metrics.text(), 'maas_model_circuit_state', 'flaky'), 0);
    assert.equal(await codeOf(models.infer(request('flaky', 1))), 'OK');
  } finally {
    f.code = null;
    await models.close(1000);
  }
});

test('under contention premium tenants are batched first, jobs last; a request cannot raise its own class', async () => {
  const classes: Record<string, TenantPriority> = { gold: 'premium', tin: 'standard' };
  const { models } = await serve({ tenantPriority: (t) => (t === null ? undefined : (classes[t] ?? 'standard')) });
  const f = fault('contended');
  let open!: () => void;
  f.gate = new Promise<void>((resolve) => (open = resolve));
  const order: string[] = [];
  const send = (label: string, c: CallContext, priority = 0) =>
    models.infer(request('contended', 1, { call: c, priority })).then(() => order.push(label));
  try {
    // The first request holds the only instance; the rest queue behind it.
    const all = [send('first', call('tin'))];
    await sleep(50);
    all.push(send('job', call('gold', 'job')));
    all.push(send('tin-1', call('tin')));
    all.push(send('tin-asks-1', call('tin'), 1)); // asks for level 1: stays standard
    all.push(send('anon', call(null)));
    all.push(send('gold-1', call('gold')));
    all.push(send('gold-2', call('gold')));
    await sleep(50);
    f.gate = null;
    open();
    await Promise.all(all);
    assert.deepEqual(order, ['first', 'gold-1', 'gold-2', 'tin-1', 'tin-asks-1', 'anon', 'job']);
  } finally {
    f.gate = null;
    await models.close(1000);
  }
});

async function inferBytes(models: ModelServing, tenant: string | null, x: number): Promise<Buffer> {
  const r = await models.infer(request('cached', x, { call: call(tenant) }));
  const data = r.outputs[0].data;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

test('response cache in process: identical bytes on a hit, never across tenants, gone after its TTL', async () => {
  const { models, metrics } = await serve({ responseCache: new ResponseCache(new MemoryResponseCache(), silent) });
  const f = fault('cached');
  try {
    const first = await inferBytes(models, 'alpha', 7);
    assert.deepEqual([...new Float32Array(first.buffer, first.byteOffset, 4)], [11, 11, 11, 11]);
    const again = await inferBytes(models, 'alpha', 7);
    assert.equal(f.runs, 1, 'the second answer came from the cache');
    assert.ok(again.equals(first));
    // Same model, same bytes, another tenant: its own miss.
    assert.ok((await inferBytes(models, 'beta', 7)).equals(first));
    assert.equal(f.runs, 2);
    // Other input bytes miss.
    await inferBytes(models, 'alpha', 8);
    assert.equal(f.runs, 3);
    const text = await metrics.text();
    assert.equal(metric(text, 'nv_cache_num_hits_per_model', 'cached'), 1);
    assert.equal(metric(text, 'nv_cache_num_misses_per_model', 'cached'), 3);
    assert.ok((metric(text, 'nv_cache_hit_duration_per_model', 'cached') ?? -1) >= 0);
    // A model without response_cache never looks.
    await models.infer(request('steady', 1, { call: call('alpha') }));
    assert.equal(metric(await metrics.text(), 'nv_cache_num_misses_per_model', 'steady'), 0);
    // ttl_seconds is 1.
    await sleep(1100);
    await inferBytes(models, 'alpha', 7);
    assert.equal(f.runs, 4);
  } finally {
    await models.close(1000);
  }
});

test('response cache in Redis: replicas share hits; Redis gone means uncached answers, never errors', async () => {
  const redis = await startRedis();
  const stores: ResponseCacheStore[] = [new RedisResponseCache(redis.info.url), new RedisResponseCache(redis.info.url)];
  const a = await serve({ responseCache: new ResponseCache(stores[0], silent) });
  const b = await serve({ responseCache: new ResponseCache(stores[1], silent) });
  const f = fault('cached');
  try {
    f.runs = 0;
    await sleep(200); // both connections up
    const first = await inferBytes(a.models, 'alpha', 21);
    await sleep(50); // the insert is not awaited by the request
    const other = await inferBytes(b.models, 'alpha', 21);
    assert.ok(other.equals(first));
    assert.equal(f.runs, 1, 'the second replica answered from Redis');
    assert.equal(metric(await b.metrics.text(), 'nv_cache_num_hits_per_model', 'cached'), 1);

    await redis.kill();
    for (let i = 0; i < 5; i++) assert.ok((await inferBytes(a.models, 'alpha', 21)).equals(first));
    assert.equal(f.runs, 6, 'every request ran while Redis was away');
    assert.equal(metric(await a.metrics.text(), 'nv_cache_num_hits_per_model', 'cached'), 0);
  } finally {
    await a.models.close(1000);
    await b.models.close(1000);
    for (const s of stores) await s.close();
    await redis.close();
  }
});
