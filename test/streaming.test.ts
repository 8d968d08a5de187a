// Decoupled (streaming) models and the `protocol` metrics label, end to end
// (docs/protocol.md "Decoupled models"). The demo model `counter` answers
// 1, 2, …, n to one request: WebSocket sends final:false … final:true,
// gRPC ModelStreamInfer several responses with triton_final_response only
// on the last; HTTP /infer and unary ModelInfer refuse it as Triton does.
// A cancel stops further answers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { ERRORS } from '../common/errors';
import { DEMO_CONFIGS, writeDemoRepository } from '../models/demo';
import { encodeModel } from '../models/onnx-writer';
import { startServer, type RunningServer } from '../gateway/server';
import { inferenceClient, type InferenceClient, type StreamAnswer } from './support/grpc-client';
import { writeModel } from './support/models';
import { WsClient, WsRequestError, type WsEncoding, type WsResult, type WsTensor } from './support/ws-client';

// `counter_slow`: a decoupled counter whose every run waits in the batcher
// for SLOW_DELAY_US, so a cancel lands between two answers.
const SLOW_DELAY_US = 300_000;

async function serve(t: TestContext): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'maas-stream-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeDemoRepository(dir);
  const batchedCounter = encodeModel({
    nodes: [{ opType: 'Identity', inputs: ['n'], outputs: ['count'] }],
    inputs: [{ name: 'n', dataType: 'INT32', shape: ['batch', 1] }],
    outputs: [{ name: 'count', dataType: 'INT32', shape: ['batch', 1] }],
  });
  await writeModel(
    dir,
    'counter_slow',
    {
      ...DEMO_CONFIGS.counter,
      name: 'counter_slow',
      max_batch_size: 8,
      dynamic_batching: { preferred_batch_size: [8], max_queue_delay_microseconds: SLOW_DELAY_US },
    },
    { '1': batchedCounter },
  );
  const server = await startServer({
    modelRepository: dir,
    httpPort: 0,
    grpcPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
  });
  t.after(() => server.close());
  return server;
}

function counterInput(n: number, encoding: WsEncoding, shape = [1]): WsTensor {
  const data = Int32Array.of(n);
  return {
    name: 'n',
    datatype: 'INT32',
    shape,
    data: encoding === 'msgpack' ? new Uint8Array(data.buffer) : [n],
  };
}

function int32Of(tensor: WsTensor): number {
  if (tensor.data instanceof Uint8Array) return Buffer.from(tensor.data).readInt32LE(0);
  return (tensor.data as number[])[0];
}

for (const encoding of ['msgpack', 'json'] as const) {
  test(`WebSocket (${encoding}): counter answers 1..n, final only on the last`, async (t) => {
    const server = await serve(t);
    const ws = await WsClient.connect(`ws://127.0.0.1:${server.httpPort}/v2/stream`, { encoding });
    t.after(() => ws.socket.terminate());
    const answers: WsResult[] = [];
    const last = await ws.infer('counter', [counterInput(5, encoding)], { onPartial: (r) => answers.push(r) });
    answers.push(last);
    assert.deepEqual(
      answers.map((a) => [int32Of(a.outputs[0]), a.final]),
      [
        [1, false],
        [2, false],
        [3, false],
        [4, false],
        [5, true],
      ],
    );
    // An ordinary model still answers once, final.
    const one: WsResult[] = [];
    const single = await ws.infer(
      'identity',
      [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [1, 16],
          data: encoding === 'msgpack' ? new Uint8Array(64) : new Array<number>(16).fill(0),
        },
      ],
      { onPartial: (r) => one.push(r) },
    );
    assert.equal(single.final, true);
    assert.equal(one.length, 0);
    // n out of range: one error, no answers.
    await assert.rejects(
      ws.infer('counter', [counterInput(0, encoding)]),
      (e) => e instanceof WsRequestError && e.answer.code === 'INVALID_REQUEST',
    );
  });
}

test('WebSocket: a cancel stops a decoupled request between answers', async (t) => {
  const server = await serve(t);
  const ws = await WsClient.connect(`ws://127.0.0.1:${server.httpPort}/v2/stream`);
  t.after(() => ws.socket.terminate());
  const partials: number[] = [];
  const answer = ws.infer('counter_slow', [counterInput(10, 'msgpack', [1, 1])], {
    id: 'c',
    onPartial: (r) => {
      partials.push(int32Of(r.outputs[0]));
      if (partials.length === 1) ws.cancel('c');
    },
  });
  await assert.rejects(answer, (e) => e instanceof WsRequestError && e.answer.code === 'CANCELLED');
  assert.deepEqual(partials, [1]);
  await ws.ping(); // the socket still serves
});

