// The counters port of the limits step: token buckets, monthly quota counters
// and concurrency gauges, each named by a key the limiter builds
// (limiter.ts). Answers are synchronous when the adapter can answer from
// memory (the hot path then awaits nothing), else a Promise.
//
// Adapters: LocalCounters (this file: one process, exact, synchronous) and
// RedisCounters (redis.ts: shared by the replicas, `--redis-url`).
import { charge, newBucket, take, type Bucket, type TakeResult } from './policy';

export interface Counters {
  // Takes n tokens (all or none) from a bucket of `ratePerSec` and `capacity`.
  take(key: string, ratePerSec: number, capacity: number, n: number): TakeResult | Promise<TakeResult>;
  // Settles n more tokens after the work (n < 0 gives tokens back). Never refuses.
  charge(key: string, ratePerSec: number, capacity: number, n: number): void;
  // Counts n units against a quota of `limit` if they fit (all or none).
  quotaTake(key: string, limit: number, n: number, ttlSecs: number): TakeResult | Promise<TakeResult>;
  // Settles n more units (n < 0 gives units back). Never refuses.
  quotaCharge(key: string, limit: number, n: number, ttlSecs: number): void;
  // One more call in flight if fewer than `limit` are.
  enter(key: string, limit: number): boolean | Promise<boolean>;
  leave(key: string): void;
  close(): Promise<void>;
}

const SWEEP_EVERY = 10_000; // operations between sweeps of idle entries
const IDLE_MS = 10 * 60_000;

// Exact counters in this process. `now` is injectable for tests.
export class LocalCounters implements Counters {
  private readonly buckets = new Map<string, Bucket>();
  private readonly used = new Map<string, { units: number; expiresMs: number }>();
  private readonly inFlight = new Map<string, number>();
  private ops = 0;

  constructor(private readonly now: () => number = Date.now) {}

  take(key: string, ratePerSec: number, capacity: number, n: number): TakeResult {
    return take(this.bucket(key, capacity), ratePerSec, capacity, n, n, this.now());
  }

  charge(key: string, ratePerSec: number, capacity: number, n: number): void {
    charge(this.bucket(key, capacity), ratePerSec, capacity, n, this.now());
  }

  quotaTake(key: string, limit: number, n: number, ttlSecs: number): TakeResult {
    const entry = this.quotaEntry(key, ttlSecs);
    if (entry.units + n > limit)
      return { granted: 0, remaining: Math.max(0, limit - entry.units), waitMs: ttlSecs * 1000 };
    entry.units += n;
    return { granted: n, remaining: limit - entry.units, waitMs: 0 };
  }

  quotaCharge(key: string, _limit: number, n: number, ttlSecs: number): void {
    const entry = this.quotaEntry(key, ttlSecs);
    entry.units = Math.max(0, entry.units + n);
  }

  quotaUsed(key: string): number {
    return this.used.get(key)?.units ?? 0;
  }

  enter(key: string, limit: number): boolean {
    const n = this.inFlight.get(key) ?? 0;
    if (n >= limit) return false;
    this.inFlight.set(key, n + 1);
    return true;
  }

  leave(key: string): void {
    const n = (this.inFlight.get(key) ?? 0) - 1;
    if (n > 0) this.inFlight.set(key, n);
    else this.inFlight.delete(key);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private bucket(key: string, capacity: number): Bucket {
    if (++this.ops % SWEEP_EVERY === 0) this.sweep();
    let b = this.buckets.get(key);
    if (!b) {
      b = newBucket(capacity, this.now());
      this.buckets.set(key, b);
    }
    return b;
  }

  private quotaEntry(key: string, ttlSecs: number): { units: number; expiresMs: number } {
    let entry = this.used.get(key);
    if (!entry) {
      entry = { units: 0, expiresMs: this.now() + ttlSecs * 1000 };
      this.used.set(key, entry);
    }
    return entry;
  }

  // A bucket untouched for IDLE_MS is full again: forgetting it changes nothing.
  private sweep(): void {
    const nowMs = this.now();
    for (const [key, b] of this.buckets) if (nowMs - b.updatedMs > IDLE_MS) this.buckets.delete(key);
    for (const [key, q] of this.used) if (nowMs > q.expiresMs) this.used.delete(key);
  }
}
