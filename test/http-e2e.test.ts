// End to end over real HTTP: the real server (repository, engine, batcher,
// HTTP front end) serving the demo models. No fakes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_MODELS, buildIdentityModel, seededRandom, writeDemoRepository } from '../models/demo';
import { startServer } from '../gateway/server';

const MAX_BODY_BYTES = 1024 * 1024; // small, so the 413 test stays cheap
const MLP = DEMO_MODELS.mlp;
const IDENTITY = DEMO_MODELS.identity;
const FEATURES = MLP.input.dims[1];
const CLASSES = MLP.output.dims[1];

let server: Awaited<ReturnType<typeof startServer>>;
let repoDir: string;
let base: string;

before(async () => {
  repoDir = await mkdtemp(join(tmpdir(), 'maas-http-e2e-'));
  await writeDemoRepository(repoDir);
  server = await startServer({
    modelRepository: repoDir,
    httpPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    maxBodyBytes: MAX_BODY_BYTES,
  });
  base = `http://127.0.0.1:${server.httpPort}`;
});

after(async () => {
  await server?.close();
  if (repoDir) await rm(repoDir, { recursive: true, force: true });
});

// Response bodies are probed field by field; a wrong shape fails the assertion.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- boundary: parsed JSON of our own server
type JsonBody = any;

async function json(res: Response): Promise<JsonBody> {
  return res.json();
}

function rows(count: number, seed: number): Float32Array {
  const next = seededRandom(seed);
  return new Float32Array(count * FEATURES).map(() => next());
}

function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

