// The WebSocket streaming protocol (docs/websocket.md) against the real
// server, driven by the `ws` package: both encodings, many requests in
// flight on one socket, outputs checked against onnxruntime-node, cancel,
// the in-flight cap, bad frames, oversized frames, a client that never
// reads, a client that disconnects, graceful shutdown. The server keeps
// serving other sockets throughout.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEMO_CONFIGS, buildMlpModel, writeDemoRepository } from '../models/demo';
import { startServer, type RunningServer, type ServerOptions } from '../gateway/server';
import { WsClient, WsRequestError, fp32Data, fp32Output, type WsEncoding } from './support/ws-client';

const MLP_FEATURES = 784;
const MLP_CLASSES = 10;
const WIDTH = 16;
// `slow`: identity with a long batching delay, so requests sit in the queue.
const SLOW_DELAY_US = 1_000_000;

async function serve(t: TestContext, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'maas-ws-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeDemoRepository(dir);
  await writeFile(
    join(dir, 'identity', 'config.json'),
    JSON.stringify({
      ...DEMO_CONFIGS.identity,
      dynamic_batching: { preferred_batch_size: [64], max_queue_delay_microseconds: SLOW_DELAY_US },
    }),
  );
  const server = await startServer({
    modelRepository: dir,
    httpPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    ...options,
  });
  t.after(() => server.close());
  return server;
}

async function connect(t: TestContext, server: RunningServer, encoding: WsEncoding = 'msgpack'): Promise<WsClient> {
  const client = await WsClient.connect(`ws://127.0.0.1:${server.httpPort}/v2/stream`, { encoding });
  t.after(() => {
    if (client.closeCode === null) client.socket.terminate();
  });
  return client;
}

function rows(n: number, width: number, seed: number): Float32Array {
  const out = new Float32Array(n * width);
  let x = seed;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out[i] = x / 2 ** 31;
  }
  return out;
}

function input(data: Float32Array, shape: number[], encoding: WsEncoding) {
  return [{ name: 'input', datatype: 'FP32', shape, data: fp32Data(data, encoding) }];
}

async function rejection(promise: Promise<unknown>): Promise<WsRequestError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof WsRequestError, `not a WsRequestError: ${String(err)}`);
    return err;
  }
  assert.fail('the request succeeded');
}

for (const encoding of ['msgpack', 'json'] as const) {
  test(`WebSocket (${encoding}): 64 requests in flight on one socket, each its own answer, equal to onnxruntime's`, async (t) => {
    const server = await serve(t);
    const client = await connect(t, server, encoding);
    const n = 64;
    const batch = rows(n, MLP_FEATURES, 7);
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.infer(
          'mlp',
          input(batch.subarray(i * MLP_FEATURES, (i + 1) * MLP_FEATURES), [1, MLP_FEATURES], encoding),
          {
            id: encoding === 'json' ? `r-${i}` : i,
          },
        ),
      ),
    );
    const session = await ort.InferenceSession.create(buildMlpModel());
    const reference = (await session.run({ input: new ort.Tensor('float32', batch, [n, MLP_FEATURES]) })).probabilities
      .data as Float32Array;
    answers.forEach((answer, i) => {
      assert.equal(answer.id, encoding === 'json' ? `r-${i}` : i);
      assert.equal(answer.model, 'mlp');
      assert.equal(answer.final, true);
      const [out] = answer.outputs;
      assert.deepEqual([out.name, out.datatype, out.shape], ['probabilities', 'FP32', [1, MLP_CLASSES]]);
      const got = fp32Output(out);
      for (let k = 0; k < MLP_CLASSES; k++)
        assert.ok(Math.abs(got[k] - reference[i * MLP_CLASSES + k]) <= 1e-5, `row ${i}`);
    });
    await client.ping();
    assert.equal((await client.close()).code, 1000);
  });
}

