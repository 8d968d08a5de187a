// Limits across replicas (docs/limits.md "Across replicas"): two `maas serve`
// processes sharing PostgreSQL and a private Redis (this file kills and
// restarts it). One tenant limit holds for both together; a concurrency cap
// holds under bursts; a monthly quota stops exactly at its value; with Redis
// killed mid-load no request fails, both replicas report degraded mode, and
// after Redis returns the limit is exact again.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startChildServer, type ChildServer } from '../bench/child-server';
import { findPackageRoot } from '../common/package-root';
import { addModelBytes, writeModel } from './support/models';
import { createDatabase, startRedis, testServices, type RedisInfo, type TestServer } from './support/services';
import { api, tempDir, waitFor } from './registry-support';

const services = testServices();
const SLOW_QUEUE_DELAY_US = 600_000; // requests to 'slow' stay in flight this long unless 8 arrive
// Low enough that the load generator, sharing two cores with both replicas,
// asks well above it; a burst of a second's worth, so that a stall of the
// load under a second loses no tokens (a full bucket drops its refill).
const RATE = 40; // requests per second for the tenant, both replicas together
const BURST = 40;
let redis: TestServer<RedisInfo>;
let replicas: ChildServer[] = [];
let admin = '';
const dirs: string[] = [];

async function startReplica(databaseUrl: string, repo: string): Promise<ChildServer> {
  const dir = await tempDir('maas-limits-');
  dirs.push(dir);
  const root = findPackageRoot(__dirname) as string;
  const args = [
    path.join(root, 'dist', 'bin', 'maas.js'),
    'serve',
    ...['--host', '127.0.0.1', '--http-port', '0', '--grpc-port=-1', '--access-log-sample', '0'],
    ...['--model-repository', repo, '--data-dir', dir, '--database-url', databaseUrl],
    ...['--redis-url', redis.info.url],
  ];
  const child = await startChildServer(`replica ${replicas.length}`, args);
  const keyFile = path.join(dir, 'admin.key');
  admin ||= await fs.readFile(keyFile, 'utf8').then(
    (k) => k.trim(),
    () => '',
  );
  return child;
}

async function tenantKey(name: string, limits: Record<string, number>): Promise<string> {
  const url = replicas[0].url;
  assert.equal((await api(url, 'POST', '/api/v1/tenants', admin, { name })).status, 201);
  const key = (await api(url, 'POST', `/api/v1/tenants/${name}/keys`, admin, { role: 'viewer' })).body.key as string;
  assert.equal((await api(url, 'PUT', `/api/v1/tenants/${name}/limits`, admin, limits)).status, 200);
  // The other replica reloads its settings within a second.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return key;
}

