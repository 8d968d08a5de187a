import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaasError } from '../../common/errors';
import { Cancellation } from '../inference/cancel';
import { DynamicBatcher, type DynamicBatcherOptions, type ExecuteBatch } from './batcher';
import { VirtualClock } from './virtual-clock';

// Lets promise continuations (execute results, rejections) run.
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// An execute whose batches stay in flight until the test finishes them.
function controlledExecute() {
  const calls: { batch: string[]; instanceIndex: number; done: Deferred<string[]> }[] = [];
  const execute: ExecuteBatch<string, string> = (batch, instanceIndex) => {
    const done = deferred<string[]>();
    calls.push({ batch, instanceIndex, done });
    return done.promise;
  };
  const finish = (i: number) => calls[i].done.resolve(calls[i].batch.map((r) => `out:${r}`));
  return { calls, execute, finish };
}

// An execute that answers at once, recording each batch.
function echoExecute() {
  const batches: string[][] = [];
  const execute: ExecuteBatch<string, string> = async (batch) => {
    batches.push(batch);
    return batch.map((r) => `out:${r}`);
  };
  return { batches, execute };
}

function makeBatcher<TRes>(options: Partial<DynamicBatcherOptions>, execute: ExecuteBatch<string, TRes>) {
  const clock = new VirtualClock();
  const batcher = new DynamicBatcher<string, TRes>(
    { maxBatchSize: 8, maxQueueDelayUs: 100, clock, ...options },
    execute,
  );
  return { clock, batcher };
}

