// The limiter over in-process counters on a virtual clock: codes, headers,
// undo of earlier checks, batch settlement, quota and concurrency.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MaasError } from '../common/errors';
import type { CallContext, Operation } from '../gateway/inference/call';
import type { Lease } from '../gateway/pipeline/limits';
import { LocalCounters } from './counters';
import { TenantLimiter } from './limiter';
import { NO_LIMITS, type Limits } from './policy';

function setup(tenant: Partial<Limits> | undefined, key?: Partial<Limits>) {
  let nowMs = Date.UTC(2026, 10, 26, 12);
  const clock = () => nowMs;
  // One object per setting, as the settings copy holds them.
  const tenantLimits = tenant ? { ...NO_LIMITS, ...tenant } : undefined;
  const keyLimits = key ? { ...NO_LIMITS, ...key } : undefined;
  const settings = {
    tenant: (name: string) => (name === 'acme' ? tenantLimits : undefined),
    keyOf: (subject: string) => (subject === 'key:k1' && keyLimits ? keyLimits : undefined),
  };
  const limiter = new TenantLimiter(new LocalCounters(clock), settings, clock);
  return { limiter, advance: (ms: number) => (nowMs += ms) };
}

function call(operation: Operation = 'infer', subject = 'key:k1', tenant: string | null = 'acme'): CallContext {
  return {
    requestId: 'r',
    protocol: 'http',
    operation,
    startedMs: 0,
    model: 'm',
    version: undefined,
    principal: { subject, tenant, roles: ['viewer'] },
    trace: null,
    deadlineMs: 0,
    responseHeaders: null,
  };
}

function admit(limiter: TenantLimiter, c = call()): Lease {
  const lease = limiter.acquire(c);
  assert.ok(!(lease instanceof Promise), 'in-process counters answer synchronously');
  return lease;
}

function refusal(limiter: TenantLimiter, c = call()): MaasError {
  try {
    const lease = limiter.acquire(c);
    assert.ok(!(lease instanceof Promise), 'in-process counters answer synchronously');
  } catch (err) {
    assert.ok(err instanceof MaasError);
    return err;
  }
  assert.fail('admitted');
}

const header = (c: CallContext, name: string) => c.responseHeaders?.find(([n]) => n === name)?.[1];

test('a request rate: burst admitted, then RATE_LIMITED with Retry-After and RateLimit headers', () => {
  const { limiter, advance } = setup({ requestsPerSecond: 2, burst: 3 });
  for (let i = 0; i < 3; i++) admit(limiter).release(call(), 1);
  const c = call();
  const err = refusal(limiter, c);
  assert.equal(err.code, 'RATE_LIMITED');
  assert.equal(err.httpStatus, 429);
  assert.equal(err.grpcStatus, 8);
  assert.equal(header(c, 'Retry-After'), '1');
  assert.equal(header(c, 'RateLimit-Policy'), '"requests";q=3;w=2');
  assert.equal(header(c, 'RateLimit'), '"requests";r=0;t=1');
  advance(500);
  const ok = call();
  admit(limiter, ok);
  assert.equal(header(ok, 'RateLimit'), '"requests";r=0;t=2');
});

test('calls without limits, without a tenant, or not inference get no headers and no refusal', () => {
  const { limiter } = setup({ requestsPerSecond: 1, burst: 1 });
  for (let i = 0; i < 5; i++) {
    const meta = call('model_metadata');
    admit(limiter, meta);
    assert.equal(meta.responseHeaders, null);
    admit(limiter, call('infer', 'key:admin', null));
    admit(limiter, call('infer', 'key:other', 'other-tenant'));
  }
});

test('a refusal by a later check gives back what the earlier checks took', () => {
  const { limiter } = setup({ requestsPerSecond: 1, burst: 5, concurrentRequests: 10 }, { monthlyInferences: 1 });
  admit(limiter).release(call(), 1);
  assert.equal(refusal(limiter).code, 'QUOTA_EXCEEDED');
  assert.equal(refusal(limiter).code, 'QUOTA_EXCEEDED');
  // The two refusals took no request tokens: 3 of the 5 are left for another key.
  for (let i = 0; i < 4; i++) admit(limiter, call('infer', 'key:k2')).release(call(), 1);
  assert.equal(refusal(limiter, call('infer', 'key:k2')).code, 'RATE_LIMITED');
});

test('concurrency: at most N leases at once; a release frees a slot', () => {
  const { limiter } = setup({ concurrentRequests: 2 });
  const a = admit(limiter);
  const b = admit(limiter);
  const c = call();
  assert.equal(refusal(limiter, c).code, 'CONCURRENCY_LIMITED');
  assert.equal(header(c, 'RateLimit-Policy'), '"concurrency";q=2;qu="concurrent-requests"');
  a.release(call(), 1);
  a.release(call(), 1); // a second release changes nothing
  const d = admit(limiter);
  assert.equal(refusal(limiter).code, 'CONCURRENCY_LIMITED');
  b.release(call(), 0);
  d.release(call(), 0);
  admit(limiter);
  admit(limiter);
});

test('a monthly quota stops exactly at its value, counts batches, refunds calls that served none, resets next month', () => {
  const { limiter, advance } = setup({ monthlyInferences: 10 });
  admit(limiter).release(call(), 4); // a batch of 4
  admit(limiter).release(call(), 0); // failed: refunded
  for (let i = 0; i < 6; i++) admit(limiter).release(call(), 1);
  const c = call();
  assert.equal(refusal(limiter, c).code, 'QUOTA_EXCEEDED');
  assert.match(header(c, 'RateLimit') ?? '', /^"monthly";r=0;t=\d+$/);
  assert.equal(Number(header(c, 'Retry-After')), 4 * 86_400 + 12 * 3600); // until 1 December 00:00 UTC
  advance(5 * 86_400_000);
  admit(limiter).release(call(), 1);
});

test('inferences per second: a batch is settled at release and delays the next call', () => {
  const { limiter, advance } = setup({ inferencesPerSecond: 10 });
  admit(limiter).release(call(), 10); // the whole bucket
  assert.equal(refusal(limiter).code, 'RATE_LIMITED');
  advance(100);
  admit(limiter).release(call(), 1);
  assert.equal(refusal(limiter).code, 'RATE_LIMITED');
});

test("a key's limits narrow its tenant's; the tenant's bucket is shared by its keys", () => {
  const { limiter } = setup({ requestsPerSecond: 1, burst: 4 }, { requestsPerSecond: 1, burst: 2 });
  admit(limiter);
  admit(limiter);
  const c = call();
  assert.equal(refusal(limiter, c).code, 'RATE_LIMITED');
  assert.match(header(c, 'RateLimit-Policy') ?? '', /"requests";q=4;w=4, "key-requests";q=2;w=2/);
  admit(limiter, call('infer', 'key:k2'));
  admit(limiter, call('infer', 'key:k2'));
  assert.equal(refusal(limiter, call('infer', 'key:k2')).code, 'RATE_LIMITED');
});
