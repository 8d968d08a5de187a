// The HTTP front end over real HTTP against a small fake ModelService.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { MaasError } from '../../common/errors';
import type { InferRequest, InferResult } from '../inference/types';
import { Pipeline } from '../pipeline/pipeline';
import type {
  ControlMode,
  LoadRequest,
  ModelConfig,
  ModelMetadata,
  ModelRepository,
  ModelService,
  ModelStatistics,
} from '../serving/types';
import { startHttpServer, type HttpDeps, type HttpServer } from './app';
import { responderStats } from './responder';

const ECHO: ModelMetadata = {
  name: 'echo',
  versions: ['1'],
  platform: 'fake',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1] }],
  outputs: [
    { name: 'y', datatype: 'FP32', shape: [-1, -1] },
    { name: 'sum', datatype: 'FP32', shape: [-1, 1] },
  ],
};

class FakeModels implements ModelService, ModelRepository {
  ready = true;
  abortedRequests = 0;
  controlMode: ControlMode = 'explicit';
  loads: Array<[string, LoadRequest | undefined]> = [];
  unloads: string[] = [];
  isReady(): boolean {
    return this.ready;
  }
  metadata(name: string, version?: string): ModelMetadata {
    if (!['echo', 'slow', 'boom', 'full', 'big'].includes(name))
      throw new MaasError('MODEL_NOT_FOUND', `unknown model '${name}'`);
    if (version !== undefined && version !== '1')
      throw new MaasError('MODEL_VERSION_NOT_FOUND', `model '${name}' has no version ${version}`);
    return { ...ECHO, name };
  }
  config(name: string, version?: string): ModelConfig {
    this.metadata(name, version);
    return {
      name,
      platform: 'fake',
      backend: '',
      max_batch_size: 8,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1] }],
      output: [],
      instance_group: [],
    };
  }
  isModelReady(name: string): boolean {
    return name === 'echo';
  }
  async index(readyOnly: boolean) {
    return [{ name: 'echo', version: '1', state: 'READY' as const, reason: readyOnly ? 'ready-only' : '' }];
  }
  async load(name: string, request?: LoadRequest): Promise<void> {
    if (name !== 'echo') throw new MaasError('MODEL_NOT_FOUND', `no model '${name}'`);
    this.loads.push([name, request]);
  }
  async unload(name: string): Promise<void> {
    if (this.controlMode !== 'explicit') throw new MaasError('MODEL_CONTROL_DISABLED', 'not in explicit mode');
    this.unloads.push(name);
  }
  statistics(name?: string): ModelStatistics[] {
    if (name !== undefined) this.metadata(name);
    return [];
  }
  async infer(request: InferRequest): Promise<InferResult> {
    const timing = { queueUs: 1500, computeInputUs: 0, computeInferUs: 2500, computeOutputUs: 0, totalUs: 4000 };
    if (request.modelName === 'boom') throw new Error('secret internal detail');
    if (request.modelName === 'full') throw new MaasError('QUEUE_FULL', 'queue is full');
    if (request.modelName === 'slow') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        request.cancel?.subscribe({
          onCancel: () => {
            clearTimeout(timer);
            this.abortedRequests++;
            resolve();
          },
        });
      });
      throw new MaasError('CANCELLED', 'cancelled');
    }
    const x = request.inputs[0];
    if (request.modelName === 'big') {
      // y[i] = i, as many as the first input value says: a large answer from a small request.
      const y = new Float32Array(Number(x.data[0])).map((_, i) => i);
      return {
        modelName: 'big',
        modelVersion: '1',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [1, y.length], data: y }],
        batchSize: 1,
        timing,
      };
    }
    const [rows, cols] = x.shape;
    const sums = new Float32Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sums[r] += Number(x.data[r * cols + c]);
    const all = [
      { name: 'y', datatype: 'FP32' as const, shape: x.shape, data: x.data },
      { name: 'sum', datatype: 'FP32' as const, shape: [rows, 1], data: sums },
    ];
    // As the real ModelService does: a requested output must exist.
    const outputs = request.outputs
      ? request.outputs.map((o) => {
          const found = all.find((a) => a.name === o.name);
          if (!found) throw new MaasError('INVALID_REQUEST', `unexpected inference output '${o.name}'`);
          return found;
        })
      : all;
    return { id: request.id, modelName: request.modelName, modelVersion: '1', outputs, batchSize: rows, timing };
  }
}

