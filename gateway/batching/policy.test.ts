import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideBatch, type BatchPolicyConfig, type QueuedItem } from './policy';

// n items of batch size 1, same shape, enqueued at the given times (default 0).
function items(n: number, enqueuedAtUs = 0, shapeKey = 'A'): QueuedItem[] {
  return Array.from({ length: n }, () => ({ batchSize: 1, shapeKey, enqueuedAtUs }));
}

const config = (over: Partial<BatchPolicyConfig> = {}): BatchPolicyConfig => ({
  maxBatchSize: 8,
  preferredBatchSizes: [],
  maxQueueDelayUs: 100,
  ...over,
});

test('an empty queue is idle', () => {
  assert.deepEqual(decideBatch([], 0, config()), { kind: 'idle' });
});

test('preferred [4,8], 8 reachable: sends 8 at once', () => {
  const c = config({ maxBatchSize: 16, preferredBatchSizes: [4, 8] });
  assert.deepEqual(decideBatch(items(9), 10, c), { kind: 'send', count: 8 });
  assert.deepEqual(decideBatch(items(8), 10, c), { kind: 'send', count: 8 });
});

test('preferred [4,8], queue of 5: sends preferred 4 at once, all 5 once the delay is exceeded', () => {
  // Triton (GetDynamicBatch): a preferred size the queue lands on is sent at
  // once; once the oldest request has waited the delay, whatever is pending goes.
  const c = config({ preferredBatchSizes: [4, 8] });
  assert.deepEqual(decideBatch(items(5), 10, c), { kind: 'send', count: 4 });
  assert.deepEqual(decideBatch(items(5), 100, c), { kind: 'send', count: 5 });
});

test('preferred [4,8], queue of 3: waits for the delay, then sends 3', () => {
  const c = config({ preferredBatchSizes: [4, 8] });
  assert.deepEqual(decideBatch(items(3), 30, c), { kind: 'wait', delayUs: 70 });
  assert.deepEqual(decideBatch(items(3), 100, c), { kind: 'send', count: 3 });
});

test('preferred sizes are matched on summed batch sizes, not item counts', () => {
  const c = config({ maxBatchSize: 8, preferredBatchSizes: [4] });
  const queue: QueuedItem[] = [
    { batchSize: 3, shapeKey: 'A', enqueuedAtUs: 0 },
    { batchSize: 1, shapeKey: 'A', enqueuedAtUs: 0 },
    { batchSize: 2, shapeKey: 'A', enqueuedAtUs: 0 },
  ];
  assert.deepEqual(decideBatch(queue, 1, c), { kind: 'send', count: 2 });
});

test('when growing would overshoot the largest preferred size, what fits is sent at once', () => {
  // 3 then 2 with preferred [4]: 5 can never land on 4, so waiting cannot help.
  const c = config({ maxBatchSize: 8, preferredBatchSizes: [4] });
  const queue: QueuedItem[] = [
    { batchSize: 3, shapeKey: 'A', enqueuedAtUs: 0 },
    { batchSize: 2, shapeKey: 'A', enqueuedAtUs: 0 },
  ];
  assert.deepEqual(decideBatch(queue, 1, c), { kind: 'send', count: 1 });
});

test('preferred sizes above maxBatchSize are ignored', () => {
  const c = config({ maxBatchSize: 4, preferredBatchSizes: [16] });
  assert.deepEqual(decideBatch(items(4), 1, c), { kind: 'send', count: 4 });
  assert.deepEqual(decideBatch(items(3), 1, c), { kind: 'wait', delayUs: 99 });
});

test('without preferred sizes: reaching maxBatchSize sends at once, below it waits', () => {
  const c = config({ maxBatchSize: 4 });
  assert.deepEqual(decideBatch(items(4), 1, c), { kind: 'send', count: 4 });
  assert.deepEqual(decideBatch(items(3), 1, c), { kind: 'wait', delayUs: 99 });
});

test('maxBatchSize caps the batch, counting each item by its batch size', () => {
  const c = config({ maxBatchSize: 4 });
  assert.deepEqual(decideBatch(items(10), 1, c), { kind: 'send', count: 4 });
  const queue: QueuedItem[] = [
    { batchSize: 2, shapeKey: 'A', enqueuedAtUs: 0 },
    { batchSize: 1, shapeKey: 'A', enqueuedAtUs: 0 },
    { batchSize: 2, shapeKey: 'A', enqueuedAtUs: 0 }, // 5 > 4: stops before this one
  ];
  assert.deepEqual(decideBatch(queue, 1, c), { kind: 'send', count: 2 });
});

test('a shape mismatch ends the batch and sends what is pending at once', () => {
  const queue = [...items(2, 0, 'A'), ...items(3, 0, 'B')];
  assert.deepEqual(decideBatch(queue, 1, config()), { kind: 'send', count: 2 });
  // Later items of the first shape do not jump the mismatching one.
  const interleaved = [...items(1, 0, 'A'), ...items(1, 0, 'B'), ...items(1, 0, 'A')];
  assert.deepEqual(decideBatch(interleaved, 1, config()), { kind: 'send', count: 1 });
});

test('the delay is counted from the OLDEST pending item, not the first', () => {
  // Priority order puts a young item first; the old one behind it sets the clock.
  const queue: QueuedItem[] = [
    { batchSize: 1, shapeKey: 'A', enqueuedAtUs: 90 },
    { batchSize: 1, shapeKey: 'A', enqueuedAtUs: 20 },
  ];
  assert.deepEqual(decideBatch(queue, 100, config()), { kind: 'wait', delayUs: 20 });
  assert.deepEqual(decideBatch(queue, 120, config()), { kind: 'send', count: 2 });
});

test('items beyond the batch do not count toward its age', () => {
  const queue: QueuedItem[] = [
    { batchSize: 1, shapeKey: 'A', enqueuedAtUs: 50 },
    { batchSize: 1, shapeKey: 'B', enqueuedAtUs: 0 }, // mismatch: not pending
  ];
  // Sent at once because of the mismatch, regardless of age.
  assert.deepEqual(decideBatch(queue, 60, config()), { kind: 'send', count: 1 });
  assert.deepEqual(decideBatch(items(1, 50), 60, config()), { kind: 'wait', delayUs: 90 });
});

test('delay 0 sends what is pending at once (a reachable preferred size first)', () => {
  assert.deepEqual(decideBatch(items(3), 0, config({ maxQueueDelayUs: 0 })), { kind: 'send', count: 3 });
  const c = config({ maxQueueDelayUs: 0, preferredBatchSizes: [4, 8] });
  assert.deepEqual(decideBatch(items(5), 0, c), { kind: 'send', count: 4 });
});

test('maxBatchSize 0: every request is its own batch, sent at once', () => {
  const c = config({ maxBatchSize: 0, maxQueueDelayUs: 1000 });
  assert.deepEqual(decideBatch(items(5), 0, c), { kind: 'send', count: 1 });
  assert.deepEqual(decideBatch([{ batchSize: 7, shapeKey: 'X', enqueuedAtUs: 0 }], 0, c), { kind: 'send', count: 1 });
});

test('an oversized single item is sent alone rather than stalling the queue', () => {
  const queue: QueuedItem[] = [
    { batchSize: 12, shapeKey: 'A', enqueuedAtUs: 0 },
    { batchSize: 1, shapeKey: 'A', enqueuedAtUs: 0 },
  ];
  assert.deepEqual(decideBatch(queue, 1, config()), { kind: 'send', count: 1 });
});