test('WebSocket: bad messages get error answers with code and status; the socket keeps serving', async (t) => {
  const server = await serve(t);
  const client = await connect(t, server);
  const json = await connect(t, server, 'json');
  const one = rows(1, WIDTH, 3);
  const cases: Array<[string, () => Promise<unknown>, string, number]> = [
    ['unknown model', () => client.infer('nope', input(one, [1, WIDTH], 'msgpack')), 'MODEL_NOT_FOUND', 404],
    [
      'wrong datatype',
      () =>
        client.infer('identity', [
          { name: 'input', datatype: 'FP64', shape: [1, WIDTH], data: new Uint8Array(8 * WIDTH) },
        ]),
      'INVALID_DATATYPE',
      400,
    ],
    [
      'wrong byte count',
      () => client.infer('identity', input(one.subarray(1), [1, WIDTH], 'msgpack')),
      'INVALID_SHAPE',
      400,
    ],
    [
      'wrong element count (JSON)',
      () => json.infer('identity', [{ name: 'input', datatype: 'FP32', shape: [1, WIDTH], data: [1, 2] }]),
      'INVALID_SHAPE',
      400,
    ],
    [
      'unknown version',
      () => client.infer('identity', input(one, [1, WIDTH], 'msgpack'), { version: '9' }),
      'MODEL_VERSION_NOT_FOUND',
      404,
    ],
    [
      'reserved parameter',
      () => client.infer('identity', input(one, [1, WIDTH], 'msgpack'), { parameters: { triton_x: 1 } }),
      'INVALID_PARAMETER',
      400,
    ],
  ];
  for (const [what, send, code, status] of cases) {
    const error = await rejection(send());
    assert.equal(error.answer.code, code, what);
    assert.equal(error.answer.status, status, what);
  }

  // Frames that are not MessagePack / JSON, and messages that are not ours.
  client.sendRaw(Buffer.from([0xc1, 0xc1, 0xc1]));
  json.sendRaw('{"type":"infer", "id": 1, ');
  client.send({ type: 'frobnicate', id: 'x' });
  client.send({ type: 'cancel', id: 'never-sent' });
  client.send({ type: 'infer', id: 'no-model' });
  await client.ping();
  await json.ping();
  const codes = [...client.orphanErrors, ...json.orphanErrors]
    .map((e) => `${e.code}:${e.status}:${e.id ?? '-'}`)
    .sort();
  assert.deepEqual(codes, [
    'INVALID_REQUEST:400:no-model',
    'INVALID_REQUEST:400:x',
    'MALFORMED_MESSAGE:400:-',
    'MALFORMED_MESSAGE:400:-',
    'UNKNOWN_REQUEST_ID:400:never-sent',
  ]);

  // A duplicate id while the first is still queued: the server's refusal
  // carries that id, so it is the first answer the client sees for it.
  const first = client.infer('identity', input(one, [1, WIDTH], 'msgpack'), { id: 'dup' });
  client.send({ type: 'infer', id: 'dup', model: 'identity', inputs: input(one, [1, WIDTH], 'msgpack') });
  const duplicate = await rejection(first);
  assert.equal(duplicate.answer.code, 'INVALID_REQUEST');
  assert.match(duplicate.answer.message, /already in flight/);

  const ok = await json.infer('mlp', input(rows(1, MLP_FEATURES, 1), [1, MLP_FEATURES], 'json'));
  assert.equal(ok.outputs[0].shape[1], MLP_CLASSES);
});

