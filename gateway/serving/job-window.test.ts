import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobWindow, jobWindowSize } from './job-window';

test('the job window lets `size` in, queues the rest in order, and passes a place on release', async () => {
  const w = new JobWindow(2);
  assert.equal(w.acquire(), undefined);
  assert.equal(w.acquire(), undefined);
  const order: number[] = [];
  const third = w.acquire()?.then(() => order.push(3));
  const fourth = w.acquire()?.then(() => order.push(4));
  assert.equal(w.queued, 2);
  w.release();
  await third;
  assert.deepEqual(order, [3]);
  w.release();
  await fourth;
  assert.deepEqual(order, [3, 4]);
  w.release();
  w.release();
  // Both places are free again: two more enter at once, a third waits.
  assert.equal(w.acquire(), undefined);
  assert.equal(w.acquire(), undefined);
  assert.notEqual(w.acquire(), undefined);
});

test('a version’s window is its largest batch, between 1 and 8', () => {
  assert.deepEqual([0, 1, 4, 8, 64].map(jobWindowSize), [1, 1, 4, 8, 8]);
});
