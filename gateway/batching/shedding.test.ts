// Load shedding by deadline (wait-estimate.ts and the batcher's submit), on
// the virtual clock: an overloaded model refuses early instead of letting
// requests time out in its queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaasError } from '../../common/errors';
import { DynamicBatcher, type DynamicBatcherOptions, type ExecuteBatch } from './batcher';
import { VirtualClock } from './virtual-clock';
import { ComputeEwma, estimateFinishUs, shedVerdict } from './wait-estimate';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

test('the compute EWMA starts at its first sample and then moves by its weight', () => {
  const ewma = new ComputeEwma(0.5);
  assert.equal(ewma.batchUs, 0);
  ewma.observe(1000);
  assert.equal(ewma.batchUs, 1000);
  ewma.observe(2000);
  assert.equal(ewma.batchUs, 1500);
  ewma.observe(Number.NaN); // ignored
  assert.equal(ewma.batchUs, 1500);
  assert.throws(() => new ComputeEwma(0), RangeError);
});

test('the finish estimate counts the batches ahead, run instanceCount at a time, then its own', () => {
  const base = { batchUs: 100, unitsAhead: 0, ownUnits: 1, maxBatchSize: 4, runningBatches: 0, instanceCount: 1 };
  assert.equal(estimateFinishUs({ ...base, batchUs: 0, unitsAhead: 100 }), 0); // never ran: unknown
  assert.equal(estimateFinishUs(base), 100); // an idle instance: its own batch only
  assert.equal(estimateFinishUs({ ...base, runningBatches: 1 }), 200);
  assert.equal(estimateFinishUs({ ...base, unitsAhead: 3 }), 100); // joins the batch ahead
  assert.equal(estimateFinishUs({ ...base, unitsAhead: 4 }), 200);
  assert.equal(estimateFinishUs({ ...base, unitsAhead: 7, runningBatches: 2, instanceCount: 2 }), 200);
  assert.equal(estimateFinishUs({ ...base, unitsAhead: 8, runningBatches: 2, instanceCount: 2 }), 300);
  assert.equal(estimateFinishUs({ ...base, maxBatchSize: 0, unitsAhead: 3 }), 400); // no batching
});

test('the verdict: accept within the deadline or without one; overloaded only past the default for everyone', () => {
  const top = (us: number) => () => us;
  assert.equal(shedVerdict(0, 1e9, 0, top(0)), 'accept');
  assert.equal(shedVerdict(500, 500, 0, top(0)), 'accept');
  assert.equal(shedVerdict(500, 501, 0, top(1e9)), 'unmeetable'); // no default deadline: never 'overloaded'
  assert.equal(shedVerdict(500, 501, 1000, top(900)), 'unmeetable'); // the default could still be met
  assert.equal(shedVerdict(500, 501, 1000, top(1001)), 'overloaded');
});

interface Outcome {
  submittedUs: number;
  deadlineUs: number;
  settledUs: number;
  code: string; // 'OK' or the error code
}