const models = new FakeModels();

// Every access line (not one in 100), so the tests see them.
function servingDeps(logger: pino.Logger): Pick<HttpDeps, 'serving' | 'repository' | 'pipeline'> {
  return { serving: models, repository: models, pipeline: new Pipeline({ logger, accessLogSampleEvery: 1 }) };
}
const logLines: Array<Record<string, unknown>> = [];
let server: HttpServer;
let base: string;

before(async () => {
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logLines.push(JSON.parse(line));
      },
    },
  );
  server = await startHttpServer(
    {
      ...servingDeps(logger),
      metrics: { contentType: 'text/plain; version=0.0.4', text: async () => 'nv_inference_count 0\n' },
      logger,
      maxBodyBytes: 64 * 1024,
      serverName: 'maas-test',
      serverVersion: '9.9.9',
    },
    '127.0.0.1',
    0,
  );
  base = `http://127.0.0.1:${server.port}`;
});

after(async () => {
  await server.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- boundary: response bodies are probed field by field, a wrong shape fails the assertion
async function json(res: Response): Promise<any> {
  return res.json();
}

async function errorOf(res: Response): Promise<{ error: string; code: string }> {
  const body = (await json(res)) as { error: string; code: string };
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.code, 'string');
  return body;
}

test('listens on an ephemeral port', () => {
  assert.ok(server.port > 0);
});

test('health and readiness are carried by the status code', async () => {
  const live = await fetch(`${base}/v2/health/live`);
  assert.equal(live.status, 200);
  assert.equal(await live.text(), '');
  assert.equal((await fetch(`${base}/v2/health/ready`)).status, 200);
  models.ready = false;
  const notReady = await fetch(`${base}/v2/health/ready`);
  models.ready = true;
  assert.equal(notReady.status, 400);
  assert.equal((await fetch(`${base}/v2/models/echo/ready`)).status, 200);
  const modelNotReady = await fetch(`${base}/v2/models/slow/versions/1/ready`);
  assert.equal(modelNotReady.status, 400);
  assert.equal((await json(modelNotReady)).error, 'Model version not ready');
});

test('server metadata lists only implemented extensions', async () => {
  const body = await json(await fetch(`${base}/v2`));
  assert.equal(body.name, 'maas-test');
  assert.equal(body.version, '9.9.9');
  assert.ok(body.extensions.includes('binary_tensor_data'));
  assert.ok(body.extensions.includes('model_repository'));
  assert.ok(!body.extensions.includes('system_shared_memory'));
});

test('not found, wrong method, request ids', async () => {
  const missing = await fetch(`${base}/v2/nope`, { headers: { 'x-request-id': 'req-123' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-request-id'), 'req-123');
  assert.deepEqual(await json(missing), { error: 'Not Found', code: 'NOT_FOUND' });
  const wrong = await fetch(`${base}/v2/models/echo/infer`);
  assert.equal(wrong.status, 405);
  assert.equal((await errorOf(wrong)).code, 'METHOD_NOT_ALLOWED');
  const generated = (await fetch(`${base}/v2/health/live`)).headers.get('x-request-id');
  assert.match(generated ?? '', /^[0-9a-f-]{36}$/);
});

test('metadata, config, stats, index, metrics', async () => {
  assert.equal((await json(await fetch(`${base}/v2/models/echo`))).name, 'echo');
  assert.equal((await json(await fetch(`${base}/v2/models/echo/versions/1/config`))).max_batch_size, 8);
  assert.deepEqual(await json(await fetch(`${base}/v2/models/stats`)), { model_stats: [] });
  const unknown = await fetch(`${base}/v2/models/zzz/stats`);
  assert.equal(unknown.status, 404);
  assert.equal((await errorOf(unknown)).code, 'MODEL_NOT_FOUND');
  const version = await fetch(`${base}/v2/models/echo/versions/7`);
  assert.equal(version.status, 404);
  assert.equal((await errorOf(version)).code, 'MODEL_VERSION_NOT_FOUND');
  const index = await fetch(`${base}/v2/repository/index`, { method: 'POST', body: '{"ready":true}' });
  assert.deepEqual(await json(index), [{ name: 'echo', version: '1', state: 'READY', reason: 'ready-only' }]);
  assert.equal((await fetch(`${base}/v2/repository/index`, { method: 'POST' })).status, 200);
  assert.equal((await fetch(`${base}/v2/repository/index`, { method: 'POST', body: '{"ready":1}' })).status, 400);
  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4');
  assert.equal(await metrics.text(), 'nv_inference_count 0\n');
});

test('JSON inference with Server-Timing and one log line', async () => {
  logLines.length = 0;
  const res = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    headers: { 'x-request-id': 'infer-1' },
    body: JSON.stringify({
      id: 'a',
      inputs: [
        {
          name: 'x',
          shape: [2, 2],
          datatype: 'FP32',
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
    }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.match(res.headers.get('server-timing') ?? '', /^queue;dur=1\.5, infer;dur=2\.5, total;dur=[0-9.]+$/);
  const body = await json(res);
  assert.equal(body.id, 'a');
  assert.equal(body.model_version, '1');
  assert.deepEqual(body.outputs[1], { name: 'sum', datatype: 'FP32', shape: [2, 1], data: [3, 7] });
  const lines = logLines.filter((l) => l.msg === 'infer');
  assert.equal(lines.length, 1);
  assert.equal(lines[0].requestId, 'infer-1');
  assert.equal(lines[0].model, 'echo');
  assert.equal(lines[0].status, 200);
  assert.equal(typeof lines[0].durationMs, 'number');
});

test('binary inference and gzip request body', async () => {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', parameters: { binary_data_size: 12 } }],
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    }),
  );
  const body = Buffer.concat([header, Buffer.from(new Float32Array([1.5, 2.5, -3]).buffer)]);
  const res = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': String(header.length), 'Content-Encoding': 'gzip' },
    body: gzipSync(body),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const headerBytes = Number(res.headers.get('inference-header-content-length'));
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = JSON.parse(bytes.subarray(0, headerBytes).toString());
  assert.deepEqual(json.outputs, [
    { name: 'y', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } },
  ]);
  assert.deepEqual(Array.from(new Float32Array(new Uint8Array(bytes.subarray(headerBytes)).buffer)), [1.5, 2.5, -3]);
});

test('raw-body inference', async () => {
  const res = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': '0' },
    body: Buffer.from(new Float32Array([1, 2, 3, 4]).buffer),
  });
  assert.equal(res.status, 200);
  const headerBytes = Number(res.headers.get('inference-header-content-length'));
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = JSON.parse(bytes.subarray(0, headerBytes).toString());
  assert.deepEqual(json.outputs[0].shape, [1, 4]);
  assert.equal(bytes.length, headerBytes + 16 + 4);
});

test('a large response streams out whole', async () => {
  const rows = 12 * 1024; // 48 KiB in, 96 KiB out: past the streaming threshold
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'x', shape: [rows, 1], datatype: 'FP32', parameters: { binary_data_size: rows * 4 } }],
      parameters: { binary_data_output: true },
    }),
  );
  const values = new Float32Array(rows).map((_, i) => i);
  const res = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': String(header.length), 'Accept-Encoding': 'identity' },
    body: Buffer.concat([header, Buffer.from(values.buffer)]),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-encoding'), null);
  const headerBytes = Number(res.headers.get('inference-header-content-length'));
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(bytes.length, headerBytes + 2 * rows * 4);
  const y = new Float32Array(new Uint8Array(bytes.subarray(headerBytes, headerBytes + rows * 4)).buffer);
  assert.equal(y[rows - 1], rows - 1);
});

