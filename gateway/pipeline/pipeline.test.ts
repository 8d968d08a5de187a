// The pipeline's steps with adapters that record what they are given: the
// order and the contracts a front end relies on (docs/architecture.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { MaasError } from '../../common/errors';
import { ANONYMOUS, type Principal } from '../inference/call';
import type { Authenticator } from './auth';
import type { Lease, Limiter } from './limits';
import { Pipeline, type PipelineOptions } from './pipeline';
import { parseTraceparent } from './tracing';
import type { UsageRecord, UsageSink } from './usage';

interface Recorded {
  lines: Array<Record<string, unknown>>;
  usage: UsageRecord[];
}

function pipeline(options: Partial<PipelineOptions> = {}): { p: Pipeline; seen: Recorded } {
  const seen: Recorded = { lines: [], usage: [] };
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        seen.lines.push(JSON.parse(line));
      },
    },
  );
  const usage: UsageSink = { record: (u) => seen.usage.push(u) };
  return { p: new Pipeline({ logger, usage, accessLogSampleEvery: 1, ...options }), seen };
}

const ALICE: Principal = { subject: 'key-alice', tenant: 'acme', roles: ['developer'] };

test('begin: a sane request id is echoed, anything else replaced; the trace context is read', () => {
  const { p } = pipeline();
  assert.equal(p.begin({ protocol: 'http', operation: 'infer', requestId: 'abc-123' }).requestId, 'abc-123');
  for (const bad of ['', 'has space', 'x'.repeat(201), 'ünï']) {
    assert.match(p.begin({ protocol: 'grpc', operation: 'infer', requestId: bad }).requestId, /^[0-9a-f-]{36}$/, bad);
  }
  const call = p.begin({
    protocol: 'http',
    operation: 'infer',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'k=v',
  });
  assert.deepEqual(call.trace, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    parentId: '00f067aa0ba902b7',
    sampled: true,
    state: 'k=v',
  });
  assert.equal(call.principal, ANONYMOUS);
});

