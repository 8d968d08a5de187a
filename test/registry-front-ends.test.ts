// The registry's auth step on every front end (docs/security.md,
// docs/grpc.md, docs/websocket.md): HTTP, gRPC and WebSocket share one
// pipeline, so a caller without valid credentials is refused on each, a
// tenant's key reaches that tenant's private model on each, and another
// tenant's key finds nothing there (not found, never forbidden).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ERRORS } from '../common/errors';
import { grpcClient, grpcInferCall, type GrpcClient } from './support/grpc-client';
import { createDatabase, testServices } from './support/services';
import { WsClient, WsRequestError, fp32Output, type WsTensor } from './support/ws-client';
import {
  addModelBytes,
  api,
  firstOutput,
  inferAdd,
  startRegistryServer,
  twoTenantOwners,
  waitFor,
  type Harness,
} from './registry-support';

const services = testServices();
let h: Harness;
let rpc: GrpcClient;
let ownerA = '';
let ownerB = '';
const sockets: WsClient[] = [];

const X = new Float32Array([1, 2, 3, 4]);
const WS_INPUT: WsTensor = { name: 'x', datatype: 'FP32', shape: [1, 4], data: new Uint8Array(X.buffer) };
const GRPC_REQUEST = {
  model_name: 'secret',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
  raw_input_contents: [Buffer.from(X.buffer)],
};

function metadata(headers: Record<string, string>): Metadata {
  const m = new Metadata();
  for (const [key, value] of Object.entries(headers)) m.set(key, value);
  return m;
}

async function ws(options: Parameters<typeof WsClient.connect>[1] = {}, query = ''): Promise<WsClient> {
  const socket = await WsClient.connect(`ws://127.0.0.1:${h.server.httpPort}/v2/stream${query}`, options);
  sockets.push(socket);
  return socket;
}

// The refusal a WebSocket request gets, as [code, status].
async function wsRefusal(socket: WsClient): Promise<[string, number]> {
  try {
    await socket.infer('secret', [WS_INPUT]);
  } catch (e) {
    assert.ok(e instanceof WsRequestError, String(e));
    return [e.answer.code, e.answer.status];
  }
  throw new Error('the WebSocket request succeeded');
}

before(async () => {
  const databaseUrl = await createDatabase(services.databaseUrl, 'frontends');
  h = await startRegistryServer(databaseUrl, {}, undefined, { grpcPort: 0 });
  rpc = grpcClient(h.server.grpcPort as number);
  [ownerA, ownerB] = await twoTenantOwners(h);
  // alpha's private model: y = x + 1.
  assert.equal((await api(h.url, 'POST', '/api/v1/models', ownerA, { name: 'secret' })).status, 201);
  const up = await api(h.url, 'PUT', '/api/v1/models/secret/versions/1', ownerA, addModelBytes(1));
  assert.equal(up.status, 201, JSON.stringify(up.body));
  await waitFor('secret served', async () =>
    (await inferAdd(h.url, 'secret', ownerA)).status === 200 ? true : undefined,
  );
});

after(async () => {
  for (const socket of sockets) socket.socket.terminate();
  rpc?.close();
  await h?.server.close();
});

let httpModelName = '';

test('HTTP: no key 401, alpha reaches its model, beta gets 404', async () => {
  const none = await inferAdd(h.url, 'secret', null);
  assert.deepEqual([none.status, none.body.code], [401, 'UNAUTHENTICATED']);
  const answer = await inferAdd(h.url, 'secret', ownerA);
  assert.equal(firstOutput(answer), 2);
  httpModelName = answer.body.model_name as string;
  const other = await inferAdd(h.url, 'secret', ownerB);
  assert.deepEqual([other.status, other.body.code], [404, 'MODEL_NOT_FOUND']);
});

