// The pure decisions of the limits step on a virtual clock (docs/limits.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  capacityOf,
  charge,
  effectiveLimits,
  leaseBlock,
  newBucket,
  NO_LIMITS,
  parseLimits,
  quotaBlock,
  quotaPeriod,
  rateLimitHeaders,
  retryAfterSecs,
  take,
} from './policy';

test('a bucket refills at its rate up to its capacity, all or none per take', () => {
  const b = newBucket(5, 0);
  for (let i = 0; i < 5; i++) assert.equal(take(b, 10, 5, 1, 1, 0).granted, 1);
  const refused = take(b, 10, 5, 1, 1, 0);
  assert.equal(refused.granted, 0);
  assert.equal(refused.waitMs, 100); // one token at 10/s
  assert.equal(take(b, 10, 5, 1, 1, 99).granted, 0);
  assert.equal(take(b, 10, 5, 1, 1, 100).granted, 1);
  // A long idle time fills it to capacity, not beyond.
  assert.equal(take(b, 10, 5, 1, 100, 60_000).granted, 5);
  // need 3 with 2 there: none taken.
  const c = newBucket(2, 0);
  assert.deepEqual(take(c, 1, 2, 3, 3, 0), { granted: 0, remaining: 2, waitMs: 1000 });
  assert.equal(take(c, 1, 2, 2, 2, 0).granted, 2);
});

test('over 10 virtual seconds a bucket admits rate × time + capacity', () => {
  const b = newBucket(20, 0);
  let admitted = 0;
  for (let ms = 0; ms <= 10_000; ms += 1) admitted += take(b, 50, 20, 1, 1, ms).granted;
  assert.equal(admitted, 50 * 10 + 20);
});

test('a settlement is debt the next admissions wait for; a refund is capped at capacity', () => {
  const b = newBucket(10, 0);
  assert.equal(take(b, 10, 10, 1, 1, 0).granted, 1);
  charge(b, 10, 10, 15, 0); // a batch of 16 counted 1 at admission
  assert.equal(b.tokens, -6);
  const refused = take(b, 10, 10, 1, 1, 0);
  assert.equal(refused.waitMs, 700);
  assert.equal(take(b, 10, 10, 1, 1, 700).granted, 1);
  charge(b, 10, 10, -100, 700);
  assert.equal(b.tokens, 10);
});

test('capacity defaults to one second of the rate', () => {
  assert.equal(capacityOf(50, null), 50);
  assert.equal(capacityOf(0.5, null), 1);
  assert.equal(capacityOf(50, 7), 7);
});

test('lease blocks stay small against the limit; quota blocks shrink to 1 near the end', () => {
  assert.equal(leaseBlock(100, 100, 2, 1), 2); // 5% of a second split by 2 replicas
  assert.equal(leaseBlock(10, 10, 2, 1), 1);
  assert.equal(leaseBlock(1e6, 1e6, 1, 1), 1000);
  assert.equal(leaseBlock(1e6, 4, 1, 1), 2); // never more than half the bucket
  assert.equal(quotaBlock(1_000_000, 2, 1), 1000);
  assert.equal(quotaBlock(150, 1, 1), 1);
  assert.equal(quotaBlock(0, 1, 1), 1);
});

test('effective limits: the tighter of tenant and key per field', () => {
  const tenant = { ...NO_LIMITS, requestsPerSecond: 100, monthlyInferences: 1000 };
  const key = { ...NO_LIMITS, requestsPerSecond: 10, concurrentRequests: 4, monthlyInferences: 5000 };
  assert.deepEqual(effectiveLimits(tenant, key), {
    requestsPerSecond: 10,
    burst: null,
    inferencesPerSecond: null,
    concurrentRequests: 4,
    monthlyInferences: 1000,
  });
  assert.equal(effectiveLimits(tenant, undefined), tenant);
});

test('parseLimits takes any subset, null removes, and refuses bad values', () => {
  assert.deepEqual(parseLimits({ requestsPerSecond: 2.5, burst: null }), { requestsPerSecond: 2.5, burst: null });
  assert.deepEqual(parseLimits({}), {});
  assert.throws(() => parseLimits({ burst: 1.5 }), /'burst' must be a positive integer/);
  assert.throws(() => parseLimits({ requestsPerSecond: 0 }), /positive number/);
  assert.throws(() => parseLimits({ concurrentRequests: '4' }), /positive integer/);
  assert.throws(() => parseLimits({ monthlyInferences: -1 }), /positive integer/);
  assert.throws(() => parseLimits({ rps: 4 }), /unknown field 'rps'/);
});

test('the quota period is the calendar month in UTC', () => {
  const p = quotaPeriod(Date.UTC(2026, 1, 28, 23, 59, 59)); // February 2026
  assert.equal(p.id, '2026-02');
  assert.equal(p.endsMs, Date.UTC(2026, 2, 1));
  assert.equal(p.lengthSecs, 28 * 86_400);
  assert.equal(quotaPeriod(Date.UTC(2026, 11, 31, 23, 59, 59, 999)).id, '2026-12');
  assert.equal(quotaPeriod(Date.UTC(2027, 0, 1)).id, '2027-01');
});

test('RateLimit-Policy and RateLimit are structured-field lists of the draft', () => {
  const headers = rateLimitHeaders([
    { name: 'requests', quota: 20, windowSecs: 2, unit: null, remaining: 19.6, resetSecs: 0.05 },
    { name: 'concurrency', quota: 4, windowSecs: null, unit: 'concurrent-requests', remaining: 1, resetSecs: 0 },
    { name: 'monthly', quota: 1000, windowSecs: 2_592_000, unit: null, remaining: 10, resetSecs: 86_399.2 },
  ]);
  assert.deepEqual(headers, [
    ['RateLimit-Policy', '"requests";q=20;w=2, "concurrency";q=4;qu="concurrent-requests", "monthly";q=1000;w=2592000'],
    ['RateLimit', '"requests";r=19;t=1, "concurrency";r=1;t=0, "monthly";r=10;t=86400'],
  ]);
  assert.deepEqual(rateLimitHeaders([]), []);
  assert.equal(retryAfterSecs(0), 1);
  assert.equal(retryAfterSecs(1001), 2);
});