// Sends one FP32 input in binary and asks for every output in binary.
async function inferBinary(
  model: string,
  inputName: string,
  shape: number[],
  values: Float32Array,
): Promise<{ json: JsonBody; blobs: Buffer; res: Response }> {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: inputName, shape, datatype: 'FP32', parameters: { binary_data_size: values.byteLength } }],
      parameters: { binary_data_output: true },
    }),
  );
  const res = await fetch(`${base}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const headerBytes = Number(res.headers.get('inference-header-content-length'));
  const bytes = Buffer.from(await res.arrayBuffer());
  return { json: JSON.parse(bytes.subarray(0, headerBytes).toString()), blobs: bytes.subarray(headerBytes), res };
}

function floats(bytes: Buffer): Float32Array {
  return new Float32Array(new Uint8Array(bytes).buffer); // copy: aligned
}

function assertRowsSumToOne(probabilities: ArrayLike<number>, rowCount: number): void {
  for (let r = 0; r < rowCount; r++) {
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) {
      const p = probabilities[r * CLASSES + c];
      assert.ok(p >= 0 && p <= 1, `probability ${p}`);
      sum += p;
    }
    assert.ok(Math.abs(sum - 1) < 1e-4, `row ${r} sums to ${sum}`);
  }
}

async function assertError(res: Response, status: number, code?: string): Promise<void> {
  const body = await json(res);
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.code, 'string');
  if (code) assert.equal(body.code, code, body.error);
}

async function assertStillServing(): Promise<void> {
  const res = await postJson(`/v2/models/${IDENTITY.name}/infer`, {
    inputs: [{ name: IDENTITY.input.name, shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(1) }],
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await json(res)).outputs[0].data, new Array(16).fill(1));
}

test('health: live, ready, model ready', async () => {
  for (const path of [
    '/v2/health/live',
    '/v2/health/ready',
    '/v2/models/mlp/ready',
    '/v2/models/mlp/versions/1/ready',
  ]) {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, 200, path);
    assert.equal(await res.text(), '');
  }
  const unknown = await fetch(`${base}/v2/models/nope/ready`);
  assert.equal(unknown.status, 400);
  assert.equal((await json(unknown)).error, 'Model version not ready');
});

test('server metadata', async () => {
  const body = await json(await fetch(`${base}/v2`));
  assert.equal(typeof body.name, 'string');
  assert.equal(typeof body.version, 'string');
  assert.ok(body.extensions.includes('binary_tensor_data'));
});

test('model metadata has the leading -1 batch dimension', async () => {
  const body = await json(await fetch(`${base}/v2/models/mlp`));
  assert.equal(body.name, 'mlp');
  assert.deepEqual(body.versions, ['1']);
  assert.deepEqual(body.inputs, [{ name: MLP.input.name, datatype: 'FP32', shape: [-1, FEATURES] }]);
  assert.deepEqual(body.outputs, [{ name: MLP.output.name, datatype: 'FP32', shape: [-1, CLASSES] }]);
  assert.deepEqual((await json(await fetch(`${base}/v2/models/mlp/versions/1`))).inputs, body.inputs);
});

test('model config', async () => {
  const body = await json(await fetch(`${base}/v2/models/mlp/config`));
  assert.equal(body.name, 'mlp');
  assert.equal(body.max_batch_size, MLP.maxBatchSize);
  assert.ok(body.dynamic_batching);
});

test('JSON inference on mlp: softmax rows sum to 1, Server-Timing, request id', async () => {
  const input = rows(3, 1);
  const nested = [0, 1, 2].map((r) => Array.from(input.subarray(r * FEATURES, (r + 1) * FEATURES)));
  const res = await postJson(
    '/v2/models/mlp/infer',
    {
      id: 'req-7',
      inputs: [{ name: MLP.input.name, shape: [3, FEATURES], datatype: 'FP32', data: nested }],
    },
    { 'x-request-id': 'e2e-json' },
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(res.headers.get('x-request-id'), 'e2e-json');
  assert.match(res.headers.get('server-timing') ?? '', /^queue;dur=[0-9.]+, infer;dur=[0-9.]+, total;dur=[0-9.]+$/);
  const body = await json(res);
  assert.equal(body.model_name, 'mlp');
  assert.equal(body.model_version, '1');
  assert.equal(body.id, 'req-7');
  assert.equal(body.outputs.length, 1);
  const [out] = body.outputs;
  assert.equal(out.name, MLP.output.name);
  assert.deepEqual(out.shape, [3, CLASSES]);
  assert.equal(out.data.length, 3 * CLASSES);
  assertRowsSumToOne(out.data, 3);
});

test('binary inference on mlp matches JSON inference', async () => {
  const input = rows(2, 2);
  const { json: header, blobs } = await inferBinary('mlp', MLP.input.name, [2, FEATURES], input);
  assert.equal('id' in header, false);
  assert.deepEqual(header.outputs, [
    { name: MLP.output.name, datatype: 'FP32', shape: [2, CLASSES], parameters: { binary_data_size: 2 * CLASSES * 4 } },
  ]);
  const probabilities = floats(blobs);
  assertRowsSumToOne(probabilities, 2);
  const viaJson = await json(
    await postJson('/v2/models/mlp/infer', {
      inputs: [{ name: MLP.input.name, shape: [2, FEATURES], datatype: 'FP32', data: Array.from(input) }],
    }),
  );
  viaJson.outputs[0].data.forEach((p: number, i: number) => assert.ok(Math.abs(p - probabilities[i]) < 1e-6));
});

test('raw-body inference on mlp (Inference-Header-Content-Length: 0)', async () => {
  const input = rows(1, 3);
  const res = await fetch(`${base}/v2/models/mlp/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': '0' },
    body: Buffer.from(input.buffer),
  });
  assert.equal(res.status, 200);
  const headerBytes = Number(res.headers.get('inference-header-content-length'));
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.deepEqual(JSON.parse(bytes.subarray(0, headerBytes).toString()).outputs[0].shape, [1, CLASSES]);
  assertRowsSumToOne(floats(bytes.subarray(headerBytes)), 1);
});

test('identity returns its input exactly (binary and JSON)', async () => {
  const values = new Float32Array([
    0.1,
    -0,
    1e-30,
    3.4e38,
    -7.25,
    1 / 3,
    123456.789,
    Math.PI,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    1e-45,
  ]);
  const { blobs } = await inferBinary(IDENTITY.name, IDENTITY.input.name, [1, 16], values);
  assert.deepEqual(new Uint8Array(blobs), new Uint8Array(values.buffer));
  const body = await json(
    await postJson(`/v2/models/${IDENTITY.name}/infer`, {
      inputs: [{ name: IDENTITY.input.name, shape: [1, 16], datatype: 'FP32', data: Array.from(values) }],
    }),
  );
  // JSON has no -0 (JSON.stringify writes 0); every other value is exact.
  assert.deepEqual(
    Float32Array.from(body.outputs[0].data),
    values.map((v) => (v === 0 ? 0 : v)),
  );
});