test('gRPC: authorization metadata goes through the same auth step', async () => {
  const cases: Array<[string, Record<string, string>, string | null]> = [
    ['no metadata', {}, 'UNAUTHENTICATED'],
    ['a key that does not exist', { authorization: `Bearer maas_AAAAAAAA_${'A'.repeat(43)}` }, 'UNAUTHENTICATED'],
    ['another scheme', { authorization: `Basic ${ownerA}` }, 'UNAUTHENTICATED'],
    ["beta's key", { authorization: `Bearer ${ownerB}` }, 'MODEL_NOT_FOUND'],
    ["alpha's key", { authorization: `Bearer ${ownerA}` }, null],
    ["alpha's key as x-api-key", { 'x-api-key': ownerA }, null],
  ];
  for (const [what, headers, code] of cases) {
    const { err, response } = await grpcInferCall(rpc, GRPC_REQUEST, metadata(headers));
    if (code === null) {
      assert.equal(err, null, `${what}: ${err?.details}`);
      const y = new Float32Array(new Uint8Array(response!.raw_output_contents[0]).buffer);
      assert.deepEqual(Array.from(y), [2, 3, 4, 5], what);
      assert.equal(response!.model_name, httpModelName, 'the model name HTTP answers');
    } else {
      assert.ok(err, `${what}: succeeded`);
      assert.equal(err.code, ERRORS[code as keyof typeof ERRORS].grpcStatus, `${what}: ${err.details}`);
      assert.deepEqual(err.metadata.get('maas-error-code'), [code], what);
    }
  }
  assert.equal(ERRORS.UNAUTHENTICATED.grpcStatus, 16); // gRPC's UNAUTHENTICATED
  // Metadata resolves the name in the caller's tenant too.
  const described = (key: string) =>
    new Promise<{ err: unknown; name?: string }>((resolve) =>
      rpc.ModelMetadata({ name: 'secret' }, metadata({ authorization: `Bearer ${key}` }), (err, r) =>
        resolve({ err, name: r?.name }),
      ),
    );
  assert.deepEqual(await described(ownerA), { err: null, name: httpModelName });
  const hidden = await described(ownerB);
  assert.equal((hidden.err as { code: number }).code, ERRORS.MODEL_NOT_FOUND.grpcStatus);
});

test('WebSocket: upgrade header, x-api-key, ?token= and the auth message go through the same auth step', async () => {
  assert.deepEqual(await wsRefusal(await ws()), ['UNAUTHENTICATED', 401]);
  assert.deepEqual(await wsRefusal(await ws({ token: 'not-a-key' })), ['UNAUTHENTICATED', 401]);
  assert.deepEqual(await wsRefusal(await ws({ token: ownerB })), ['MODEL_NOT_FOUND', 404]);
  assert.deepEqual(await wsRefusal(await ws({}, `?token=${encodeURIComponent(ownerB)}`)), ['MODEL_NOT_FOUND', 404]);
  for (const socket of [
    await ws({ token: ownerA }),
    await ws({ headers: { 'x-api-key': ownerA } }),
    await ws({}, `?token=${encodeURIComponent(ownerA)}`),
  ]) {
    const answer = await socket.infer('secret', [WS_INPUT]);
    assert.deepEqual(Array.from(fp32Output(answer.outputs[0])), [2, 3, 4, 5]);
    assert.equal(answer.model, httpModelName);
  }
  // A socket opened without credentials may send them later; its next
  // requests are then alpha's, and switching to beta's key takes effect too.
  const late = await ws();
  assert.deepEqual(await wsRefusal(late), ['UNAUTHENTICATED', 401]);
  late.send({ type: 'auth', token: ownerA });
  assert.deepEqual(Array.from(fp32Output((await late.infer('secret', [WS_INPUT])).outputs[0])), [2, 3, 4, 5]);
  late.send({ type: 'auth', token: ownerB });
  assert.deepEqual(await wsRefusal(late), ['MODEL_NOT_FOUND', 404]);
});