// One inference: the HTTP status and the error code ('' for a success;
// 'NETWORK' when no answer came).
async function infer(url: string, key: string, model = 'fast'): Promise<[number, string]> {
  try {
    const r = await fetch(`${url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}',
    });
    const body = (await r.json()) as { code?: string };
    return [r.status, body.code ?? ''];
  } catch {
    return [0, 'NETWORK'];
  }
}

interface LoadResult {
  ok: number;
  limited: number;
  failed: string[]; // anything but 200 and 429
  elapsedMs: number;
}

// `workers` concurrent loops per replica for durationMs.
async function load(key: string, durationMs: number, workers = 6, during?: () => Promise<void>): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, limited: 0, failed: [], elapsedMs: 0 };
  const started = Date.now();
  const endMs = started + durationMs;
  const loops = replicas.flatMap((r) =>
    Array.from({ length: workers }, async () => {
      while (Date.now() < endMs) {
        const [status, code] = await infer(r.url, key);
        if (status === 200) result.ok += 1;
        else if (status === 429 && code === 'RATE_LIMITED') result.limited += 1;
        else result.failed.push(`${status} ${code}`);
      }
    }),
  );
  await Promise.all([...loops, during?.()]);
  result.elapsedMs = Date.now() - started;
  return result;
}

async function degradedGauge(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^maas_limits_degraded (\d+)/m.exec(text);
  assert.ok(m, 'the gauge is exported');
  return Number(m[1]);
}

// What a token bucket of RATE/s, full at the start, admits in elapsedMs.
function expected(elapsedMs: number): number {
  return (RATE * elapsedMs) / 1000 + BURST;
}

before(async () => {
  redis = await startRedis();
  const databaseUrl = await createDatabase(services.databaseUrl, 'limitsrep');
  const repo = path.join(await tempDir('maas-limits-repo-'), 'repo');
  dirs.push(path.dirname(repo));
  await writeModel(repo, 'fast', { max_batch_size: 8 }, { '1': addModelBytes(1) });
  await writeModel(
    repo,
    'slow',
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: SLOW_QUEUE_DELAY_US } },
    { '1': addModelBytes(2) },
  );
  replicas = [await startReplica(databaseUrl, repo)];
  replicas.push(await startReplica(databaseUrl, repo));
  assert.ok(admin, 'the first replica made the admin key');
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await redis?.close();
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

test(`two replicas under one tenant limit of ${RATE} req/s deliver within ±10% of it together`, async (t) => {
  const key = await tenantKey('rate', { requestsPerSecond: RATE, burst: BURST });
  const r = await load(key, 6000);
  assert.deepEqual(r.failed, []);
  assert.ok(r.limited > 0, 'the load exceeded the limit');
  const want = expected(r.elapsedMs);
  t.diagnostic(`admitted ${r.ok} of ${want} (${((100 * r.ok) / want).toFixed(1)}%), ${r.limited} limited`);
  assert.ok(
    Math.abs(r.ok - want) <= want * 0.1,
    `${r.ok} admitted (${r.limited} limited) in ${r.elapsedMs} ms; a bucket admits ${want}`,
  );
});

test('a concurrency limit holds under bursts across both replicas', async () => {
  const key = await tenantKey('conc', { concurrentRequests: 3 });
  for (let burst = 0; burst < 2; burst++) {
    // 20 requests at once, alternating replicas; each admitted one waits
    // SLOW_QUEUE_DELAY_US in the batcher, so all 20 overlap.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => infer(replicas[i % 2].url, key, 'slow')));
    const ok = answers.filter(([s]) => s === 200).length;
    const limited = answers.filter(([s, c]) => s === 429 && c === 'CONCURRENCY_LIMITED').length;
    assert.equal(ok, 3, JSON.stringify(answers));
    assert.equal(limited, 17);
  }
});

test('a monthly quota stops exactly at its value across both replicas', async () => {
  const key = await tenantKey('quota', { monthlyInferences: 25 });
  const codes: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 8; i++) codes.push((await infer(replicas[w % 2].url, key))[1]);
    }),
  );
  assert.equal(codes.filter((c) => c === '').length, 25);
  assert.equal(codes.filter((c) => c === 'QUOTA_EXCEEDED').length, 64 - 25);
});

test('Redis killed mid-load: no request fails, degraded mode is reported, exact again once it is back', async (t) => {
  const key = await tenantKey('outage', { requestsPerSecond: RATE, burst: BURST });
  for (const r of replicas) assert.equal(await degradedGauge(r.url), 0);
  const during = await load(key, 4000, 6, async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.kill();
  });
  assert.deepEqual(during.failed, [], 'no request failed because Redis is down');
  assert.ok(during.ok > 0);
  for (const r of replicas) assert.equal(await degradedGauge(r.url), 1, 'degraded while Redis is down');
  // Each replica alone keeps about half the limit.
  const alone = await load(key, 2000);
  assert.deepEqual(alone.failed, []);
  assert.ok(alone.ok <= expected(alone.elapsedMs) * 1.25, `${alone.ok} admitted by two replicas without Redis`);
  await redis.restart();
  for (const r of replicas)
    await waitFor('exact mode again', async () => ((await degradedGauge(r.url)) === 0 ? true : undefined), 10_000);
  const again = await load(key, 5000);
  assert.deepEqual(again.failed, []);
  const want = expected(again.elapsedMs);
  t.diagnostic(`Redis down: ${alone.ok} admitted in ${alone.elapsedMs} ms; back: ${again.ok} of ${want}`);
  assert.ok(Math.abs(again.ok - want) <= want * 0.1, `${again.ok} admitted in ${again.elapsedMs} ms; want ${want}`);
});
