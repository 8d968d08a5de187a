// Time and timers behind one small interface, so the batcher runs on the real
// clock in production and on a VirtualClock (virtual-clock.ts) in tests.
import { performance } from 'node:perf_hooks';
import { timerMs } from '../../common/timers';

export type TimerHandle = object | number;

export interface Clock {
  nowUs(): number; // monotonic microseconds; the origin is arbitrary
  setTimer(fn: () => void, delayUs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

// setTimeout has millisecond resolution, so a delay is rounded UP to whole
// milliseconds: a timer never fires before the delay the policy asked for.
// Delays past setTimeout's range are clamped (common/timers.ts): the batcher
// re-checks its deadlines whenever its timer fires.
// Timers are deliberately not unref'd: queued work keeps the process alive.
export const realClock: Clock = {
  // performance.now(): a double, no BigInt per call (this runs per request).
  nowUs: () => performance.now() * 1000,
  setTimer: (fn, delayUs) => setTimeout(fn, Math.max(1, timerMs(Math.ceil(delayUs / 1000)))),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