test('64 concurrent requests to mlp are all correct and get batched', async () => {
  const count = 64;
  const input = rows(count, 4);
  // References: the same rows in two batched requests of 32.
  const reference = new Float32Array(count * CLASSES);
  for (let half = 0; half < 2; half++) {
    const slice = input.slice(half * 32 * FEATURES, (half + 1) * 32 * FEATURES);
    const { blobs } = await inferBinary('mlp', MLP.input.name, [32, FEATURES], slice);
    reference.set(floats(blobs), half * 32 * CLASSES);
  }
  const statsBefore = (await json(await fetch(`${base}/v2/models/mlp/stats`))).model_stats[0];
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      inferBinary('mlp', MLP.input.name, [1, FEATURES], input.slice(i * FEATURES, (i + 1) * FEATURES)),
    ),
  );
  results.forEach(({ blobs }, i) => {
    const got = floats(blobs);
    for (let c = 0; c < CLASSES; c++) {
      assert.ok(
        Math.abs(got[c] - reference[i * CLASSES + c]) < 1e-5,
        `request ${i} class ${c}: ${got[c]} vs ${reference[i * CLASSES + c]}`,
      );
    }
  });
  const statsAfter = (await json(await fetch(`${base}/v2/models/mlp/stats`))).model_stats[0];
  const inferences = statsAfter.inference_count - statsBefore.inference_count;
  const executions = statsAfter.execution_count - statsBefore.execution_count;
  assert.equal(inferences, count);
  assert.ok(executions < count, `${executions} executions for ${count} requests: no batching`);
  const all = await json(await fetch(`${base}/v2/models/stats`));
  assert.ok(all.model_stats.some((s: { name: string }) => s.name === 'identity'));
});

test('bad requests get a 4xx {error, code} and the server keeps serving', async () => {
  const good = { name: MLP.input.name, shape: [1, FEATURES], datatype: 'FP32', data: Array.from(rows(1, 5)) };
  await assertError(
    await fetch(`${base}/v2/models/mlp/infer`, { method: 'POST', body: '{"inputs": [' }),
    400,
    'INVALID_JSON',
  );
  await assertError(
    await postJson('/v2/models/mlp/infer', {
      inputs: [{ ...good, datatype: 'INT32', data: new Array(FEATURES).fill(1) }],
    }),
    400,
    'INVALID_DATATYPE',
  );
  await assertError(
    await postJson('/v2/models/mlp/infer', { inputs: [{ ...good, datatype: 'FLOAT32' }] }),
    400,
    'INVALID_DATATYPE',
  );
  await assertError(
    await postJson('/v2/models/mlp/infer', { inputs: [{ ...good, data: good.data.slice(1) }] }),
    400,
    'INVALID_SHAPE',
  );
  await assertError(await postJson('/v2/models/nope/infer', { inputs: [good] }), 404, 'MODEL_NOT_FOUND');
  await assertError(
    await postJson('/v2/models/mlp/versions/9/infer', { inputs: [good] }),
    404,
    'MODEL_VERSION_NOT_FOUND',
  );
  await assertError(await fetch(`${base}/v2/models/mlp/versions/9`), 404, 'MODEL_VERSION_NOT_FOUND');
  await assertError(
    await postJson('/v2/models/mlp/infer', { inputs: [good], parameters: { triton_x: 1 } }),
    400,
    'INVALID_PARAMETER',
  );
  await assertError(
    await postJson('/v2/models/mlp/infer', { inputs: [good], outputs: [{ name: 'nope' }] }),
    400,
    'INVALID_REQUEST',
  );

  // Truncated binary: the blob is shorter than binary_data_size.
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: MLP.input.name,
          shape: [1, FEATURES],
          datatype: 'FP32',
          parameters: { binary_data_size: FEATURES * 4 },
        },
      ],
    }),
  );
  await assertError(
    await fetch(`${base}/v2/models/mlp/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length) },
      body: Buffer.concat([header, Buffer.alloc(100)]),
    }),
    400,
    'INVALID_BINARY',
  );
  await assertError(
    await fetch(`${base}/v2/models/mlp/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': '99999' },
      body: header,
    }),
    400,
    'INVALID_BINARY',
  );

  // Oversized body.
  await assertError(
    await fetch(`${base}/v2/models/mlp/infer`, { method: 'POST', body: Buffer.alloc(MAX_BODY_BYTES + 1024, 0x20) }),
    413,
    'BODY_TOO_LARGE',
  );

  // Unknown route and wrong method.
  const notFound = await fetch(`${base}/v2/models/mlp/versions/x/ready`);
  assert.equal(notFound.status, 404);
  assert.deepEqual(await json(notFound), { error: 'Not Found', code: 'NOT_FOUND' });
  await assertError(await fetch(`${base}/v2/models/mlp/infer`), 405, 'METHOD_NOT_ALLOWED');

  await assertStillServing();
});

