// Same bad input, same answer on every front end (issue: "same semantics
// everywhere"): each case goes through HTTP (JSON), gRPC (our proto through
// grpc-js's client) and WebSocket (MessagePack), and each must answer the
// error code the registry gives it, with the HTTP status (HTTP, WebSocket)
// or the gRPC status (gRPC) the registry assigns to that code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { ERRORS, type ErrorCode } from '../common/errors';
import { writeDemoRepository } from '../models/demo';
import { startServer } from '../gateway/server';
import { inferenceClient, type InferenceClient } from './support/grpc-client';
import { WsClient, WsRequestError } from './support/ws-client';

const MAX_BODY_BYTES = 256 * 1024;

interface Case {
  what: string;
  model: string;
  datatype: string;
  shape: number[];
  bytes: number; // raw input bytes
  code: ErrorCode;
}

const CASES: Case[] = [
  {
    what: 'unknown model',
    model: 'no_such_model',
    datatype: 'FP32',
    shape: [1, 16],
    bytes: 64,
    code: 'MODEL_NOT_FOUND',
  },
  { what: 'wrong datatype', model: 'identity', datatype: 'INT32', shape: [1, 16], bytes: 64, code: 'INVALID_DATATYPE' },
  { what: 'unknown datatype', model: 'identity', datatype: 'FP8', shape: [1, 16], bytes: 64, code: 'INVALID_DATATYPE' },
  { what: 'wrong shape', model: 'identity', datatype: 'FP32', shape: [1, 15], bytes: 60, code: 'INVALID_SHAPE' },
  {
    what: 'batch too large',
    model: 'identity',
    datatype: 'FP32',
    shape: [65, 16],
    bytes: 65 * 64,
    code: 'INVALID_SHAPE',
  },
];

function grpcInfer(client: InferenceClient, c: Case): Promise<grpc.ServiceError> {
  const request = {
    model_name: c.model,
    inputs: [{ name: 'input', datatype: c.datatype, shape: c.shape }],
    raw_input_contents: [Buffer.alloc(c.bytes)],
  };
  return new Promise((resolve, reject) =>
    client.ModelInfer(request, (err) => (err ? resolve(err) : reject(new Error(`${c.what}: gRPC succeeded`)))),
  );
}

// JSON data of `value` per element (1.25: five characters, more than the
// four bytes of the raw form, so an oversized case is oversized here too).
async function httpInfer(port: number, c: Case, value = 0): Promise<{ status: number; code: string }> {
  const data = Array.from({ length: c.bytes / 4 }, () => value);
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/${c.model}/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [{ name: 'input', datatype: c.datatype, shape: c.shape, data }] }),
  });
  return { status: res.status, code: ((await res.json()) as { code: string }).code };
}

test('HTTP, gRPC and WebSocket answer the same bad inputs with the same error codes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'maas-fe-errors-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeDemoRepository(dir);
  const server = await startServer({
    modelRepository: dir,
    httpPort: 0,
    grpcPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    maxBodyBytes: MAX_BODY_BYTES,
  });
  t.after(() => server.close());
  const rpc = inferenceClient(server.grpcPort as number);
  t.after(() => rpc.close());
  const ws = await WsClient.connect(`ws://127.0.0.1:${server.httpPort}/v2/stream`);
  t.after(() => ws.socket.terminate());

  for (const c of CASES) {
    const spec = ERRORS[c.code];
    const http = await httpInfer(server.httpPort, c);
    assert.deepEqual(http, { status: spec.httpStatus, code: c.code }, `HTTP: ${c.what}`);

    const err = await grpcInfer(rpc, c);
    assert.equal(err.code, spec.grpcStatus, `gRPC status: ${c.what} (${err.details})`);
    assert.deepEqual(err.metadata.get('maas-error-code'), [c.code], `gRPC code: ${c.what}`);

    try {
      await ws.infer(c.model, [{ name: 'input', datatype: c.datatype, shape: c.shape, data: new Uint8Array(c.bytes) }]);
      assert.fail(`${c.what}: WebSocket succeeded`);
    } catch (e) {
      assert.ok(e instanceof WsRequestError, String(e));
      assert.deepEqual([e.answer.code, e.answer.status], [c.code, spec.httpStatus], `WebSocket: ${c.what}`);
    }
  }

  // A message over the size limit: 413 on HTTP, RESOURCE_EXHAUSTED on gRPC,
  // close 1009 on WebSocket; each front end keeps serving.
  const big: Case = {
    what: 'oversized',
    model: 'identity',
    datatype: 'FP32',
    shape: [MAX_BODY_BYTES / 64 + 1, 16],
    bytes: MAX_BODY_BYTES + 64,
    code: 'BODY_TOO_LARGE',
  };
  assert.deepEqual(await httpInfer(server.httpPort, big, 1.25), { status: 413, code: 'BODY_TOO_LARGE' });
  assert.equal((await grpcInfer(rpc, big)).code, ERRORS.BODY_TOO_LARGE.grpcStatus);
  const doomed = ws.infer('identity', [
    { name: 'input', datatype: 'FP32', shape: big.shape, data: new Uint8Array(big.bytes) },
  ]);
  await assert.rejects(doomed);
  assert.equal((await ws.closed).code, 1009);

  const ok = await fetch(`http://127.0.0.1:${server.httpPort}/v2/models/identity/ready`);
  assert.equal(ok.status, 200);
  const served = await grpcInfer(rpc, CASES[0]);
  assert.equal(served.code, ERRORS.MODEL_NOT_FOUND.grpcStatus);
});
