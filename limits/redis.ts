// The Redis adapter of the counters port (counters.ts), `--redis-url`: one
// set of buckets, quota counters and concurrency gauges for all replicas.
// docs/limits.md "Across replicas".
//
// - Local leasing keeps the hot path off the network: a replica takes a
//   block of tokens (or quota units) from Redis in one atomic script and
//   spends it in memory; what it has not spent within LEASE_TTL_MS goes back
//   with its next script call or the flush timer. Blocks are small against
//   the limit (policy.ts leaseBlock/quotaBlock), so the replicas together
//   stay within a few percent of a rate limit, and a quota ends exactly.
//   A bucket found empty is not asked again before it can have a token.
// - Settlements (the batch size known after the work) are owed to Redis and
//   sent with the next call on that key or by the flush timer.
// - Concurrency: one script per call start and end (a hash of replica → calls
//   in flight; replicas that stop beating lose their slots).
// - Every replica beats every BEAT_MS into a sorted set; the live count
//   divides the limits while Redis is unreachable.
// - Redis unreachable (no offline queue, short command timeout: nothing
//   waits on it): each replica goes on alone with local counters at its
//   share of each limit (degraded; `maas_limits_degraded` 1, one log line),
//   or refuses with LIMITS_UNAVAILABLE when failClosed. The next successful
//   heartbeat returns to exact mode; quota units counted meanwhile are then
//   added to Redis.
//
// Owner: RedisCounters owns its connection, the leases and the one timer.
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { MaasError } from '../common/errors';
import type { Logger } from '../common/logger';
import { LocalCounters, type Counters } from './counters';
import { LEASE_TTL_MS, leaseBlock, quotaBlock, type TakeResult } from './policy';
import { BEAT, ENTER, LEAVE, QUOTA, TAKE } from './scripts';

const COMMAND_TIMEOUT_MS = 250;
const CONNECT_WAIT_MS = 2000;
const TICK_MS = 100; // flush of owed tokens and expired leases
const BEAT_MS = 1000;
const DEAD_MS = 3500; // a replica not seen for this long is gone
const BUCKET_TTL_MS = 3_600_000;
const PREFIX = 'maas:limits:';
const REPLICAS_KEY = `${PREFIX}replicas`;

interface ScriptedRedis extends Redis {
  maasTake(key: string, ...args: Array<string | number>): Promise<[number, number, number]>;
  maasQuota(key: string, ...args: Array<string | number>): Promise<[number, number]>;
  maasEnter(key: string, replicas: string, ...args: Array<string | number>): Promise<number>;
  maasLeave(key: string, ...args: Array<string | number>): Promise<number>;
  maasBeat(key: string, ...args: Array<string | number>): Promise<number>;
}

// A replica's block of one bucket or quota.
interface Lease {
  kind: 'bucket' | 'quota';
  tokens: number; // leased, unspent
  expiresMs: number;
  owed: number; // to settle in Redis: > 0 more spent, < 0 given back
  emptyUntilMs: number; // bucket: no token before then
  remaining: number; // what Redis said was left, for the headers
  pending: Promise<unknown> | null;
  // the key's settings at its last use (the flush needs them)
  rate: number;
  capacity: number;
  ttl: number;
}

export interface RedisCountersOptions {
  url: string;
  logger: Logger;
  failClosed?: boolean;
  onDegraded?: (degraded: boolean) => void;
}

export class RedisCounters implements Counters {
  readonly replicaId = randomUUID();
  private readonly client: ScriptedRedis;
  private readonly leases = new Map<string, Lease>();
  private local = new LocalCounters();
  private readonly localInFlight = new Map<string, number>(); // calls entered in degraded mode
  private replicas = 1;
  private down = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private ticks = 0;

  constructor(private readonly options: RedisCountersOptions) {
    this.client = new Redis(options.url, {
      connectTimeout: 1000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 1000),
    }) as ScriptedRedis;
    this.client.defineCommand('maasTake', { numberOfKeys: 1, lua: TAKE });
    this.client.defineCommand('maasQuota', { numberOfKeys: 1, lua: QUOTA });
    this.client.defineCommand('maasEnter', { numberOfKeys: 2, lua: ENTER });
    this.client.defineCommand('maasLeave', { numberOfKeys: 1, lua: LEAVE });
    this.client.defineCommand('maasBeat', { numberOfKeys: 1, lua: BEAT });
    this.client.on('error', (err: Error) => this.unavailable(err));
    this.client.on('ready', () => void this.beat());
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  get degraded(): boolean {
    return this.down;
  }

  get liveReplicas(): number {
    return this.replicas;
  }