// One instance, batches of up to 4 taking 1 ms each: a capacity of 4
// requests per ms. The load offers `perStep` requests every 250 us for
// `durationUs`, each with `timeoutUs` (0: the model default), then lets
// everything settle.
async function overload(options: Partial<DynamicBatcherOptions>, perStep: number, timeoutUs: number) {
  const clock = new VirtualClock();
  const computeUs = 1000;
  const execute: ExecuteBatch<number, number> = (batch) =>
    new Promise((resolve) => clock.setTimer(() => resolve(batch), computeUs));
  const batcher = new DynamicBatcher<number, number>(
    { maxBatchSize: 4, maxQueueDelayUs: 0, clock, ...options },
    execute,
  );
  const outcomes: Outcome[] = [];
  const durationUs = 100_000;
  const stepUs = 250;
  const tickUs = 25;
  let id = 0;
  for (let t = 0; t < durationUs; t += stepUs) {
    for (let i = 0; i < perStep; i++) {
      const o: Outcome = { submittedUs: clock.nowUs(), deadlineUs: 0, settledUs: -1, code: '' };
      const effective = timeoutUs || (options.defaultTimeoutUs ?? 0);
      o.deadlineUs = effective > 0 ? o.submittedUs + effective : Infinity;
      outcomes.push(o);
      batcher.submit(id++, { batchSize: 1, shapeKey: 'A', timeoutUs }).then(
        () => {
          o.settledUs = clock.nowUs();
          o.code = 'OK';
        },
        (err: unknown) => {
          o.settledUs = clock.nowUs();
          o.code = err instanceof MaasError ? err.code : String(err);
        },
      );
    }
    await flush(); // refusals settle before the clock moves
    for (let s = 0; s < stepUs; s += tickUs) {
      clock.advance(tickUs);
      await flush();
    }
  }
  for (let s = 0; s < 200 && outcomes.some((o) => o.settledUs < 0); s++) {
    clock.advance(1000);
    await flush();
  }
  const count = (code: string) => outcomes.filter((o) => o.code === code).length;
  const capacity = (durationUs / computeUs) * 4;
  return { outcomes, count, capacity };
}

test('under 3x overload with deadlines, refusals come at once as DEADLINE_UNMEETABLE and no accepted request ends late', async () => {
  const { outcomes, count, capacity } = await overload({}, 3, 5000); // 12 per ms offered, 4 per ms capacity
  assert.equal(count('QUEUE_TIMEOUT'), 0, 'nothing times out in the queue');
  assert.ok(count('DEADLINE_UNMEETABLE') > outcomes.length / 2, `refused: ${count('DEADLINE_UNMEETABLE')}`);
  assert.equal(count('OK') + count('DEADLINE_UNMEETABLE'), outcomes.length);
  for (const o of outcomes) {
    if (o.code === 'DEADLINE_UNMEETABLE') assert.equal(o.settledUs, o.submittedUs, 'refused when submitted');
    if (o.code === 'OK') assert.ok(o.settledUs <= o.deadlineUs, `answered at ${o.settledUs}, deadline ${o.deadlineUs}`);
  }
  // The instance stays busy: the accepted requests are nearly all the capacity.
  assert.ok(count('OK') >= 0.9 * capacity, `served ${count('OK')} of a capacity of ${capacity}`);
});

test('the same overload without shedding lets requests wait and time out in the queue', async () => {
  const { count } = await overload({ shedByDeadline: false }, 3, 5000);
  assert.ok(count('QUEUE_TIMEOUT') > 0);
  assert.equal(count('DEADLINE_UNMEETABLE'), 0);
});

test("past the model's default timeout the refusal is MODEL_OVERLOADED; a shorter own timeout is DEADLINE_UNMEETABLE", async () => {
  const byDefault = await overload({ defaultTimeoutUs: 5000 }, 3, 0);
  assert.ok(byDefault.count('MODEL_OVERLOADED') > 0);
  assert.equal(byDefault.count('QUEUE_TIMEOUT'), 0);
  assert.equal(byDefault.count('DEADLINE_UNMEETABLE'), 0);
  // 2 ms of one's own with a 50 ms default: the default can be met, this one cannot.
  const own = await overload({ defaultTimeoutUs: 50_000 }, 3, 2000);
  assert.ok(own.count('DEADLINE_UNMEETABLE') > 0);
  assert.equal(own.count('MODEL_OVERLOADED'), 0);
  for (const o of own.outcomes) {
    // Before the first batch has finished there is no estimate: what was
    // queued then may still end late or time out, never anything later.
    if (o.submittedUs < 1000) continue;
    if (o.code === 'OK') assert.ok(o.settledUs <= o.deadlineUs);
    assert.notEqual(o.code, 'QUEUE_TIMEOUT');
  }
});
