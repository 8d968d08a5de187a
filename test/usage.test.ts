// Usage metering end to end (docs/usage.md) against the shared PostgreSQL and
// Kafka: one record per call on every front end, exactly once by id on
// maas.usage.v1, keyed by tenant; the usage API's totals equal the calls
// made; a tenant reads only its own usage; export streams the raw records;
// without Kafka the outbox feeds the roll-up directly; retention.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createDatabase, testServices, uniqueName } from './support/services';
import { grpcClient, grpcInferCall } from './support/grpc-client';
import { WsClient, fp32Data } from './support/ws-client';
import { readTopicUntil, type TopicMessage } from './support/kafka-topic';
import { api, inferAdd, startRegistryServer, waitFor, type Harness } from './registry-support';

const services = testServices();
let h: Harness;
const tenantA = uniqueName('ua')
  .replace(/[^a-z0-9-]/g, '')
  .slice(0, 40);
const tenantB = uniqueName('ub')
  .replace(/[^a-z0-9-]/g, '')
  .slice(0, 40);
let ownerA = '';
let ownerB = '';

async function key(tenant: string, role: string): Promise<string> {
  const made = await api(h.url, 'POST', `/api/v1/tenants/${tenant}/keys`, h.adminKey, { role });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body.key as string;
}

before(async () => {
  h = await startRegistryServer(await createDatabase(services.databaseUrl, 'usage'), {}, undefined, {
    grpcPort: 0,
    kafka: { brokers: services.kafkaBrokers, partitions: 2 },
  });
  for (const name of [tenantA, tenantB])
    assert.equal((await api(h.url, 'POST', '/api/v1/tenants', h.adminKey, { name })).status, 201);
  ownerA = await key(tenantA, 'owner');
  ownerB = await key(tenantB, 'owner');
});

after(async () => {
  await h?.server.close();
});

const CALLS_A_HTTP = 12;
const CALLS_A_GRPC = 5;
const CALLS_B = 7;
const CALLS_B_WS = 3;

