// A Clock whose time moves only when told to (advance), for deterministic
// tests of anything built on timers. Reusable beyond the batcher.
import type { Clock, TimerHandle } from './clock';

interface VirtualTimer {
  dueUs: number;
  seq: number; // ties run in the order the timers were set
  fn: () => void;
}

export class VirtualClock implements Clock {
  private currentUs: number;
  private nextSeq = 1;
  private readonly timers = new Map<number, VirtualTimer>();

  constructor(startUs = 0) {
    this.currentUs = startUs;
  }

  nowUs(): number {
    return this.currentUs;
  }

  setTimer(fn: () => void, delayUs: number): TimerHandle {
    const seq = this.nextSeq++;
    this.timers.set(seq, { dueUs: this.currentUs + Math.max(0, delayUs), seq, fn });
    return seq;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  // Timers not yet fired or cleared; lets tests check that nothing is armed.
  get pendingTimerCount(): number {
    return this.timers.size;
  }

  // Due time of the next timer, or undefined when none is set.
  get nextDueUs(): number | undefined {
    return this.nextTimer()?.dueUs;
  }

  // Moves time forward by `us`, running every timer that falls due on the way
  // in (due time, creation) order, with nowUs() equal to its due time while it
  // runs. Timers set by those callbacks run too if they fall due in the window.
  advance(us: number): void {
    if (!(us >= 0)) throw new RangeError(`cannot advance a clock by ${us} us`);
    const targetUs = this.currentUs + us;
    for (let timer = this.nextTimer(); timer && timer.dueUs <= targetUs; timer = this.nextTimer()) {
      this.timers.delete(timer.seq);
      this.currentUs = Math.max(this.currentUs, timer.dueUs);
      timer.fn();
    }
    this.currentUs = targetUs;
  }

  private nextTimer(): VirtualTimer | undefined {
    let next: VirtualTimer | undefined;
    for (const timer of this.timers.values()) {
      if (!next || timer.dueUs < next.dueUs || (timer.dueUs === next.dueUs && timer.seq < next.seq)) next = timer;
    }
    return next;
  }
}
