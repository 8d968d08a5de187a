// The Redis counters against a real redis-server (the shared test one): a
// busy bucket costs one script call per leased block, not per request; a
// quota leased in blocks still ends exactly; with Redis unreachable the
// counters answer locally (degraded) or refuse with LIMITS_UNAVAILABLE.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Redis from 'ioredis';
import { MaasError } from '../common/errors';
import { createLogger } from '../common/logger';
import { freePorts } from '../test/support/services/server';
import { testServices } from '../test/support/services';
import { RedisCounters } from './redis';

const logger = createLogger('silent');

async function scriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(m[1]);
  return calls;
}

test('a busy bucket leases blocks: 5000 admissions cost a handful of Redis calls', async () => {
  const url = testServices().redisUrl;
  const redis = new Redis(url);
  const counters = new RedisCounters({ url, logger });
  try {
    await counters.ready();
    const key = `test:${Date.now()}:busy`;
    const before = await scriptCalls(redis);
    let granted = 0;
    for (let i = 0; i < 5000; i++) {
      const r = await counters.take(key, 1e6, 1e6, 1);
      granted += r.granted;
    }
    const calls = (await scriptCalls(redis)) - before;
    assert.equal(granted, 5000);
    assert.ok(calls <= 20, `${calls} script calls`); // blocks of 1000, plus heartbeats
    assert.equal(counters.degraded, false);
  } finally {
    redis.disconnect();
    await counters.close();
  }
});

test('a large quota leased in blocks ends exactly at its value', async () => {
  const url = testServices().redisUrl;
  const counters = new RedisCounters({ url, logger });
  try {
    await counters.ready();
    const key = `test:${Date.now()}:quota`;
    let granted = 0;
    for (let i = 0; i < 25_000; i++) granted += (await counters.quotaTake(key, 20_000, 1, 3600)).granted;
    assert.equal(granted, 20_000);
  } finally {
    await counters.close();
  }
});

test('Redis unreachable: local answers in degraded mode, or LIMITS_UNAVAILABLE when failing closed', async () => {
  const [port] = await freePorts(1);
  const url = `redis://127.0.0.1:${port}`;
  const changes: boolean[] = [];
  const open = new RedisCounters({ url, logger, onDegraded: (on) => changes.push(on) });
  const closed = new RedisCounters({ url, logger, failClosed: true });
  try {
    await Promise.all([open.ready(), closed.ready()]);
    assert.equal(open.degraded, true);
    assert.deepEqual(changes, [true]); // reported once
    let granted = 0;
    for (let i = 0; i < 10; i++) granted += (await open.take('k', 1, 5, 1)).granted;
    assert.equal(granted, 5, 'the local bucket at this replica’s share (one live replica known)');
    assert.equal(await open.enter('c', 1), true);
    assert.equal(await open.enter('c', 1), false);
    open.leave('c');
    assert.equal(await open.enter('c', 1), true);
    assert.throws(
      () => closed.take('k', 1, 5, 1),
      (err: unknown) => err instanceof MaasError && err.code === 'LIMITS_UNAVAILABLE' && err.httpStatus === 503,
    );
  } finally {
    await open.close();
    await closed.close();
  }
});