const one = { batchSize: 1, shapeKey: 'A' };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MaasError, `expected a MaasError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected a rejection');
}

test('requests submitted within the delay run as one batch', async () => {
  const { batches, execute } = echoExecute();
  const { clock, batcher } = makeBatcher({}, execute);
  const a = batcher.submit('a', one);
  clock.advance(30);
  const b = batcher.submit('b', one);
  clock.advance(30);
  const c = batcher.submit('c', one);
  clock.advance(39); // 99 us after the first: not yet
  await flush();
  assert.equal(batches.length, 0);
  assert.equal(batcher.pendingCount, 3);
  clock.advance(1);
  await flush();
  assert.deepEqual(batches, [['a', 'b', 'c']]);
  assert.deepEqual(await a, { result: 'out:a', queueUs: 100, batchSize: 3 });
  assert.deepEqual(await b, { result: 'out:b', queueUs: 70, batchSize: 3 });
  assert.deepEqual(await c, { result: 'out:c', queueUs: 40, batchSize: 3 });
  assert.equal(clock.pendingTimerCount, 0);
});

test('reaching maxBatchSize sends at once, without waiting for the delay', async () => {
  const { batches, execute } = echoExecute();
  const { batcher } = makeBatcher({ maxBatchSize: 4 }, execute);
  const results = ['a', 'b', 'c', 'd'].map((r) => batcher.submit(r, one));
  await flush();
  assert.deepEqual(batches, [['a', 'b', 'c', 'd']]);
  assert.deepEqual(
    (await Promise.all(results)).map((r) => r.batchSize),
    [4, 4, 4, 4],
  );
});

test('the delay expiring sends a partial batch; later requests form the next one', async () => {
  const { batches, execute } = echoExecute();
  const { clock, batcher } = makeBatcher({ maxBatchSize: 4, preferredBatchSizes: [4] }, execute);
  const first = [batcher.submit('a', one), batcher.submit('b', one)];
  clock.advance(100);
  await flush();
  assert.deepEqual(batches, [['a', 'b']]);
  assert.deepEqual(
    (await Promise.all(first)).map((r) => r.batchSize),
    [2, 2],
  );
  const c = batcher.submit('c', { batchSize: 3, shapeKey: 'A' });
  clock.advance(100);
  await flush();
  assert.deepEqual(batches, [['a', 'b'], ['c']]);
  assert.equal((await c).batchSize, 3);
});

test('requests of different shapes are not batched together', async () => {
  const { batches, execute } = echoExecute();
  const { clock, batcher } = makeBatcher({}, execute);
  const all = [
    batcher.submit('a1', { batchSize: 1, shapeKey: 'A' }),
    batcher.submit('a2', { batchSize: 1, shapeKey: 'A' }),
    batcher.submit('b1', { batchSize: 1, shapeKey: 'B' }),
  ];
  await flush();
  assert.deepEqual(batches, [['a1', 'a2']]); // the mismatch sends A at once
  clock.advance(100);
  await flush();
  assert.deepEqual(batches, [['a1', 'a2'], ['b1']]);
  await Promise.all(all);
});

test('a request larger than maxBatchSize is refused with INVALID_SHAPE', async () => {
  const { batches, execute } = echoExecute();
  const { batcher } = makeBatcher({ maxBatchSize: 4 }, execute);
  assert.equal(await codeOf(batcher.submit('big', { batchSize: 5, shapeKey: 'A' })), 'INVALID_SHAPE');
  assert.equal(await codeOf(batcher.submit('zero', { batchSize: 0, shapeKey: 'A' })), 'INVALID_SHAPE');
  assert.equal(batcher.pendingCount, 0);
  assert.equal(batches.length, 0);
});

test('a full queue rejects at once with QUEUE_FULL (503) while earlier requests succeed', async () => {
  const { batches, execute } = echoExecute();
  const { clock, batcher } = makeBatcher({ maxQueueSize: 2 }, execute);
  const a = batcher.submit('a', one);
  const b = batcher.submit('b', one);
  const c = batcher.submit('c', one);
  await assert.rejects(c, (err: unknown) => {
    assert.ok(err instanceof MaasError);
    assert.equal(err.code, 'QUEUE_FULL');
    assert.equal(err.httpStatus, 503);
    assert.match(err.message, /exceeds maximum queue size/);
    return true;
  });
  assert.equal(batcher.pendingCount, 2);
  clock.advance(100);
  await flush();
  assert.deepEqual(batches, [['a', 'b']]);
  assert.equal((await a).result, 'out:a');
  assert.equal((await b).result, 'out:b');
});

test('the queue limit counts queued requests, not executing ones', async () => {
  const { calls, execute, finish } = controlledExecute();
  const { batcher } = makeBatcher({ maxQueueSize: 1, maxQueueDelayUs: 0 }, execute);
  const a = batcher.submit('a', one); // runs at once
  assert.equal(calls.length, 1);
  const b = batcher.submit('b', one); // queued: the only instance is busy
  assert.equal(await codeOf(batcher.submit('c', one)), 'QUEUE_FULL');
  finish(0);
  await flush();
  finish(1);
  assert.equal((await a).result, 'out:a');
  assert.equal((await b).result, 'out:b');
});

test('a request whose timeout expires in the queue is rejected QUEUE_TIMEOUT and never executed', async () => {
  const { batches, execute } = echoExecute();
  const { clock, batcher } = makeBatcher({ maxQueueDelayUs: 500 }, execute);
  const short = codeOf(batcher.submit('short', { ...one, timeoutUs: 50 }));
  const long = batcher.submit('long', one);
  clock.advance(50); // the timer fires at the deadline, before the batch delay
  assert.equal(batcher.pendingCount, 1);
  assert.equal(await short, 'QUEUE_TIMEOUT');
  clock.advance(450);
  await flush();
  assert.deepEqual(batches, [['long']]);
  assert.equal((await long).result, 'out:long');
});

test('a request that times out while every instance is busy never reaches execute', async () => {
  const { calls, execute, finish } = controlledExecute();
  const { clock, batcher } = makeBatcher({ maxQueueDelayUs: 0 }, execute);
  const first = batcher.submit('first', one);
  const waiting = codeOf(batcher.submit('waiting', { ...one, timeoutUs: 200 }));
  clock.advance(200);
  assert.equal(await waiting, 'QUEUE_TIMEOUT');
  finish(0);
  await first;
  await flush();
  assert.deepEqual(
    calls.map((c) => c.batch),
    [['first']],
  );
});

test('timeouts: the default applies, a request may only shorten it, and override can be disabled', async () => {
  const cases: { options: Partial<DynamicBatcherOptions>; timeoutUs: number; expiresAtUs: number }[] = [
    { options: { defaultTimeoutUs: 100 }, timeoutUs: 0, expiresAtUs: 100 },
    { options: { defaultTimeoutUs: 100 }, timeoutUs: 40, expiresAtUs: 40 },
    { options: { defaultTimeoutUs: 100 }, timeoutUs: 300, expiresAtUs: 100 }, // cannot lengthen
    { options: { defaultTimeoutUs: 0 }, timeoutUs: 40, expiresAtUs: 40 },
    { options: { defaultTimeoutUs: 100, allowTimeoutOverride: false }, timeoutUs: 40, expiresAtUs: 100 },
  ];
  for (const { options, timeoutUs, expiresAtUs } of cases) {
    const { execute } = controlledExecute();
    const { clock, batcher } = makeBatcher({ maxQueueDelayUs: 0, ...options }, execute);
    void batcher.submit('busy', one); // occupies the only instance, never finishes
    const probe = codeOf(batcher.submit('probe', { ...one, timeoutUs }));
    clock.advance(expiresAtUs - 1);
    assert.equal(batcher.pendingCount, 1, `still queued just before ${expiresAtUs} us (${JSON.stringify(options)})`);
    clock.advance(1);
    assert.equal(batcher.pendingCount, 0, `expired at ${expiresAtUs} us (${JSON.stringify(options)})`);
    assert.equal(await probe, 'QUEUE_TIMEOUT');
  }
});

test('a later priority-1 request runs before earlier priority-2 ones; FIFO within a level', async () => {
  const { calls, execute, finish } = controlledExecute();
  const { batcher } = makeBatcher(
    { maxBatchSize: 1, maxQueueDelayUs: 0, priorityLevels: 2, defaultPriorityLevel: 2 },
    execute,
  );
  const all = [
    batcher.submit('blocker', one), // runs at once
    batcher.submit('low1', { ...one, priority: 2 }),
    batcher.submit('low2', { ...one }), // priority 0: the default level, 2
    batcher.submit('high1', { ...one, priority: 1 }),
    batcher.submit('high2', { ...one, priority: 1 }),
  ];
  for (let i = 0; i < 5; i++) {
    await flush();
    finish(i);
  }
  await Promise.all(all);
  assert.deepEqual(
    calls.map((c) => c.batch[0]),
    ['blocker', 'high1', 'high2', 'low1', 'low2'],
  );
});

// Counts who listens, to show the batcher lets go once a request leaves the queue.
class CountingCancellation extends Cancellation {
  listening = 0;
  override subscribe(listener: Parameters<Cancellation['subscribe']>[0]): void {
    this.listening++;
    super.subscribe(listener);
  }
  override unsubscribe(listener: Parameters<Cancellation['unsubscribe']>[0]): void {
    this.listening--;
    super.unsubscribe(listener);
  }
}

test('a cancelled request leaves the queue: CANCELLED, never executed', async () => {
  const { batches, execute } = echoExecute();
  const { clock, batcher } = makeBatcher({}, execute);
  const controller = new Cancellation();
  const cancelled = codeOf(batcher.submit('cancelled', { ...one, cancel: controller }));
  const kept = batcher.submit('kept', one);
  controller.cancel('client went away');
  assert.equal(batcher.pendingCount, 1);
  assert.equal(await cancelled, 'CANCELLED');
  clock.advance(100);
  await flush();
  assert.deepEqual(batches, [['kept']]);
  await kept;
  // A request already cancelled never enters the queue.
  const gone = new Cancellation();
  gone.cancel('gone');
  assert.equal(await codeOf(batcher.submit('late', { ...one, cancel: gone })), 'CANCELLED');
});

test('cancelling a request that is already executing does not interrupt it', async () => {
  const { execute, finish } = controlledExecute();
  const { batcher } = makeBatcher({ maxQueueDelayUs: 0 }, execute);
  const controller = new CountingCancellation();
  const running = batcher.submit('running', { ...one, cancel: controller });
  assert.equal(batcher.inFlightCount, 1);
  // The batcher stops listening once the request leaves the queue (long-lived signals do not leak).
  assert.equal(controller.listening, 0);
  controller.cancel('client went away');
  finish(0);
  assert.equal((await running).result, 'out:running');
});

test('instanceCount 2 runs two batches at once; requests piling up form the next batch', async () => {
  const { calls, execute, finish } = controlledExecute();
  const { batcher } = makeBatcher({ maxQueueDelayUs: 0, instanceCount: 2 }, execute);
  const all = [batcher.submit('a', one), batcher.submit('b', one), batcher.submit('c', one), batcher.submit('d', one)];
  assert.equal(batcher.inFlightCount, 2);
  assert.deepEqual(
    calls.map((c) => [c.batch, c.instanceIndex]),
    [
      [['a'], 0],
      [['b'], 1],
    ],
  );
  assert.equal(batcher.pendingCount, 2);
  finish(1);
  await flush();
  assert.deepEqual(calls[2].batch, ['c', 'd']); // both waited for a free instance
  assert.equal(calls[2].instanceIndex, 1);
  finish(0);
  finish(2);
  await Promise.all(all);
  assert.equal(batcher.inFlightCount, 0);
});

test('instanceCount 1 runs strictly one batch at a time', async () => {
  let active = 0;
  let maxActive = 0;
  const gates: Deferred<void>[] = [];
  const execute: ExecuteBatch<string, string> = async (batch) => {
    active += 1;
    maxActive = Math.max(maxActive, active);
    const gate = deferred<void>();
    gates.push(gate);
    await gate.promise;
    active -= 1;
    return batch;
  };
  const { batcher } = makeBatcher({ maxBatchSize: 2, maxQueueDelayUs: 0 }, execute);
  const all = ['a', 'b', 'c', 'd', 'e'].map((r) => batcher.submit(r, one));
  for (let i = 0; gates.length > i || batcher.pendingCount > 0; i++) {
    assert.equal(batcher.inFlightCount, 1);
    gates[i].resolve();
    await flush();
  }
  await Promise.all(all);
  assert.equal(maxActive, 1);
  assert.equal(gates.length, 3); // [a] then [b,c] then [d,e]
});

test('an execute failure rejects every request of that batch only', async () => {
  const boom = new Error('engine exploded');
  const seen: string[][] = [];
  const execute: ExecuteBatch<string, string> = async (batch) => {
    seen.push(batch);
    if (batch.includes('bad')) throw boom;
    return batch;
  };
  const { clock, batcher } = makeBatcher({ maxBatchSize: 2 }, execute);
  // full: runs at once. Handlers attach now, so no rejection goes unhandled.
  const bad = Promise.allSettled([batcher.submit('bad', one), batcher.submit('mate', one)]);
  const good = batcher.submit('good', one);
  clock.advance(100);
  await flush();
  assert.deepEqual(await bad, [
    { status: 'rejected', reason: boom },
    { status: 'rejected', reason: boom },
  ]);
  assert.equal((await good).result, 'good');
  assert.deepEqual(seen, [['bad', 'mate'], ['good']]);
});

test('an execute that throws synchronously or returns the wrong count fails its batch', async () => {
  const { batcher: throwing } = makeBatcher({ maxQueueDelayUs: 0 }, () => {
    throw new Error('sync');
  });
  await assert.rejects(throwing.submit('x', one), /sync/);
  assert.equal(throwing.inFlightCount, 0);
  const { batcher: short } = makeBatcher({ maxQueueDelayUs: 0 }, async () => []);
  assert.equal(await codeOf(short.submit('x', one)), 'INTERNAL');
});

test('close: refuses new work, sends queued work without waiting, resolves when drained', async () => {
  const { calls, execute, finish } = controlledExecute();
  const { clock, batcher } = makeBatcher({ maxQueueDelayUs: 1000 }, execute);
  const queued = [batcher.submit('a', one), batcher.submit('b', one)];
  let closed = false;
  const closing = batcher.close(5000).then(() => (closed = true));
  assert.deepEqual(
    calls.map((c) => c.batch),
    [['a', 'b']],
  ); // no delay while closing
  assert.equal(await codeOf(batcher.submit('late', one)), 'SHUTTING_DOWN');
  await flush();
  assert.equal(closed, false);
  finish(0);
  await closing;
  assert.deepEqual(
    (await Promise.all(queued)).map((r) => r.result),
    ['out:a', 'out:b'],
  );
  assert.equal(clock.pendingTimerCount, 0);
});

test('close: past the deadline, unfinished requests reject SHUTTING_DOWN', async () => {
  const { calls, execute, finish } = controlledExecute();
  const { clock, batcher } = makeBatcher({ maxBatchSize: 1 }, execute);
  const running = codeOf(batcher.submit('running', one));
  const queued = codeOf(batcher.submit('queued', one));
  const closing = batcher.close(2); // 2 ms
  clock.advance(1999);
  await flush();
  assert.equal(batcher.pendingCount, 1);
  clock.advance(1);
  await closing;
  assert.equal(await running, 'SHUTTING_DOWN');
  assert.equal(await queued, 'SHUTTING_DOWN');
  finish(0); // a late result is dropped
  await flush();
  assert.deepEqual(
    calls.map((c) => c.batch),
    [['running']],
  );
  assert.equal(clock.pendingTimerCount, 0);
});

test('close on an idle batcher resolves at once and is idempotent', async () => {
  const { execute } = echoExecute();
  const { clock, batcher } = makeBatcher({}, execute);
  const first = batcher.close(1000);
  assert.equal(batcher.close(1), first);
  await first;
  assert.equal(clock.pendingTimerCount, 0);
});

test('one timer at a time, re-armed as the queue changes', async () => {
  const { execute } = controlledExecute();
  const { clock, batcher } = makeBatcher({ maxQueueDelayUs: 100 }, execute);
  void batcher.submit('a', { ...one, timeoutUs: 500 });
  const b = codeOf(batcher.submit('b', { ...one, timeoutUs: 30 }));
  assert.equal(clock.pendingTimerCount, 1);
  assert.equal(clock.nextDueUs, 30); // the earlier of the delay and the deadlines
  clock.advance(30);
  assert.equal(clock.pendingTimerCount, 1);
  assert.equal(clock.nextDueUs, 100);
  assert.equal(await b, 'QUEUE_TIMEOUT');
});

test('constructor refuses inconsistent options', () => {
  const execute: ExecuteBatch<string, string> = async (b) => b;
  assert.throws(() => new DynamicBatcher({ maxBatchSize: 4, preferredBatchSizes: [8] }, execute), RangeError);
  assert.throws(() => new DynamicBatcher({ maxBatchSize: 4, instanceCount: 0 }, execute), RangeError);
  assert.throws(
    () => new DynamicBatcher({ maxBatchSize: 4, priorityLevels: 2, defaultPriorityLevel: 3 }, execute),
    RangeError,
  );
  assert.throws(() => new DynamicBatcher({ maxBatchSize: -1 }, execute), RangeError);
});

test('maxBatchSize 0: each request runs alone', async () => {
  const { batches, execute } = echoExecute();
  const { batcher } = makeBatcher({ maxBatchSize: 0, instanceCount: 3 }, execute);
  await Promise.all(['a', 'b', 'c'].map((r) => batcher.submit(r, one)));
  assert.deepEqual(batches, [['a'], ['b'], ['c']]);
});

test('drain() sends what is queued at once and keeps taking requests, which go at once too', async () => {
  const { batches, execute } = echoExecute();
  const { clock, batcher } = makeBatcher({ maxBatchSize: 8, maxQueueDelayUs: 1_000_000 }, execute);
  const first = batcher.submit('a', one);
  await flush();
  assert.deepEqual(batches, [], 'waits for more requests before draining');
  batcher.drain();
  assert.equal(await first.then((r) => r.result), 'out:a');
  const second = batcher.submit('b', one);
  assert.equal(await second.then((r) => r.result), 'out:b');
  assert.deepEqual(batches, [['a'], ['b']]);
  assert.equal(clock.nowUs(), 0, 'no virtual time passed');
  await batcher.close(0);
});

// Node turns a setTimeout delay above 2^31 - 1 ms into 1 ms (with a
// TimeoutOverflowWarning): a far deadline would fire at once, again and again.
test('the real clock clamps far timers instead of letting them overflow to 1 ms', async () => {
  const { realClock } = await import('./clock');
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    let fired = 0;
    const far = realClock.setTimer(() => {
      fired++;
    }, Number.MAX_SAFE_INTEGER); // µs
    // A batcher whose queued request has a timeout of 2^53 - 1 µs.
    const batcher = new DynamicBatcher<string, string>(
      { maxBatchSize: 4, maxQueueDelayUs: 0, instanceCount: 1 },
      () => new Promise(() => {}),
    );
    void batcher.submit('busy', one).catch(() => {});
    const queued = batcher
      .submit('queued', { ...one, timeoutUs: Number.MAX_SAFE_INTEGER })
      .catch((err: MaasError) => err.code);
    await new Promise((resolve) => setTimeout(resolve, 50));
    realClock.clearTimer(far);
    assert.equal(fired, 0);
    assert.equal(batcher.pendingCount, 1, 'the queued request is still waiting');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.filter((w) => w === 'TimeoutOverflowWarning'),
      [],
    );
    await batcher.close(0);
    assert.equal(await queued, 'SHUTTING_DOWN');
  } finally {
    process.off('warning', onWarning);
  }
});