  // Waits a little for the first heartbeat; never fails (a Redis that is
  // down only means degraded mode).
  async ready(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const connected = new Promise<void>((resolve) => {
      if (this.client.status === 'ready') resolve();
      else this.client.once('ready', () => resolve());
    });
    await Promise.race([connected, new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS)))]);
    clearTimeout(timer);
    if (this.client.status !== 'ready') this.unavailable(new Error('not connected'));
    else await this.beat();
  }

  // ---- buckets ----

  take(key: string, ratePerSec: number, capacity: number, n: number): TakeResult | Promise<TakeResult> {
    if (this.down) return this.degradedTake(key, ratePerSec, capacity, n);
    const lease = this.lease(key, 'bucket', ratePerSec, capacity, 0);
    const nowMs = Date.now();
    if (lease.expiresMs > nowMs && lease.tokens >= n) {
      lease.tokens -= n;
      return { granted: n, remaining: lease.remaining + lease.tokens, waitMs: 0 };
    }
    if (lease.emptyUntilMs > nowMs) return { granted: 0, remaining: 0, waitMs: lease.emptyUntilMs - nowMs };
    if (lease.pending) return lease.pending.then(() => this.take(key, ratePerSec, capacity, n));
    const want = leaseBlock(ratePerSec, capacity, this.replicas, n);
    const give = lease.tokens - lease.owed;
    lease.tokens = 0;
    lease.owed = 0;
    const ttlMs = Math.max(BUCKET_TTL_MS, Math.ceil((capacity * 2000) / ratePerSec));
    const asked = this.client.maasTake(PREFIX + key, ratePerSec, capacity, n, want, give, ttlMs).then(
      ([granted, remaining, waitMs]) => {
        this.available();
        lease.remaining = remaining;
        if (granted < n) {
          lease.emptyUntilMs = Date.now() + Math.min(waitMs, 1000);
          return { granted: 0, remaining, waitMs };
        }
        lease.tokens = granted - n;
        lease.expiresMs = Date.now() + LEASE_TTL_MS;
        return { granted: n, remaining: remaining + lease.tokens, waitMs: 0 };
      },
      (err: Error) => {
        this.unavailable(err);
        return this.degradedTake(key, ratePerSec, capacity, n);
      },
    );
    return this.track(lease, asked);
  }

  charge(key: string, ratePerSec: number, capacity: number, n: number): void {
    if (this.down) return this.local.charge(key, ratePerSec / this.replicas, this.share(capacity), n);
    const lease = this.lease(key, 'bucket', ratePerSec, capacity, 0);
    this.settle(lease, n);
  }

  // ---- quotas ----

  quotaTake(key: string, limit: number, n: number, ttlSecs: number): TakeResult | Promise<TakeResult> {
    const lease = this.lease(key, 'quota', 0, limit, ttlSecs);
    if (this.down) return this.degradedQuota(key, lease, n);
    const nowMs = Date.now();
    if (lease.expiresMs > nowMs && lease.tokens >= n) {
      lease.tokens -= n;
      return { granted: n, remaining: lease.remaining + lease.tokens, waitMs: 0 };
    }
    if (lease.pending) return lease.pending.then(() => this.quotaTake(key, limit, n, ttlSecs));
    const want = quotaBlock(lease.remaining, this.replicas, n);
    const give = lease.tokens - lease.owed;
    lease.tokens = 0;
    lease.owed = 0;
    const asked = this.client.maasQuota(PREFIX + key, limit, n, want, give, ttlSecs).then(
      ([granted, remaining]) => {
        this.available();
        lease.remaining = remaining;
        if (granted < n) return { granted: 0, remaining, waitMs: ttlSecs * 1000 };
        lease.tokens = granted - n;
        lease.expiresMs = Date.now() + LEASE_TTL_MS;
        return { granted: n, remaining: remaining + lease.tokens, waitMs: 0 };
      },
      (err: Error) => {
        this.unavailable(err);
        return this.degradedQuota(key, lease, n);
      },
    );
    return this.track(lease, asked);
  }

  quotaCharge(key: string, limit: number, n: number, ttlSecs: number): void {
    const lease = this.lease(key, 'quota', 0, limit, ttlSecs);
    if (this.down) this.local.quotaCharge(key, limit, n, ttlSecs);
    this.settle(lease, n); // in degraded mode too: Redis learns it on recovery
  }

  // ---- concurrency ----

  enter(key: string, limit: number): boolean | Promise<boolean> {
    if (this.down) return this.degradedEnter(key, limit);
    return this.client.maasEnter(PREFIX + key, REPLICAS_KEY, this.replicaId, limit, DEAD_MS).then(
      (entered) => {
        this.available();
        return entered === 1;
      },
      (err: Error) => {
        this.unavailable(err);
        return this.degradedEnter(key, limit);
      },
    );
  }

  leave(key: string): void {
    const local = this.localInFlight.get(key) ?? 0;
    if (local > 0) {
      if (local === 1) this.localInFlight.delete(key);
      else this.localInFlight.set(key, local - 1);
      this.local.leave(key);
      return;
    }
    this.client.maasLeave(PREFIX + key, this.replicaId).catch((err: Error) => this.unavailable(err));
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.client.disconnect();
    return Promise.resolve();
  }

  // ---- leases ----

  private lease(key: string, kind: Lease['kind'], rate: number, capacity: number, ttl: number): Lease {
    let lease = this.leases.get(key);
    if (!lease) {
      lease = {
        kind,
        tokens: 0,
        expiresMs: 0,
        owed: 0,
        emptyUntilMs: 0,
        remaining: capacity,
        pending: null,
        rate,
        capacity,
        ttl,
      };
      this.leases.set(key, lease);
    }
    lease.rate = rate;
    lease.capacity = capacity;
    lease.ttl = ttl;
    return lease;
  }

  private track<T>(lease: Lease, asked: Promise<T>): Promise<T> {
    const pending = asked.finally(() => {
      if (lease.pending === pending) lease.pending = null;
    });
    lease.pending = pending;
    return pending;
  }

  // n > 0 spent more, n < 0 gave back: from the lease when it covers it,
  // else owed to Redis.
  private settle(lease: Lease, n: number): void {
    if (n > 0 && lease.expiresMs > Date.now() && lease.tokens >= n && !this.down) lease.tokens -= n;
    else lease.owed += n;
  }

  private tick(): void {
    this.ticks += 1;
    if (this.ticks % (BEAT_MS / TICK_MS) === 0) void this.beat();
    if (this.down || this.closed) return;
    const nowMs = Date.now();
    for (const [key, lease] of this.leases) {
      if (lease.pending) continue;
      const expired = lease.expiresMs <= nowMs;
      const give = (expired ? lease.tokens : 0) - lease.owed;
      if (give === 0) {
        if (expired && nowMs - lease.expiresMs > 60_000) this.leases.delete(key); // idle
        continue;
      }
      if (expired) lease.tokens = 0;
      lease.owed = 0;
      const sent =
        lease.kind === 'bucket'
          ? this.client.maasTake(PREFIX + key, lease.rate, lease.capacity, 0, 0, give, BUCKET_TTL_MS)
          : this.client.maasQuota(PREFIX + key, lease.capacity, 0, 0, give, lease.ttl);
      sent.then(
        () => this.available(),
        (err: Error) => {
          if (lease.kind === 'quota') lease.owed -= give; // units must not be lost
          this.unavailable(err);
        },
      );
    }
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      this.replicas = Math.max(1, await this.client.maasBeat(REPLICAS_KEY, this.replicaId, DEAD_MS));
      this.available();
    } catch (err) {
      this.unavailable(err as Error);
    }
  }

  // ---- degraded mode ----

  private share(n: number): number {
    return Math.max(1, Math.floor(n / this.replicas));
  }

  private refuseIfClosed(): void {
    if (this.options.failClosed)
      throw new MaasError('LIMITS_UNAVAILABLE', 'the shared limits store is unreachable and limits fail closed');
  }

  private degradedTake(key: string, ratePerSec: number, capacity: number, n: number): TakeResult {
    this.refuseIfClosed();
    return this.local.take(key, ratePerSec / this.replicas, this.share(capacity), n);
  }

  // This replica's share of what Redis last said was left.
  private degradedQuota(key: string, lease: Lease, n: number): TakeResult {
    this.refuseIfClosed();
    const result = this.local.quotaTake(key, Math.floor(lease.remaining / this.replicas), n, lease.ttl);
    if (result.granted > 0) lease.owed += n;
    return result;
  }

  private degradedEnter(key: string, limit: number): boolean {
    this.refuseIfClosed();
    const entered = this.local.enter(key, Math.max(1, Math.ceil(limit / this.replicas)));
    if (entered) this.localInFlight.set(key, (this.localInFlight.get(key) ?? 0) + 1);
    return entered;
  }

  private unavailable(err: Error): void {
    if (this.down || this.closed) return;
    this.down = true;
    this.options.onDegraded?.(true);
    this.options.logger.warn(
      { err: err.message, replicas: this.replicas },
      `Redis unreachable: limits are per replica (each 1/${this.replicas} of the limit) until it is back`,
    );
  }

  private available(): void {
    if (!this.down || this.closed) return;
    this.down = false;
    // Calls entered locally keep leaving locally (localInFlight); the rest
    // of the local state is dropped.
    this.local = new LocalCounters();
    for (const [key, n] of this.localInFlight) for (let i = 0; i < n; i++) this.local.enter(key, Infinity);
    for (const lease of this.leases.values()) lease.emptyUntilMs = 0;
    this.options.onDegraded?.(false);
    this.options.logger.info({ replicas: this.replicas }, 'Redis reachable again: limits are exact across replicas');
  }
}
