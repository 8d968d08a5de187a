// Asynchronous inference jobs with the in-process queue, against the real
// PostgreSQL (a fresh database) and the filesystem artifact store
// (docs/jobs.md): round trip equal to direct inference, JSONL upload,
// per-request errors, cancel, webhook, tenant isolation, and a
// 10,000-request job beside online traffic (latency printed, not asserted).
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { createDatabase, testServices } from './support/services';
import { api, startRegistryServer, twoTenantOwners, tempDir, waitFor, type Harness } from './registry-support';
import {
  assertInOrder,
  jsonl,
  percentile,
  requestBody,
  results,
  sampleOnline,
  uploadJob,
  waitForJob,
  writeBatchedModel,
} from './jobs-support';

const services = testServices();
let h: Harness;
let ownerA = '';
let ownerB = '';
let webhookUrl = '';
let webhookServer: http.Server;
const webhooks: Array<Record<string, unknown>> = [];

before(async () => {
  const dir = await tempDir('maas-jobs-');
  await writeBatchedModel(path.join(dir, 'repo'));
  h = await startRegistryServer(await createDatabase(services.databaseUrl, 'jobs'), {}, dir, {
    jobs: { chunkSize: 500, sweepIntervalMs: 500, maxJobBytes: 4 * 1024 * 1024 },
  });
  [ownerA, ownerB] = await twoTenantOwners(h);
  webhookServer = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      webhooks.push(JSON.parse(text) as Record<string, unknown>);
      res.end();
    });
  });
  await new Promise<void>((resolve) => webhookServer.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhookServer.address() as { port: number }).port}/hook`;
});

after(async () => {
  await h?.server.close();
  await new Promise((resolve) => webhookServer?.close(resolve));
});

test('a JSON job: results in input order equal direct inference; a bad request is an error line, not a failed job', async () => {
  const requests = Array.from({ length: 20 }, (_, i) => requestBody(i));
  requests[5] = { id: 'bad', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] };
  const created = await api(h.url, 'POST', '/api/v1/jobs', ownerA, { model: 'fsmodel', requests, webhook: webhookUrl });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const state = await waitForJob(h.url, ownerA, created.body.id);
  assert.equal(state.status, 'succeeded');
  assert.deepEqual(state.progress, { total: 20, done: 20, failed: 1 });
  const lines = await results(h.url, ownerA, created.body.id);
  assert.equal(lines.length, 20);
  for (let i = 0; i < 20; i++) {
    const direct = await api(h.url, 'POST', '/v2/models/fsmodel/infer', ownerA, requests[i]);
    assert.deepEqual(lines[i], direct.body, `line ${i}`);
  }
  assert.equal(lines[5].code, 'INVALID_SHAPE');
  const hook = await waitFor('the webhook', () => Promise.resolve(webhooks.find((w) => w.id === created.body.id)));
  assert.equal(hook.status, 'succeeded');
  assert.deepEqual(hook.progress, { total: 20, done: 20, failed: 1 });
});

test('a JSONL upload of 1,200 requests: three chunks, every result once, in order', async () => {
  const id = await uploadJob(h.url, ownerA, 'batched', jsonl(1200));
  const state = await waitForJob(h.url, ownerA, id);
  assert.deepEqual([state.status, state.progress], ['succeeded', { total: 1200, done: 1200, failed: 0 }]);
  assertInOrder(await results(h.url, ownerA, id), 1200);
  const audit = await api(h.url, 'GET', '/api/v1/audit', ownerA);
  assert.ok(
    audit.body.items.some((a: { action: string; target: string }) => a.action === 'job.create' && a.target === id),
  );
});

test('a job whose every request fails is failed; bad job bodies are refused', async () => {
  const created = await api(h.url, 'POST', '/api/v1/jobs', ownerA, {
    model: 'fsmodel',
    requests: [{ inputs: [] }, { inputs: [{ name: 'nope', datatype: 'FP32', shape: [1], data: [1] }] }],
  });
  const state = await waitForJob(h.url, ownerA, created.body.id);
  assert.deepEqual([state.status, state.progress.failed], ['failed', 2]);
  assert.match(state.reason ?? '', /every request failed/);
  const refusals: Array<[unknown, number, string]> = [
    [{ model: 'nosuch', requests: [{}] }, 404, 'MODEL_NOT_FOUND'],
    [{ model: 'fsmodel', requests: [] }, 400, 'INVALID_PARAMETER'],
    [{ model: 'fsmodel', requests: [1] }, 400, 'INVALID_PARAMETER'],
    [{ model: 'fsmodel', requests: [{}], webhook: 'file:///etc/passwd' }, 400, 'INVALID_PARAMETER'],
    [{ requests: [{}] }, 400, 'INVALID_PARAMETER'],
  ];
  for (const [body, status, code] of refusals) {
    const got = await api(h.url, 'POST', '/api/v1/jobs', ownerA, body);
    assert.deepEqual([got.status, got.body.code], [status, code], JSON.stringify(body));
  }
  const notJson = await api(h.url, 'POST', '/api/v1/jobs', ownerA, Buffer.from('{'), {
    'content-type': 'application/json',
  });
  assert.deepEqual([notJson.status, notJson.body.code], [400, 'INVALID_JSON']);
  const noModel = await api(h.url, 'POST', '/api/v1/jobs', ownerA, Buffer.from(jsonl(2)), {
    'content-type': 'application/x-ndjson',
  });
  assert.deepEqual([noModel.status, noModel.body.code], [400, 'INVALID_PARAMETER']);
  // Past the upload limit (4 MiB here): 413, counted as the bytes arrive.
  const tooLarge = await api(h.url, 'POST', '/api/v1/jobs?model=fsmodel', ownerA, Buffer.from(jsonl(50_000)), {
    'content-type': 'application/x-ndjson',
  });
  assert.deepEqual([tooLarge.status, tooLarge.body.code], [413, 'BODY_TOO_LARGE']);
  const jobs = await api(h.url, 'GET', '/api/v1/jobs?limit=1000', ownerA);
  assert.ok(jobs.body.items.every((j: { model: string }) => j.model !== 'nosuch'));
});

test('a tenant cannot see, read or cancel another tenant’s job (404); an admin can see it', async () => {
  const id = await uploadJob(h.url, ownerA, 'fsmodel', jsonl(3));
  await waitForJob(h.url, ownerA, id);
  for (const [method, route] of [
    ['GET', `/api/v1/jobs/${id}`],
    ['GET', `/api/v1/jobs/${id}/results`],
    ['DELETE', `/api/v1/jobs/${id}`],
  ]) {
    const got = await api(h.url, method, route, ownerB);
    assert.deepEqual([got.status, got.body.code], [404, 'JOB_NOT_FOUND'], `${method} ${route}`);
  }
  const listB = await api(h.url, 'GET', '/api/v1/jobs', ownerB);
  assert.ok(!listB.body.items.some((j: { id: string }) => j.id === id));
  const listA = await api(h.url, 'GET', '/api/v1/jobs', ownerA);
  assert.ok(listA.body.items.some((j: { id: string }) => j.id === id));
  const admin = await api(h.url, 'GET', `/api/v1/jobs/${id}`, h.adminKey);
  assert.deepEqual([admin.status, admin.body.tenant], [200, 'alpha']);
  assert.equal((await api(h.url, 'GET', '/api/v1/jobs/not-a-uuid', ownerA)).status, 404);
  const doc = await api(h.url, 'GET', '/api/v1/openapi.json', ownerA);
  assert.ok(doc.body.paths['/api/v1/jobs/{id}/results']);
  assert.ok(doc.body.paths['/api/v1/tenants']); // the registry's own entries stay
});

test('DELETE cancels a running job: it stops short, stays cancelled, and the webhook says so', async () => {
  const id = await uploadJob(h.url, ownerA, `batched&webhook=${encodeURIComponent(webhookUrl)}`, jsonl(20_000));
  const cancelled = await api(h.url, 'DELETE', `/api/v1/jobs/${id}`, ownerA);
  assert.deepEqual([cancelled.status, cancelled.body.status], [200, 'cancelled']);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const later = await api(h.url, 'GET', `/api/v1/jobs/${id}`, ownerA);
  assert.equal(later.body.status, 'cancelled');
  assert.ok(later.body.progress.done < 20_000, JSON.stringify(later.body.progress));
  const again = await api(h.url, 'DELETE', `/api/v1/jobs/${id}`, ownerA);
  assert.deepEqual([again.status, again.body.status], [200, 'cancelled']);
  const hook = await waitFor('the webhook', () => Promise.resolve(webhooks.find((w) => w.id === id)));
  assert.equal(hook.status, 'cancelled');
});

test('a 10,000-request job completes while online requests keep succeeding (online p99 printed)', async () => {
  const unloaded = await sampleOnline(h.url, ownerA, 'batched', () => true, 300);
  const id = await uploadJob(h.url, ownerA, 'batched', jsonl(10_000));
  let ended = false;
  const t0 = performance.now();
  const ending = waitForJob(h.url, ownerA, id, 110_000).finally(() => {
    ended = true;
  });
  const loaded = await sampleOnline(h.url, ownerA, 'batched', () => ended, 50);
  const state = await ending;
  const jobSecs = (performance.now() - t0) / 1000;
  assert.deepEqual([state.status, state.progress], ['succeeded', { total: 10_000, done: 10_000, failed: 0 }]);
  assert.equal(unloaded.failures + loaded.failures, 0);
  assertInOrder(await results(h.url, ownerA, id), 10_000);
  const p99u = percentile(unloaded.latenciesMs, 99);
  const p99l = percentile(loaded.latenciesMs, 99);
  console.log(
    `jobs: 10,000-request job in ${jobSecs.toFixed(1)} s (${Math.round(10_000 / jobSecs)} req/s); online p99 ` +
      `${p99u.toFixed(2)} ms unloaded (${unloaded.latenciesMs.length} samples), ${p99l.toFixed(2)} ms during the job ` +
      `(${loaded.latenciesMs.length} samples): ${(p99l / p99u).toFixed(2)}x (same process as the client; bench:jobs separates them)`,
  );
});
