// ioredis against the real redis-server the test runner starts
// (docs/testing.md): what limits and caches will rely on (issue 9) — keys
// with a TTL that really expire, an atomic Lua script, and pub/sub between
// two connections (revocations reaching every replica).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { testServices, uniqueName } from '../support/services';

let redis: Redis;
let prefix: string;

before(() => {
  redis = new Redis(testServices().redisUrl);
  prefix = uniqueName('redis-smoke');
});

after(() => {
  redis?.disconnect();
});

test('a key set with a TTL reads back, then expires', async () => {
  const key = `${prefix}:ttl`;
  assert.equal(await redis.set(key, 'v1', 'PX', 150), 'OK');
  assert.equal(await redis.get(key), 'v1');
  const ttl = await redis.pttl(key);
  assert.ok(ttl > 0 && ttl <= 150, `pttl ${ttl}`);
  await sleep(300);
  assert.equal(await redis.get(key), null);
  assert.equal(await redis.pttl(key), -2);
});

test('a Lua script runs atomically: a counter that stops at its limit', async () => {
  // Increments KEYS[1] unless that would pass ARGV[1]; returns the new value or -1.
  redis.defineCommand('takeUpTo', {
    numberOfKeys: 1,
    lua: "local n = tonumber(redis.call('GET', KEYS[1]) or '0') if n >= tonumber(ARGV[1]) then return -1 end return redis.call('INCR', KEYS[1])",
  });
  const take = (redis as unknown as { takeUpTo(key: string, limit: number): Promise<number> }).takeUpTo.bind(redis);
  const key = `${prefix}:bucket`;
  const results = await Promise.all(Array.from({ length: 8 }, () => take(key, 5)));
  assert.deepEqual(results.filter((r) => r > 0).sort(), [1, 2, 3, 4, 5]);
  assert.equal(results.filter((r) => r === -1).length, 3);
  assert.equal(await redis.get(key), '5');
});

test('a message published on one connection reaches a subscriber on another', async () => {
  const subscriber = new Redis(testServices().redisUrl);
  try {
    const channel = `${prefix}:events`;
    const received = new Promise<[string, string]>((resolve) =>
      subscriber.once('message', (ch: string, msg: string) => resolve([ch, msg])),
    );
    assert.equal(await subscriber.subscribe(channel), 1);
    assert.equal(await redis.publish(channel, 'key-revoked:42'), 1);
    assert.deepEqual(await received, [channel, 'key-revoked:42']);
  } finally {
    subscriber.disconnect();
  }
});