function streamAll(client: InferenceClient, requests: unknown[]): Promise<StreamAnswer[]> {
  const stream = client.ModelStreamInfer();
  const answers: StreamAnswer[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (m: StreamAnswer) => answers.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(answers));
    for (const r of requests) stream.write(r);
    stream.end();
  });
}

function grpcCounter(n: number, id: string, model = 'counter'): unknown {
  return {
    model_name: model,
    id,
    inputs: [{ name: 'n', datatype: 'INT32', shape: [1] }],
    raw_input_contents: [Buffer.from(Int32Array.of(n).buffer)],
  };
}

const isFinal = (a: StreamAnswer): boolean | undefined => a.infer_response.parameters.triton_final_response?.bool_param;

test('gRPC ModelStreamInfer: counter answers 1..n, triton_final_response only on the last', async (t) => {
  const server = await serve(t);
  const client = inferenceClient(server.grpcPort as number);
  t.after(() => client.close());
  const answers = await streamAll(client, [grpcCounter(4, 'a')]);
  assert.deepEqual(
    answers.map((a) => [
      a.error_message,
      a.infer_response.id,
      a.infer_response.raw_output_contents[0].readInt32LE(0),
      isFinal(a),
    ]),
    [
      ['', 'a', 1, false],
      ['', 'a', 2, false],
      ['', 'a', 3, false],
      ['', 'a', 4, true],
    ],
  );
  // Two requests on one stream: each its own 1..n, each with one final answer.
  const both = await streamAll(client, [grpcCounter(3, 'x'), grpcCounter(2, 'y')]);
  for (const [id, n] of [
    ['x', 3],
    ['y', 2],
  ] as const) {
    const mine = both.filter((a) => a.infer_response.id === id);
    assert.deepEqual(
      mine.map((a) => a.infer_response.raw_output_contents[0].readInt32LE(0)),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.deepEqual(
      mine.map(isFinal),
      Array.from({ length: n }, (_, i) => i === n - 1),
    );
  }
});

test('HTTP /infer and unary ModelInfer refuse a decoupled model as Triton does', async (t) => {
  const server = await serve(t);
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/v2/models/counter/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [{ name: 'n', datatype: 'INT32', shape: [1], data: [3] }] }),
  });
  const body = (await res.json()) as { error: string; code: string };
  assert.equal(res.status, ERRORS.DECOUPLED_NOT_SUPPORTED.httpStatus);
  assert.equal(body.code, 'DECOUPLED_NOT_SUPPORTED');
  assert.match(body.error, /HTTP end point doesn't support models with decoupled transaction policy/);

  const client = inferenceClient(server.grpcPort as number);
  t.after(() => client.close());
  const err = await new Promise<grpc.ServiceError>((resolve, reject) =>
    client.ModelInfer(grpcCounter(3, 'u'), (e) => (e ? resolve(e) : reject(new Error('unary ModelInfer succeeded')))),
  );
  assert.equal(err.code, ERRORS.DECOUPLED_NOT_SUPPORTED.grpcStatus);
  assert.deepEqual(err.metadata.get('maas-error-code'), ['DECOUPLED_NOT_SUPPORTED']);
  assert.match(err.details, /ModelInfer RPC doesn't support models with decoupled transaction policy/);
});

test('the inference histograms carry a protocol label: one request on each front end', async (t) => {
  const server = await serve(t);
  const base = `http://127.0.0.1:${server.httpPort}`;
  const row = Buffer.alloc(64);
  const http = await fetch(`${base}/v2/models/identity/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 16], data: new Array(16).fill(0) }],
    }),
  });
  assert.equal(http.status, 200);
  const client = inferenceClient(server.grpcPort as number);
  t.after(() => client.close());
  await new Promise<void>((resolve, reject) =>
    client.ModelInfer(
      {
        model_name: 'identity',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 16] }],
        raw_input_contents: [row],
      },
      (e) => (e ? reject(e) : resolve()),
    ),
  );
  const ws = await WsClient.connect(`ws://127.0.0.1:${server.httpPort}/v2/stream`);
  t.after(() => ws.socket.terminate());
  await ws.infer('identity', [{ name: 'input', datatype: 'FP32', shape: [1, 16], data: new Uint8Array(row) }]);

  const text = await (await fetch(`${base}/metrics`)).text();
  for (const name of ['maas_inference_request_duration_seconds_count', 'maas_inference_queue_duration_seconds_count']) {
    for (const protocol of ['http', 'grpc', 'websocket']) {
      const line = `${name}{model="identity",version="1",protocol="${protocol}"} 1`;
      assert.ok(text.includes(line), `/metrics lacks ${line}`);
    }
  }
  assert.doesNotMatch(text, /protocol="internal"/);
});