test('repository index and metrics', async () => {
  const index = await json(await postJson('/v2/repository/index', { ready: true }));
  assert.deepEqual(index.map((e: { name: string }) => e.name).sort(), [
    'bert-mini',
    'cnn-small',
    'counter',
    'identity',
    'mlp',
  ]);
  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /nv_inference/);
});

// --- scheduling end to end: config → batcher → HTTP status -----------------
// A second server whose identity models have long queue delays, so queueing
// is visible from the outside. Its last test closes it.

let schedServer: Awaited<ReturnType<typeof startServer>>;
let schedRepo: string;
let schedBase: string;
const SCHED_DELAY_US = 400_000;

before(async () => {
  schedRepo = await mkdtemp(join(tmpdir(), 'maas-http-sched-'));
  const models: Record<string, unknown> = {
    qfull: {
      max_batch_size: 4,
      dynamic_batching: { max_queue_delay_microseconds: SCHED_DELAY_US, default_queue_policy: { max_queue_size: 1 } },
    },
    prio: { max_batch_size: 4, dynamic_batching: { max_queue_delay_microseconds: SCHED_DELAY_US, priority_levels: 2 } },
    slow: { max_batch_size: 4, dynamic_batching: { max_queue_delay_microseconds: SCHED_DELAY_US } },
  };
  for (const [name, config] of Object.entries(models)) {
    await mkdir(join(schedRepo, name, '1'), { recursive: true });
    await writeFile(join(schedRepo, name, 'config.json'), JSON.stringify(config));
    await writeFile(join(schedRepo, name, '1', 'model.onnx'), buildIdentityModel());
  }
  schedServer = await startServer({
    modelRepository: schedRepo,
    httpPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    shutdownDeadlineMs: 5000,
  });
  schedBase = `http://127.0.0.1:${schedServer.httpPort}`;
});

after(async () => {
  await schedServer?.close();
  if (schedRepo) await rm(schedRepo, { recursive: true, force: true });
});

function identityBody(batch: number, parameters?: Record<string, unknown>): string {
  return JSON.stringify({
    parameters,
    inputs: [{ name: IDENTITY.input.name, shape: [batch, 16], datatype: 'FP32', data: new Array(16 * batch).fill(1) }],
  });
}

function schedInfer(model: string, batch: number, parameters?: Record<string, unknown>): Promise<Response> {
  return fetch(`${schedBase}/v2/models/${model}/infer`, { method: 'POST', body: identityBody(batch, parameters) });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('max_queue_size: a full queue answers 503 QUEUE_FULL at once, the queued request 200; failures are REJECTED', async () => {
  const responses = await Promise.all(Array.from({ length: 4 }, () => schedInfer('qfull', 1)));
  const statuses = responses.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 503, 503, 503]);
  for (const res of responses) {
    if (res.status === 503) await assertError(res, 503, 'QUEUE_FULL');
    else assert.deepEqual((await json(res)).outputs[0].data, new Array(16).fill(1));
  }
  const text = await (await fetch(`${schedBase}/metrics`)).text();
  assert.match(text, /nv_inference_request_failure\{model="qfull",version="1",reason="REJECTED"\} 3\n/);
  assert.match(text, /nv_inference_request_success\{model="qfull",version="1"\} 1\n/);
});

