// Two replicas sharing PostgreSQL and a key cache in Redis (`--redis-url`):
// a key one replica resolved is served by the other from Redis, a revocation
// holds on both within a second (even where only Redis had the key), and
// with Redis stopped keys still resolve through PostgreSQL and revocations
// still hold (docs/security.md "API keys"). Redis is this file's own server,
// kept on disk, so it can be stopped and restarted with its old entries.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Redis from 'ioredis';
import { createLogger } from '../common/logger';
import { FORGET_CHANNEL, RedisKeyCache, redisKeyName } from '../registry/keycache/redis';
import { createDatabase, startRedis, testServices, type RedisInfo, type TestServer } from './support/services';
import { api, startRegistryServer, waitFor, type Harness } from './registry-support';

const services = testServices();
let redisServer: TestServer<RedisInfo>;
let redis: Redis;
let a: Harness;
let b: Harness;
let owner = '';

interface NewKey {
  id: string;
  key: string;
  prefix: string;
}

async function newKey(on: Harness): Promise<NewKey> {
  const made = await api(on.url, 'POST', '/api/v1/tenants/cache/keys', owner, { role: 'viewer' });
  assert.equal(made.status, 201);
  return made.body as NewKey;
}

async function status(on: Harness, key: string): Promise<number> {
  return (await api(on.url, 'GET', '/v2/models/fsmodel', key)).status;
}

function lookups(on: Harness) {
  const auth = on.server.registry?.authenticator;
  assert.ok(auth);
  return { ...auth.lookups };
}

async function revokedWithin1s(on: Harness, key: string): Promise<void> {
  await waitFor('revoked', async () => ((await status(on, key)) === 401 ? true : undefined), 1000);
}