function grpcAdd(client: ReturnType<typeof grpcClient>, key: string) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${key}`);
  return grpcInferCall(
    client,
    {
      model_name: 'fsmodel',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
      raw_input_contents: [Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)],
    },
    metadata,
  );
}

test('N calls over HTTP and gRPC → exactly N records on maas.usage.v1, with tenant, key, model, bytes; the API totals match', async () => {
  const client = grpcClient(h.server.grpcPort as number);
  try {
    for (let i = 0; i < CALLS_A_HTTP; i++) assert.equal((await inferAdd(h.url, 'fsmodel', ownerA)).status, 200);
    for (let i = 0; i < CALLS_A_GRPC; i++) assert.equal((await grpcAdd(client, ownerA)).err, null);
    for (let i = 0; i < CALLS_B; i++) assert.equal((await inferAdd(h.url, 'fsmodel', ownerB)).status, 200);
  } finally {
    client.close();
  }
  const ws = await WsClient.connect(`ws://127.0.0.1:${h.server.httpPort}/v2/stream`, { token: ownerB });
  try {
    const x = { name: 'x', datatype: 'FP32', shape: [1, 4], data: fp32Data(new Float32Array([1, 2, 3, 4]), 'msgpack') };
    for (let i = 0; i < CALLS_B_WS; i++) await ws.infer('fsmodel', [x]);
  } finally {
    ws.socket.close();
  }
  // One failed call (a wrong shape): metered as an error with no inferences.
  const bad = await api(h.url, 'POST', '/v2/models/fsmodel/infer', ownerB, {
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
  });
  assert.equal(bad.status, 400);
  const ours = (m: TopicMessage) => m.value.tenant === tenantA || m.value.tenant === tenantB;
  const expected = CALLS_A_HTTP + CALLS_A_GRPC + CALLS_B + CALLS_B_WS + 1;
  const messages = (
    await readTopicUntil(services.kafkaBrokers, 'maas.usage.v1', (all) => all.filter(ours).length >= expected)
  ).filter(ours);
  // Let a late duplicate show up before counting.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const ids = new Set(messages.map((m) => m.value.id));
  assert.equal(ids.size, expected, 'one record per call');
  assert.equal(messages.length, expected, 'no record twice');
  for (const m of messages) {
    assert.equal(m.key, m.value.tenant, 'keyed by tenant');
    assert.equal(m.value.model, 'fsmodel');
    assert.match(String(m.value.keyId), /^key:[0-9a-f-]{36}$/);
    assert.match(String(m.value.startedAt), /^\d{4}-\d\d-\d\dT/);
    if (m.value.status === 'OK') {
      assert.deepEqual([m.value.inputBytes, m.value.outputBytes, m.value.inferences], [16, 16, 1]);
      assert.equal(m.value.version, '1');
      assert.ok(Number(m.value.computeUs) > 0);
    }
  }
  const byProtocol = (tenant: string, protocol: string) =>
    messages.filter((m) => m.value.tenant === tenant && m.value.protocol === protocol).length;
  assert.deepEqual(
    [byProtocol(tenantA, 'http'), byProtocol(tenantA, 'grpc'), byProtocol(tenantB, 'http'), byProtocol(tenantB, 'ws')],
    [CALLS_A_HTTP, CALLS_A_GRPC, CALLS_B + 1, CALLS_B_WS],
  );
  const failed = messages.filter((m) => m.value.status !== 'OK');
  assert.deepEqual(
    failed.map((m) => [m.value.tenant, m.value.status, m.value.inferences]),
    [[tenantB, 'INVALID_SHAPE', 0]],
  );

  // The roll-up is written in the transaction that marks the rows relayed.
  const totalsA = await waitFor('the roll-up of A', async () => {
    const r = await api(h.url, 'GET', '/api/v1/usage?groupBy=model', ownerA);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.totals.requests === CALLS_A_HTTP + CALLS_A_GRPC ? r : undefined;
  });
  assert.equal(totalsA.body.tenant, tenantA);
  assert.deepEqual(
    { ...totalsA.body.totals, computeSeconds: 0 },
    {
      requests: CALLS_A_HTTP + CALLS_A_GRPC,
      inferences: CALLS_A_HTTP + CALLS_A_GRPC,
      inputBytes: 16 * (CALLS_A_HTTP + CALLS_A_GRPC),
      outputBytes: 16 * (CALLS_A_HTTP + CALLS_A_GRPC),
      computeSeconds: 0,
      errors: 0,
    },
  );
  assert.ok(totalsA.body.totals.computeSeconds > 0);
  assert.deepEqual(
    totalsA.body.groups.map((g: { model: string; requests: number }) => [g.model, g.requests]),
    [['fsmodel', CALLS_A_HTTP + CALLS_A_GRPC]],
  );
  const totalsB = await api(h.url, 'GET', '/api/v1/usage?groupBy=day', ownerB);
  assert.deepEqual([totalsB.body.totals.requests, totalsB.body.totals.errors], [CALLS_B + CALLS_B_WS + 1, 1]);
  assert.equal(totalsB.body.groups.length, 1);
  assert.match(totalsB.body.groups[0].day, /T00:00:00\.000Z$/);
  // The admin sees any tenant, by key and by hour.
  const byKey = await api(h.url, 'GET', `/api/v1/usage?tenant=${tenantA}&groupBy=key`, h.adminKey);
  assert.equal(byKey.body.groups.length, 1);
  assert.match(byKey.body.groups[0].key, /^key:/);
  const byHour = await api(h.url, 'GET', `/api/v1/usage?tenant=${tenantB}&groupBy=hour`, h.adminKey);
  assert.equal(byHour.body.totals.requests, CALLS_B + CALLS_B_WS + 1);
  // A window in the future holds nothing.
  const future = await api(h.url, 'GET', `/api/v1/usage?from=2999-01-01T00:00:00Z`, ownerA);
  assert.equal(future.body.totals.requests, 0);
});