test('WebSocket: cancel drops a queued request (CANCELLED); the in-flight cap answers 429', async (t) => {
  const server = await serve(t, { wsMaxInFlight: 4 });
  const client = await connect(t, server);
  const one = rows(1, WIDTH, 5);
  const queued = client.infer('identity', input(one, [1, WIDTH], 'msgpack'), { id: 'slow' });
  client.cancel('slow');
  const cancelled = await rejection(queued);
  assert.equal(cancelled.answer.code, 'CANCELLED');
  assert.equal(server.models.statistics('identity')[0].execution_count, 0, 'a cancelled request reached the engine');

  const burst = Array.from({ length: 10 }, () =>
    client.infer('mlp', input(rows(1, MLP_FEATURES, 2), [1, MLP_FEATURES], 'msgpack')),
  );
  const settled = await Promise.allSettled(burst);
  const refused = settled.filter((s) => s.status === 'rejected').map((s) => (s.reason as WsRequestError).answer);
  assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 4);
  assert.equal(refused.length, 6);
  for (const answer of refused) assert.deepEqual([answer.code, answer.status], ['TOO_MANY_IN_FLIGHT', 429]);
});

test('WebSocket: a client that disconnects has its queued requests dropped before they run', async (t) => {
  const server = await serve(t);
  const client = await connect(t, server);
  const pending = Array.from({ length: 8 }, () =>
    client.infer('identity', input(rows(1, WIDTH, 9), [1, WIDTH], 'msgpack')),
  );
  await client.ping(); // the server has read every request
  client.socket.terminate();
  await Promise.allSettled(pending);
  await new Promise((resolve) => setTimeout(resolve, (SLOW_DELAY_US / 1000) * 1.5));
  const [stats] = server.models.statistics('identity');
  assert.equal(stats.execution_count, 0, 'queued requests of a gone client ran');
  const again = await connect(t, server);
  const ok = await again.infer('mlp', input(rows(1, MLP_FEATURES, 1), [1, MLP_FEATURES], 'msgpack'));
  assert.equal(ok.outputs.length, 1);
});

test('WebSocket: an oversized frame closes that socket with 1009; others keep serving', async (t) => {
  const server = await serve(t, { maxBodyBytes: 256 * 1024 });
  const other = await connect(t, server);
  const client = await connect(t, server);
  client.sendRaw(Buffer.alloc(300 * 1024));
  assert.equal((await client.closed).code, 1009);
  const ok = await other.infer('mlp', input(rows(1, MLP_FEATURES, 1), [1, MLP_FEATURES], 'msgpack'));
  assert.equal(ok.outputs.length, 1);
});

// Bounded: a regression here must fail the test, not hang the suite.
test(
  'WebSocket: a client that never reads is closed with 1008 instead of growing memory',
  { timeout: 120_000 },
  async (t) => {
    const server = await serve(t, { wsMaxBufferedBytes: 512 * 1024 });
    const client = await connect(t, server);
    client.socket.pause(); // stops reading the socket
    // identity answers a [64,16] batch at once (its preferred size): 4 KiB per
    // answer, 10000 answers = 40 MiB, far more than the kernel's socket buffers
    // plus the 512 KiB the server may hold for this client.
    const batch = rows(64, WIDTH, 4);
    const answers: Array<Promise<unknown>> = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 1000; i++) {
        answers.push(client.infer('identity', input(batch, [64, WIDTH], 'msgpack')).catch(() => undefined));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    client.socket.resume();
    assert.equal((await client.closed).code, 1008);
    await Promise.all(answers);
    const other = await connect(t, server);
    assert.equal(
      (await other.infer('mlp', input(rows(1, MLP_FEATURES, 1), [1, MLP_FEATURES], 'msgpack'))).outputs.length,
      1,
    );
  },
);

test('WebSocket: shutdown lets in-flight requests answer, then closes with 1001', async (t) => {
  const server = await serve(t, { shutdownDeadlineMs: 5000 });
  const client = await connect(t, server);
  const queued = client.infer('identity', input(rows(1, WIDTH, 8), [1, WIDTH], 'msgpack'));
  await client.ping();
  const closing = server.close();
  const answer = await queued;
  assert.equal(answer.outputs[0].shape[1], WIDTH);
  assert.equal((await client.closed).code, 1001);
  await closing;
});
