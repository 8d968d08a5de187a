import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './virtual-clock';

test('advance runs due timers in due order, with the clock at each due time', () => {
  const clock = new VirtualClock(1000);
  const seen: string[] = [];
  clock.setTimer(() => seen.push(`b@${clock.nowUs()}`), 20);
  clock.setTimer(() => seen.push(`a@${clock.nowUs()}`), 10);
  clock.setTimer(() => seen.push(`c@${clock.nowUs()}`), 20); // same time: creation order
  const late = clock.setTimer(() => seen.push('late'), 50);
  clock.advance(30);
  assert.deepEqual(seen, ['a@1010', 'b@1020', 'c@1020']);
  assert.equal(clock.nowUs(), 1030);
  clock.clearTimer(late);
  clock.advance(100);
  assert.deepEqual(seen, ['a@1010', 'b@1020', 'c@1020']);
  assert.equal(clock.pendingTimerCount, 0);
});

test('timers set by a running timer fire within the same advance when due', () => {
  const clock = new VirtualClock();
  const seen: number[] = [];
  clock.setTimer(() => {
    seen.push(clock.nowUs());
    clock.setTimer(() => seen.push(clock.nowUs()), 5);
  }, 5);
  clock.advance(10);
  assert.deepEqual(seen, [5, 10]);
});