before(async () => {
  redisServer = await startRedis({ appendOnly: true, settings: { appendfsync: 'always' } });
  redis = new Redis(redisServer.info.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // while it is stopped on purpose
  const url = await createDatabase(services.databaseUrl, 'rediscache');
  const options = { redisUrl: redisServer.info.url };
  [a, b] = await Promise.all([startRegistryServer(url, options), startRegistryServer(url, options)]);
  const admin = a.adminKey || b.adminKey;
  assert.equal((await api(a.url, 'POST', '/api/v1/tenants', admin, { name: 'cache' })).status, 201);
  owner = (await api(a.url, 'POST', '/api/v1/tenants/cache/keys', admin, { role: 'owner' })).body.key;
});

after(async () => {
  await Promise.all([a?.server.close(), b?.server.close()]);
  redis?.disconnect();
  await redisServer?.close();
});

test('a key resolved on one replica is in Redis and the other serves it without PostgreSQL', async () => {
  const k = await newKey(a);
  assert.equal(await redis.exists(redisKeyName(k.prefix)), 0);
  assert.equal(await status(a, k.key), 200);
  const raw = await redis.get(redisKeyName(k.prefix));
  assert.ok(raw, 'the look-up was written to Redis');
  const entry = JSON.parse(raw);
  assert.equal(entry.id, k.id);
  assert.equal(entry.tenant, 'cache');
  assert.equal(entry.role, 'viewer');
  assert.equal(entry.revoked, false);
  assert.ok(!raw.includes(k.key.slice(k.prefix.length + 1)), 'the secret never reaches Redis');
  const ttlSecs = await redis.ttl(redisKeyName(k.prefix));
  assert.ok(ttlSecs > 0 && ttlSecs <= 60, `a short TTL, not ${ttlSecs}`);

  const before = lookups(b);
  assert.equal(await status(b, k.key), 200);
  const afterFirst = lookups(b);
  assert.equal(afterFirst.database, before.database, 'b did not ask PostgreSQL');
  assert.equal(afterFirst.shared, before.shared + 1, 'b found it in Redis');
  assert.equal(await status(b, k.key), 200);
  assert.equal(lookups(b).memory, afterFirst.memory + 1, 'then from its own memory');
  // A wrong secret under a cached prefix is refused like any bad key.
  assert.equal(await status(b, `${k.prefix}_${'A'.repeat(43)}`), 401);
});

test('unknown keys are not cached in Redis', async () => {
  const unknown = `maas_zzzzzzzz_${'B'.repeat(43)}`;
  assert.equal(await status(a, unknown), 401);
  assert.equal(await redis.exists(redisKeyName('maas_zzzzzzzz')), 0);
});

test('a revocation holds on the other replica within a second, also where only Redis had the key', async () => {
  const both = await newKey(a);
  const onlyRedis = await newKey(a);
  assert.equal(await status(a, both.key), 200);
  assert.equal(await status(b, both.key), 200);
  assert.equal(await status(a, onlyRedis.key), 200); // b has never seen it: Redis has
  assert.ok(await redis.get(redisKeyName(onlyRedis.prefix)));
  assert.equal((await api(a.url, 'DELETE', `/api/v1/keys/${both.id}`, owner)).status, 204);
  assert.equal((await api(a.url, 'DELETE', `/api/v1/keys/${onlyRedis.id}`, owner)).status, 204);
  await revokedWithin1s(b, both.key);
  await revokedWithin1s(b, onlyRedis.key);
  await revokedWithin1s(a, onlyRedis.key);
  const raw = await redis.get(redisKeyName(onlyRedis.prefix));
  assert.ok(raw === null || raw === '-' || JSON.parse(raw).revoked === true, `no valid entry left: ${raw}`);
});

test('a look-up read before a revocation cannot be put back over it', async () => {
  const forgotten: string[] = [];
  const cache = new RedisKeyCache({
    url: redisServer.info.url,
    logger: createLogger('silent'),
    onForgotten: (prefix) => forgotten.push(prefix),
  });
  try {
    await cache.ready();
    const prefix = 'maas_racerace';
    const lookup = {
      id: '00000000-0000-4000-8000-000000000000',
      tenant: 'cache',
      role: 'viewer' as const,
      secretSha256: Buffer.alloc(32, 1),
      expiresAt: new Date('2100-01-01T00:00:00Z'),
      revoked: false,
    };
    await cache.put(prefix, lookup);
    assert.deepEqual(await cache.get(prefix), lookup, 'what was put comes back');
    await cache.forget(prefix);
    await cache.put(prefix, lookup); // a replica's read from before the revocation
    assert.equal(await cache.get(prefix), undefined);
    await waitFor('published', async () => (forgotten.includes(prefix) ? true : undefined));
  } finally {
    await cache.close();
  }
});

test('a forget published on Redis drops the in-process copy', async () => {
  const k = await newKey(a);
  assert.equal(await status(b, k.key), 200);
  const cached = lookups(b);
  assert.equal(await status(b, k.key), 200);
  assert.equal(lookups(b).memory, cached.memory + 1, 'cached in b');
  await redis.publish(FORGET_CHANNEL, k.prefix);
  await waitFor('forgotten on b', async () => {
    const seen = lookups(b);
    assert.equal(await status(b, k.key), 200);
    const now = lookups(b);
    return now.memory === seen.memory ? true : undefined; // looked up again
  });
});

test('with Redis stopped keys resolve through PostgreSQL and revocations hold; back, no stale entry', async () => {
  const cached = await newKey(a);
  assert.equal(await status(a, cached.key), 200);
  assert.equal(await status(b, cached.key), 200);
  const stale = await redis.get(redisKeyName(cached.prefix));
  assert.ok(stale);
  await redisServer.stop();

  const fresh = await newKey(b);
  const before = lookups(b);
  assert.equal(await status(b, fresh.key), 200, 'a key nobody cached resolves without Redis');
  assert.equal(lookups(b).database, before.database + 1);
  assert.equal(await status(a, fresh.key), 200);
  assert.equal(await status(a, cached.key), 200);
  assert.equal((await api(b.url, 'DELETE', `/api/v1/keys/${cached.id}`, owner)).status, 204);
  await revokedWithin1s(a, cached.key);
  await revokedWithin1s(b, cached.key);

  // Redis comes back with the entry it had kept on disk: the revocation seen
  // meanwhile overwrites it.
  await redisServer.restart();
  await waitFor('stale entry replaced', async () => {
    const raw = await redis.get(redisKeyName(cached.prefix)).catch(() => stale);
    return raw !== stale ? true : undefined;
  });
  assert.equal(await status(a, cached.key), 401);
  assert.equal(await status(b, cached.key), 401);
  assert.equal(await status(a, fresh.key), 200);
  assert.equal(await status(b, fresh.key), 200);
});