test('the HTTP priority parameter reaches the batcher: a priority-1 request overtakes queued priority-2 ones', async () => {
  const startedMs = Date.now();
  const done = (res: Promise<Response>) =>
    res.then(async (r) => ({ status: r.status, doneMs: Date.now() - startedMs, body: await r.text() }));
  const low: ReturnType<typeof done>[] = [];
  for (let i = 0; i < 3; i++) {
    low.push(done(schedInfer('prio', 1, { priority: 2 })));
    await sleep(30);
  }
  // Batch 2 at priority 1 goes first: 2 + 1 + 1 fills max_batch_size 4 now.
  // Ignoring the priority, 1 + 1 + 1 + 2 > 4 would send the lows and keep it waiting.
  const high = await done(schedInfer('prio', 2, { priority: 1 }));
  const lows = await Promise.all(low);
  for (const r of [high, ...lows]) assert.equal(r.status, 200, r.body);
  const lastLowMs = Math.max(...lows.map((r) => r.doneMs));
  assert.ok(high.doneMs < lastLowMs, `high done at ${high.doneMs} ms, last low at ${lastLowMs} ms`);
});

test('the HTTP timeout parameter reaches the batcher: a queued request past its timeout is rejected', async () => {
  const startedMs = Date.now();
  await assertError(await schedInfer('slow', 1, { timeout: 20_000 }), 503, 'QUEUE_TIMEOUT');
  assert.ok(Date.now() - startedMs < SCHED_DELAY_US / 1000, 'rejected before the queue delay ran out');
  const text = await (await fetch(`${schedBase}/metrics`)).text();
  assert.match(text, /nv_inference_request_failure\{model="slow",version="1",reason="REJECTED"\} 1\n/);
});

// Raw node:http so one request can stay mid-body and another can reuse an
// idle keep-alive connection while the server closes.
function rawRequest(
  agent: http.Agent,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; text: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${schedBase}${path}`, { method, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve(
          res.headers.connection === 'close'
            ? { status: res.statusCode ?? 0, text, connection: 'close' }
            : { status: res.statusCode ?? 0, text },
        ),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('graceful close: an accepted request (still sending its body) finishes; new requests get 503, health 400, all with Connection: close', async () => {
  // Two idle keep-alive connections: each answer during the close ends its connection.
  const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const idleToo = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal((await rawRequest(idle, 'GET', '/v2/health/ready')).status, 200); // leaves an idle connection
    assert.equal((await rawRequest(idleToo, 'GET', '/v2/health/ready')).status, 200);
    const body = identityBody(1);
    const slowUpload = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        `${schedBase}/v2/models/slow/infer`,
        {
          method: 'POST',
          headers: { 'Content-Length': String(Buffer.byteLength(body)) },
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      void sleep(400).then(() => req.end(body.slice(10)));
    });
    await sleep(150); // the server has the headers: the request is in flight
    const closed = schedServer.close();
    const ready = await rawRequest(idle, 'GET', '/v2/health/ready');
    assert.deepEqual(ready, { status: 400, text: '', connection: 'close' });
    const refused = await rawRequest(idleToo, 'POST', '/v2/models/slow/infer', body);
    assert.equal(refused.status, 503);
    assert.equal(refused.connection, 'close');
    assert.equal(JSON.parse(refused.text).code, 'SHUTTING_DOWN');
    const finished = await slowUpload;
    assert.equal(finished.status, 200, finished.text);
    assert.deepEqual(JSON.parse(finished.text).outputs[0].data, new Array(16).fill(1));
    await closed;
  } finally {
    idle.destroy();
    idleToo.destroy();
  }
});