test('large responses are gzipped when the client accepts it', async () => {
  const data = new Array(2000).fill(0.5);
  const res = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    headers: { 'Accept-Encoding': 'gzip' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2000], datatype: 'FP32', data }] }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-encoding'), 'gzip');
  assert.deepEqual((await json(res)).outputs[0].data, data); // fetch gunzips
});

test('oversized bodies get 413, by Content-Length, chunked, or after gunzip', async () => {
  const big = Buffer.alloc(128 * 1024, 0x20);
  const declared = await fetch(`${base}/v2/models/echo/infer`, { method: 'POST', body: big });
  assert.equal(declared.status, 413);
  assert.equal((await errorOf(declared)).code, 'BODY_TOO_LARGE');
  const bomb = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
  const gz = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    headers: { 'Content-Encoding': 'gzip' },
    body: bomb,
  });
  assert.equal(gz.status, 413);
  await gz.arrayBuffer();
  // Still serving.
  assert.equal((await fetch(`${base}/v2/health/live`)).status, 200);
});

test('decoding and model errors map to {error, code}', async () => {
  const post = (path: string, body: string) => fetch(`${base}${path}`, { method: 'POST', body });
  const cases: Array<[string, string, number, string]> = [
    ['/v2/models/echo/infer', '{"inputs":', 400, 'INVALID_JSON'],
    [
      '/v2/models/echo/infer',
      '{"inputs":[{"name":"x","shape":[1],"datatype":"FP99","data":[1]}]}',
      400,
      'INVALID_DATATYPE',
    ],
    [
      '/v2/models/echo/infer',
      '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1]}]}',
      400,
      'INVALID_SHAPE',
    ],
    [
      '/v2/models/echo/infer',
      '{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1]}],"outputs":[{"name":"zz"}]}',
      400,
      'INVALID_REQUEST',
    ],
    ['/v2/models/nope/infer', '{}', 404, 'MODEL_NOT_FOUND'],
    ['/v2/models/echo/versions/3/infer', '{}', 404, 'MODEL_VERSION_NOT_FOUND'],
    [
      '/v2/models/full/infer',
      '{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1]}]}',
      503,
      'QUEUE_FULL',
    ],
  ];
  for (const [path, body, status, code] of cases) {
    const res = await post(path, body);
    assert.equal(res.status, status, `${path} ${body}`);
    assert.equal((await errorOf(res)).code, code, `${path} ${body}`);
    assert.match(res.headers.get('server-timing') ?? '', /total;dur=/);
  }
  const truncated = await fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': '500' },
    body: '{"inputs":[]}',
  });
  assert.equal((await errorOf(truncated)).code, 'INVALID_BINARY');
});