test('traceparent: malformed, all-zero or version ff values are ignored', () => {
  for (const bad of [
    '',
    'junk',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
  ]) {
    assert.equal(parseTraceparent(bad), null, bad);
  }
  assert.equal(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future')?.sampled, false);
});

test('admit: synchronous adapters answer without a Promise; auth runs before limits and sees the credentials', async () => {
  const order: string[] = [];
  const authenticator: Authenticator = {
    authenticate: (credentials, call) => {
      order.push(`auth:${credentials}:${call.operation}`);
      return ALICE;
    },
  };
  const limiter: Limiter = {
    acquire: (call) => {
      order.push(`limits:${call.principal.subject}`);
      return { release: () => undefined };
    },
  };
  const { p } = pipeline({ authenticator, limiter });
  const call = p.begin({ protocol: 'http', operation: 'model_metadata', model: 'm' });
  assert.equal(p.admit(call, 'secret'), undefined);
  assert.deepEqual(order, ['auth:secret:model_metadata', 'limits:key-alice']);
  assert.equal(call.principal, ALICE);

  // Asynchronous adapters (a database, Redis): a Promise, same order.
  const slow: Authenticator = { authenticate: async () => ALICE };
  const slowLimits: Limiter = {
    acquire: async (c) => {
      order.push(`async-limits:${c.principal.subject}`);
      return { release: () => undefined };
    },
  };
  const { p: p2 } = pipeline({ authenticator: slow, limiter: slowLimits });
  const call2 = p2.begin({ protocol: 'grpc', operation: 'infer' });
  const admitted = p2.admit(call2, null);
  assert.ok(admitted instanceof Promise);
  await admitted;
  assert.equal(call2.principal, ALICE);
  assert.equal(order.at(-1), 'async-limits:key-alice');
});

test("admit refuses with the adapter's error; the limits step is not reached after a refused auth", async () => {
  let acquired = 0;
  const limiter: Limiter = {
    acquire: () => {
      acquired++;
      return { release: () => undefined };
    },
  };
  const refusing: Authenticator = {
    authenticate: () => {
      throw new MaasError('MODEL_NOT_FOUND', 'no such model for you');
    },
  };
  const { p } = pipeline({ authenticator: refusing, limiter });
  assert.throws(() => p.admit(p.begin({ protocol: 'http', operation: 'infer' }), 'k'), { code: 'MODEL_NOT_FOUND' });
  const rejecting: Authenticator = {
    authenticate: async () => {
      throw new MaasError('QUEUE_FULL', 'busy');
    },
  };
  const { p: p2 } = pipeline({ authenticator: rejecting, limiter });
  await assert.rejects(async () => p2.admit(p2.begin({ protocol: 'http', operation: 'infer' }), null), {
    code: 'QUEUE_FULL',
  });
  assert.equal(acquired, 0);
});

test('finish: the lease is released once with the inferences, usage recorded for inference, one access line', () => {
  const released: number[] = [];
  const lease: Lease = { release: (_call, inferences) => released.push(inferences) };
  const { p, seen } = pipeline({ limiter: { acquire: () => lease } });
  const call = p.begin({ protocol: 'http', operation: 'infer', requestId: 'r1', model: 'mlp', version: '2' });
  void p.admit(call, null);
  p.finish(call, { error: null, clientGone: false, inferences: 8 });
  assert.deepEqual(released, [8]);
  assert.equal(seen.usage.length, 1);
  const record = seen.usage[0];
  assert.match(record.id, /^[0-9a-f]{16}-[0-9]+$/);
  assert.ok(Math.abs(record.startedAtMs - Date.now()) < 60_000, 'startedAtMs is wall-clock time');
  assert.deepEqual(
    { ...record, id: '', startedAtMs: 0, durationUs: 0 },
    {
      id: '',
      requestId: 'r1',
      tenant: null,
      keyId: 'anonymous',
      model: 'mlp',
      version: '2',
      protocol: 'http',
      inferences: 8,
      inputBytes: 0,
      outputBytes: 0,
      queueUs: 0,
      computeUs: 0,
      status: 'OK',
      startedAtMs: 0,
      durationUs: 0,
    },
  );
  assert.equal(seen.lines.length, 1);
  assert.equal(seen.lines[0].requestId, 'r1');
  assert.equal(seen.lines[0].status, 200);
  const meta = p.begin({ protocol: 'http', operation: 'model_metadata', model: 'mlp' });
  void p.admit(meta, null);
  p.finish(meta, { error: null, clientGone: false, inferences: 0 });
  assert.equal(seen.usage.length, 1, 'only inference calls are metered');
  // A caller reusing its request id still gets a record id of its own.
  const again = p.begin({ protocol: 'http', operation: 'infer', requestId: 'r1', model: 'mlp' });
  void p.admit(again, null);
  p.finish(again, { error: null, clientGone: false, inferences: 1 });
  assert.equal(seen.usage.length, 2);
  assert.notEqual(seen.usage[1].id, record.id);
  assert.equal(seen.usage[1].requestId, 'r1');
  const refused = p.begin({ protocol: 'http', operation: 'infer', model: 'mlp' });
  p.finish(refused, { error: p.fail(new MaasError('UNAUTHENTICATED', 'no key')), clientGone: false, inferences: 0 });
  assert.equal(seen.usage.length, 2, 'a call nobody can be billed for leaves no record');
});

test('access log: one success in N, every failure; 5xx at error level with the original error, the request id always', () => {
  const { p, seen } = pipeline({ accessLogSampleEvery: 3 });
  for (let i = 0; i < 9; i++) {
    const call = p.begin({ protocol: 'http', operation: 'infer', requestId: `ok-${i}` });
    p.finish(call, { error: null, clientGone: false, inferences: 1 });
  }
  assert.deepEqual(
    seen.lines.map((l) => l.requestId),
    ['ok-2', 'ok-5', 'ok-8'],
  );
  seen.lines.length = 0;
  const bad = p.begin({ protocol: 'http', operation: 'infer', requestId: 'bad' });
  p.finish(bad, { error: p.fail(new MaasError('INVALID_SHAPE', 'wrong')), clientGone: false, inferences: 0 });
  const boom = p.begin({ protocol: 'grpc', operation: 'infer', requestId: 'boom' });
  const cause = new Error('secret detail');
  const mapped = p.fail(cause);
  assert.equal(mapped.code, 'INTERNAL');
  assert.doesNotMatch(mapped.message, /secret/);
  p.finish(boom, { error: mapped, clientGone: false, inferences: 0 }, cause);
  const gone = p.begin({ protocol: 'http', operation: 'infer', requestId: 'gone' });
  p.finish(gone, { error: null, clientGone: true, inferences: 1 });
  assert.deepEqual(
    seen.lines.map((l) => [l.requestId, l.status, l.code, l.level]),
    [
      ['bad', 400, 'INVALID_SHAPE', 30],
      ['boom', 500, 'INTERNAL', 50],
      ['gone', 499, undefined, 30],
    ],
  );
  assert.match(JSON.stringify(seen.lines[1].err), /secret detail/, 'the log keeps what the client does not see');
  const { p: silent, seen: none } = pipeline({ accessLogSampleEvery: 0 });
  silent.finish(silent.begin({ protocol: 'http', operation: 'infer' }), {
    error: null,
    clientGone: false,
    inferences: 1,
  });
  assert.equal(none.lines.length, 0);
});

test('errors map to HTTP and gRPC statuses from the one registry; engine codes are kept', () => {
  const { p } = pipeline();
  const engine = p.fail(Object.assign(new Error('bad feed'), { code: 'ENGINE_INVALID_ARGUMENT' }));
  assert.deepEqual(
    [engine.code, engine.httpStatus, engine.grpcStatus, engine.message],
    ['ENGINE_INVALID_ARGUMENT', 400, 3, 'bad feed'],
  );
  const full = p.fail(new MaasError('QUEUE_FULL', 'full'));
  assert.deepEqual([full.httpStatus, full.grpcStatus], [503, 14]);
  assert.equal(p.fail(Object.assign(new Error('x'), { code: 'INTERNAL' })).message, 'an unexpected failure');
});
