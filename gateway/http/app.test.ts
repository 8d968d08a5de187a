// The HTTP front end over real HTTP against a small fake ModelService.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { MaasError } from '../../common/errors';
import type { InferRequest, InferResult } from '../inference/types';
import type { ModelConfig, ModelMetadata, ModelService, ModelStatistics } from '../repository/types';
import { startHttpServer, type HttpServer } from './app';

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

class FakeModels implements ModelService {
  ready = true;
  abortedRequests = 0;
  isReady(): boolean {
    return this.ready;
  }
  metadata(name: string, version?: string): ModelMetadata {
    if (!['echo', 'slow', 'boom', 'full'].includes(name))
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
  index(readyOnly: boolean) {
    return [{ name: 'echo', version: '1', state: 'READY' as const, reason: readyOnly ? 'ready-only' : '' }];
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
        request.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          this.abortedRequests++;
          resolve();
        });
      });
      throw new MaasError('CANCELLED', 'cancelled');
    }
    const x = request.inputs[0];
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
    return { id: request.id, modelName: request.modelName, modelVersion: '1', outputs, timing };
  }
}

const models = new FakeModels();
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
      models,
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
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
  assert.ok(!body.extensions.includes('model_repository'));
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
      models,
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