test('unexpected errors are a bare 500 without internals', async () => {
  const res = await fetch(`${base}/v2/models/boom/infer`, {
    method: 'POST',
    body: '{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1]}]}',
  });
  assert.equal(res.status, 500);
  const body = await errorOf(res);
  assert.equal(body.code, 'INTERNAL');
  assert.doesNotMatch(body.error, /secret/);
});

test('a client abort aborts the request signal', async () => {
  const before = models.abortedRequests;
  const controller = new AbortController();
  const pending = fetch(`${base}/v2/models/slow/infer`, {
    method: 'POST',
    signal: controller.signal,
    body: '{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1]}]}',
  });
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(pending);
  for (let i = 0; i < 100 && models.abortedRequests === before; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(models.abortedRequests, before + 1);
  assert.equal((await fetch(`${base}/v2/health/live`)).status, 200);
});

test('close() waits for in-flight work up to its deadline, then answers it 503 SHUTTING_DOWN with Connection: close', async () => {
  const own = await startHttpServer(
    {
      ...servingDeps(pino({ level: 'silent' })),
      metrics: { contentType: 'text/plain', text: async () => '' },
      logger: pino({ level: 'silent' }),
      closeDeadlineMs: 200,
      closeLingerMs: 0,
    },
    '127.0.0.1',
    0,
  );
  const pending = fetch(`http://127.0.0.1:${own.port}/v2/models/slow/infer`, {
    method: 'POST',
    body: '{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1]}]}',
  }).then(
    async (res) => ({ status: res.status, connection: res.headers.get('connection'), body: await res.json() }),
    () => 'dropped',
  );
  await new Promise((r) => setTimeout(r, 50));
  const startedMs = Date.now();
  await own.close();
  const tookMs = Date.now() - startedMs;
  assert.ok(tookMs >= 150 && tookMs < 2000, `close took ${tookMs} ms`);
  assert.deepEqual(await pending, {
    status: 503,
    connection: 'close',
    body: {
      code: 'SHUTTING_DOWN',
      error: 'the server is shutting down: the close deadline passed before the answer was ready',
    },
  });
  await assert.rejects(fetch(`http://127.0.0.1:${own.port}/v2/health/live`));
});

test('repository load and unload: parameters reach the model side, refusals map to {error, code}', async () => {
  const post = (path: string, body?: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal((await post('/v2/repository/models/echo/load')).status, 200);
  const config = JSON.stringify({ max_batch_size: 4 });
  assert.equal((await post('/v2/repository/models/echo/load', { parameters: { config } })).status, 200);
  assert.deepEqual(models.loads.slice(-2), [
    ['echo', {}],
    ['echo', { configJson: config }],
  ]);
  const notString = await post('/v2/repository/models/echo/load', { parameters: { config: { max_batch_size: 4 } } });
  assert.equal(notString.status, 400);
  assert.equal((await errorOf(notString)).code, 'INVALID_PARAMETER');
  const file = await post('/v2/repository/models/echo/load', { parameters: { 'file:1/model.onnx': 'AAAA', config } });
  assert.equal((await errorOf(file)).code, 'INVALID_PARAMETER');
  const unknown = await post('/v2/repository/models/nope/load');
  assert.equal(unknown.status, 404);
  assert.equal((await errorOf(unknown)).code, 'MODEL_NOT_FOUND');
  assert.equal((await post('/v2/repository/models/echo/unload', {})).status, 200);
  assert.deepEqual(models.unloads.slice(-1), ['echo']);
  models.controlMode = 'none';
  const disabled = await post('/v2/repository/models/echo/unload');
  models.controlMode = 'explicit';
  assert.equal(disabled.status, 400);
  assert.equal((await errorOf(disabled)).code, 'MODEL_CONTROL_DISABLED');
  assert.equal((await errorOf(await post('/v2/repository/models/echo/load', [1]))).code, 'INVALID_REQUEST');
});

// A client that stops reading: the responder must hand the answer over in
// pieces as the socket drains (tryEnd/onWritable), and the answer must
// still arrive whole and in order once the client reads again.
test('a paused reader gets a large answer whole once it reads again, through the backpressure path', async () => {
  const floats = 6 * 1024 * 1024; // 24 MB: more than the kernel buffers on both ends hold
  const body = JSON.stringify({
    inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [floats] }],
    parameters: { binary_data_output: true },
  });
  const waitsBefore = responderStats.writableWaits;
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write(
    `POST /v2/models/big/infer HTTP/1.1\r\nHost: test\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(responderStats.writableWaits, waitsBefore, 'nothing more is written while the client does not read');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.resume();
  await new Promise<void>((resolve, reject) => {
    socket.once('end', resolve);
    socket.once('error', reject);
  });
  assert.ok(responderStats.writableWaits > waitsBefore, 'the answer went out through onWritable');
  const raw = Buffer.concat(chunks);
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd).toString();
  assert.match(head, /^HTTP\/1\.1 200 OK/);
  const jsonBytes = Number(/inference-header-content-length: (\d+)/i.exec(head)?.[1]);
  const payload = raw.subarray(headEnd + 4);
  assert.equal(payload.length, jsonBytes + floats * 4);
  const y = new Float32Array(new Uint8Array(payload.subarray(jsonBytes)).buffer);
  for (const i of [0, 1, 12345, floats - 1]) assert.equal(y[i], i);
});
