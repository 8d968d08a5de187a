// Limits through the management API and on the front ends, on one server
// with in-process counters (docs/limits.md): validation, roles, 404s, audit,
// OpenAPI; 429 with its code, Retry-After and the RateLimit headers on HTTP,
// RESOURCE_EXHAUSTED with the code in metadata on gRPC; batches count.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ERRORS } from '../common/errors';
import { grpcClient, grpcInferCall, type GrpcClient } from './support/grpc-client';
import { createDatabase, testServices } from './support/services';
import { api, startRegistryServer, type Harness } from './registry-support';

const services = testServices();
let h: Harness;
let rpc: GrpcClient;

async function tenantWithKeys(name: string): Promise<{ owner: string; viewer: string; viewerId: string }> {
  assert.equal((await api(h.url, 'POST', '/api/v1/tenants', h.adminKey, { name })).status, 201);
  const make = async (role: string) =>
    (await api(h.url, 'POST', `/api/v1/tenants/${name}/keys`, h.adminKey, { role })).body;
  const owner = await make('owner');
  const viewer = await make('viewer');
  return { owner: owner.key, viewer: viewer.key, viewerId: viewer.id };
}

// A raw fetch: the tests read headers.
async function infer(key: string, batch = 1): Promise<Response> {
  const data = Array.from({ length: 4 * batch }, (_, i) => i);
  return fetch(`${h.url}/v2/models/fsmodel/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [batch, 4], data }] }),
  });
}

async function codeOf(r: Response): Promise<string> {
  const body = (await r.json()) as { code?: string };
  return body.code ?? 'OK';
}

before(async () => {
  const databaseUrl = await createDatabase(services.databaseUrl, 'limitsapi');
  h = await startRegistryServer(databaseUrl, {}, undefined, { grpcPort: 0 });
  rpc = grpcClient(h.server.grpcPort as number);
});

after(async () => {
  rpc?.close();
  await h?.server.close();
});

test('tenant limits: admin sets, owner reads its own, others get 403 or 404, bad bodies 400', async () => {
  const { owner, viewer } = await tenantWithKeys('lim-a');
  const other = await tenantWithKeys('lim-b');
  const route = '/api/v1/tenants/lim-a/limits';
  const none = await api(h.url, 'GET', route, owner);
  assert.equal(none.status, 200);
  assert.equal(none.body.requestsPerSecond, null);
  const set = await api(h.url, 'PUT', route, h.adminKey, { requestsPerSecond: 50, burst: 100 });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body, {
    tenant: 'lim-a',
    requestsPerSecond: 50,
    burst: 100,
    inferencesPerSecond: null,
    concurrentRequests: null,
    monthlyInferences: null,
  });
  // A subset changes only what it names; null removes.
  await api(h.url, 'PUT', route, h.adminKey, { monthlyInferences: 1000, burst: null });
  const got = await api(h.url, 'GET', route, owner);
  assert.deepEqual([got.body.requestsPerSecond, got.body.burst, got.body.monthlyInferences], [50, null, 1000]);
  assert.equal((await api(h.url, 'PUT', route, owner, { requestsPerSecond: 1e6 })).body.code, 'FORBIDDEN');
  assert.equal((await api(h.url, 'GET', route, viewer)).status, 403);
  assert.equal((await api(h.url, 'GET', route, other.owner)).body.code, 'TENANT_NOT_FOUND');
  assert.equal((await api(h.url, 'GET', '/api/v1/tenants/nobody/limits', h.adminKey)).status, 404);
  assert.equal((await api(h.url, 'GET', route, null)).status, 401);
  for (const bad of [{ requestsPerSecond: 0 }, { burst: 2.5 }, { concurrentRequests: 'x' }, { perHour: 5 }]) {
    const r = await api(h.url, 'PUT', route, h.adminKey, bad);
    assert.deepEqual([r.status, r.body.code], [400, 'INVALID_PARAMETER'], JSON.stringify(bad));
  }
  const notJson = await api(h.url, 'PUT', route, h.adminKey, new TextEncoder().encode('{'));
  assert.equal(notJson.body.code, 'INVALID_JSON');
  assert.equal((await api(h.url, 'DELETE', route, h.adminKey)).status, 405);
  const audit = await api(h.url, 'GET', '/api/v1/audit?limit=1000', owner);
  const rows = (audit.body.items as Array<{ action: string }>).filter((r) => r.action === 'limits.tenant.set');
  assert.equal(rows.length, 2);
});

test("key limits: the tenant's owner sets them within the tenant's; GET answers the effective limits", async () => {
  const { owner, viewerId } = await tenantWithKeys('lim-c');
  const other = await tenantWithKeys('lim-d');
  await api(h.url, 'PUT', '/api/v1/tenants/lim-c/limits', h.adminKey, { requestsPerSecond: 20, concurrentRequests: 8 });
  const route = `/api/v1/keys/${viewerId}/limits`;
  const over = await api(h.url, 'PUT', route, owner, { requestsPerSecond: 40 });
  assert.deepEqual([over.status, over.body.code], [403, 'FORBIDDEN']);
  const set = await api(h.url, 'PUT', route, owner, { requestsPerSecond: 5, monthlyInferences: 100 });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const got = await api(h.url, 'GET', route, owner);
  assert.deepEqual(
    [got.body.requestsPerSecond, got.body.concurrentRequests, got.body.monthlyInferences, got.body.tenant],
    [5, 8, 100, 'lim-c'],
  );
  assert.equal(got.body.configured.concurrentRequests, null);
  // An admin may set more than the tenant has (the tenant's limit still holds).
  assert.equal((await api(h.url, 'PUT', route, h.adminKey, { requestsPerSecond: 40 })).status, 200);
  assert.equal((await api(h.url, 'GET', route, owner)).body.requestsPerSecond, 20);
  assert.equal((await api(h.url, 'GET', route, other.owner)).body.code, 'KEY_NOT_FOUND');
  assert.equal((await api(h.url, 'PUT', route, other.owner, { burst: 1 })).body.code, 'KEY_NOT_FOUND');
  assert.equal((await api(h.url, 'GET', '/api/v1/keys/not-a-uuid/limits', h.adminKey)).status, 404);
  const missing = '00000000-0000-4000-8000-000000000000';
  assert.equal((await api(h.url, 'GET', `/api/v1/keys/${missing}/limits`, h.adminKey)).status, 404);
  const doc = await api(h.url, 'GET', '/api/v1/openapi.json', owner);
  assert.ok(doc.body.paths['/api/v1/tenants/{tenant}/limits'].put);
  assert.ok(doc.body.paths['/api/v1/keys/{id}/limits'].get);
  assert.ok(doc.body.paths['/api/v1/models'], 'the registry routes are still there');
});

test('HTTP: RateLimit headers on answers; over the limit 429 RATE_LIMITED with Retry-After', async () => {
  const { viewer } = await tenantWithKeys('lim-e');
  await api(h.url, 'PUT', '/api/v1/tenants/lim-e/limits', h.adminKey, { requestsPerSecond: 0.5, burst: 3 });
  for (let i = 0; i < 3; i++) {
    const ok = await infer(viewer);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('ratelimit-policy'), '"requests";q=3;w=6');
    assert.match(ok.headers.get('ratelimit') ?? '', new RegExp(`^"requests";r=${2 - i};t=\\d+$`));
    await ok.arrayBuffer();
  }
  const refused = await infer(viewer);
  assert.equal(refused.status, 429);
  assert.equal(await codeOf(refused), 'RATE_LIMITED');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.match(refused.headers.get('ratelimit') ?? '', /^"requests";r=0;t=\d+$/);
  // Other routes of the same caller are not limited.
  const meta = await fetch(`${h.url}/v2/models/fsmodel`, { headers: { authorization: `Bearer ${viewer}` } });
  assert.equal(meta.status, 200);
  assert.equal(meta.headers.get('ratelimit'), null);
});

test('gRPC: RESOURCE_EXHAUSTED with the code and the RateLimit fields in metadata', async () => {
  const { viewer } = await tenantWithKeys('lim-f');
  await api(h.url, 'PUT', '/api/v1/tenants/lim-f/limits', h.adminKey, { concurrentRequests: 1, monthlyInferences: 1 });
  const request = {
    model_name: 'fsmodel',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
    raw_input_contents: [Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)],
  };
  const m = new Metadata();
  m.set('authorization', `Bearer ${viewer}`);
  const first = await grpcInferCall(rpc, request, m);
  assert.equal(first.err, null, first.err?.details);
  const second = await grpcInferCall(rpc, request, m);
  assert.ok(second.err);
  assert.equal(second.err.code, ERRORS.QUOTA_EXCEEDED.grpcStatus);
  assert.equal(second.err.code, 8); // RESOURCE_EXHAUSTED
  assert.deepEqual(second.err.metadata.get('maas-error-code'), ['QUOTA_EXCEEDED']);
  assert.match(String(second.err.metadata.get('ratelimit')[0]), /"monthly";r=0;t=\d+/);
  assert.ok(Number(second.err.metadata.get('retry-after')[0]) > 0);
});

test('a batch counts its size against the monthly quota; the quota stops exactly at its value', async () => {
  const { viewer } = await tenantWithKeys('lim-g');
  await api(h.url, 'PUT', '/api/v1/tenants/lim-g/limits', h.adminKey, { monthlyInferences: 7 });
  const codes: string[] = [];
  for (const batch of [4, 1, 1, 1, 1]) codes.push(await codeOf(await infer(viewer, batch)));
  assert.deepEqual(codes, ['OK', 'OK', 'OK', 'OK', 'QUOTA_EXCEEDED']);
  // A refused or failed call costs nothing: a bad request is not counted.
  const { viewer: v2 } = await tenantWithKeys('lim-h');
  await api(h.url, 'PUT', '/api/v1/tenants/lim-h/limits', h.adminKey, { monthlyInferences: 2 });
  const bad = await fetch(`${h.url}/v2/models/fsmodel/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${v2}` },
    body: '{"inputs": 5}',
  });
  assert.equal(bad.status, 400);
  await bad.arrayBuffer();
  assert.deepEqual([await codeOf(await infer(v2)), await codeOf(await infer(v2))], ['OK', 'OK']);
  assert.equal(await codeOf(await infer(v2)), 'QUOTA_EXCEEDED');
});