test("a tenant cannot read another tenant's usage or export; bad parameters are 400", async () => {
  const other = await api(h.url, 'GET', `/api/v1/usage?tenant=${tenantA}`, ownerB);
  assert.deepEqual([other.status, other.body.code], [404, 'TENANT_NOT_FOUND']);
  const otherExport = await api(h.url, 'GET', `/api/v1/usage/export?tenant=${tenantA}`, ownerB);
  assert.equal(otherExport.status, 404);
  const viewer = await key(tenantA, 'viewer');
  assert.equal((await api(h.url, 'GET', '/api/v1/usage', viewer)).status, 403);
  assert.equal((await api(h.url, 'GET', '/api/v1/usage', null)).status, 401);
  for (const query of ['groupBy=week', 'from=yesterday', 'to=']) {
    const r = await api(h.url, 'GET', `/api/v1/usage?${query}`, ownerA);
    assert.deepEqual([r.status, r.body.code], [400, 'INVALID_PARAMETER'], query);
  }
  assert.equal((await api(h.url, 'GET', '/api/v1/usage/export?format=xml', ownerA)).status, 400);
  const doc = await api(h.url, 'GET', '/api/v1/openapi.json', ownerA);
  for (const p of ['/api/v1/usage', '/api/v1/usage/export']) assert.ok(doc.body.paths[p].get, p);
});

test("export streams a tenant's own raw records as JSON lines and CSV", async () => {
  const jsonl = await fetch(`${h.url}/api/v1/usage/export?format=jsonl`, {
    headers: { authorization: `Bearer ${ownerA}` },
  });
  assert.equal(jsonl.status, 200);
  assert.equal(jsonl.headers.get('content-type'), 'application/x-ndjson');
  assert.equal(jsonl.headers.get('content-length'), null, 'streamed (chunked), not buffered');
  const lines = (await jsonl.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, CALLS_A_HTTP + CALLS_A_GRPC);
  assert.ok(lines.every((r) => r.tenant === tenantA && r.model === 'fsmodel'));
  const sorted = [...lines].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  assert.deepEqual(lines, sorted, 'in time order');
  const csv = await (
    await fetch(`${h.url}/api/v1/usage/export?format=csv&tenant=${tenantB}`, {
      headers: { authorization: `Bearer ${h.adminKey}` },
    })
  ).text();
  const rows = csv.trim().split('\n');
  assert.equal(rows[0].split(',')[0], 'id');
  assert.equal(rows.length, 1 + CALLS_B + CALLS_B_WS + 1);
  assert.ok(rows.slice(1).every((r) => r.split(',')[2] === tenantB));
});

test('without Kafka the outbox feeds the roll-up; retention deletes relayed raw records, not the totals', async () => {
  const local = await startRegistryServer(await createDatabase(services.databaseUrl, 'usage_local'));
  try {
    const tenant = uniqueName('uc')
      .replace(/[^a-z0-9-]/g, '')
      .slice(0, 40);
    assert.equal((await api(local.url, 'POST', '/api/v1/tenants', local.adminKey, { name: tenant })).status, 201);
    const made = await api(local.url, 'POST', `/api/v1/tenants/${tenant}/keys`, local.adminKey, { role: 'owner' });
    for (let i = 0; i < 4; i++) assert.equal((await inferAdd(local.url, 'fsmodel', made.body.key)).status, 200);
    const totals = await waitFor('the roll-up', async () => {
      const r = await api(local.url, 'GET', `/api/v1/usage?tenant=${tenant}`, local.adminKey);
      return r.body.totals.requests === 4 ? r.body.totals : undefined;
    });
    assert.equal(totals.inferences, 4);
    const usage = local.server.usage;
    assert.ok(usage);
    const pool = local.server.registry?.store.pool;
    assert.ok(pool);
    // Age two relayed records past the retention (90 days).
    await pool.query(
      `UPDATE usage_outbox SET started_at = now() - interval '91 days'
       WHERE id IN (SELECT id FROM usage_outbox WHERE tenant = $1 LIMIT 2)`,
      [tenant],
    );
    assert.equal(await usage.relay.cleanup(), 2);
    const left = await pool.query('SELECT count(*)::int AS n FROM usage_outbox WHERE tenant = $1', [tenant]);
    assert.equal(left.rows[0].n, 2);
    const after = await api(local.url, 'GET', `/api/v1/usage?tenant=${tenant}`, local.adminKey);
    assert.equal(after.body.totals.requests, 4, 'the roll-up keeps the totals');
  } finally {
    await local.server.close();
  }
});
