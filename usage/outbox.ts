// The usage step's PostgreSQL adapter (docs/usage.md "Guarantees"): record()
// appends to an in-memory batch (the hot path: one array push); a flusher
// writes the batch to usage_outbox every flushIntervalMs, or at once when it
// holds maxBatch records, as one multi-row INSERT per maxBatch records (rows as one JSON text) with
// ON CONFLICT (id) DO NOTHING (a retried batch adds nothing).
//
// The crash window: a record lives only in this process's memory from the
// end of its call until its batch is committed (at most flushIntervalMs plus
// one INSERT, ~50-60 ms, longer while PostgreSQL is unreachable). Killing the
// process then loses those records; a clean shutdown (close()) flushes them.
//
// PostgreSQL unreachable: batches stay in memory and are retried; beyond
// maxPendingRecords the oldest are dropped (counted in `dropped`, logged),
// so an outage of the database cannot exhaust the gateway's memory.
//
// Owner: the UsageOutbox owns its timer and pending batch; close() flushes and stops.
import type { Pool } from 'pg';
import type { Logger } from '../common/logger';
import type { UsageRecord, UsageSink } from '../gateway/pipeline/usage';

export interface OutboxOptions {
  pool: Pool;
  logger: Logger;
  flushIntervalMs?: number; // default 50
  maxBatch?: number; // rows per INSERT, and the batch size that flushes at once; default 1000
  maxPendingRecords?: number; // held in memory while PostgreSQL is away; default 200,000
  onFlushed?: () => void; // rows were committed (the relay's wake-up)
}

const COLUMNS =
  'id, request_id, tenant, key_id, model, version, protocol, inferences, input_bytes, output_bytes, ' +
  'queue_us, compute_us, status, started_at, duration_us';

// A record is turned into a JSON array text at once (record()): one flat
// string per record instead of an object graph for the garbage collector to
// trace while it waits for its batch, and the shortest text to send. The
// batch then goes as ONE JSON parameter that PostgreSQL unpacks.
const INSERT = `INSERT INTO usage_outbox (${COLUMNS})
  SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, (r->>7)::int, (r->>8)::bigint, (r->>9)::bigint,
         (r->>10)::bigint, (r->>11)::bigint, r->>12, to_timestamp((r->>13)::float8 / 1000.0), (r->>14)::bigint
  FROM json_array_elements($1::json) AS r
  ON CONFLICT (id) DO NOTHING`;

function jsonRow(r: UsageRecord): string {
  return JSON.stringify([
    r.id,
    r.requestId,
    r.tenant,
    r.keyId,
    r.model,
    r.version,
    r.protocol,
    r.inferences,
    r.inputBytes,
    r.outputBytes,
    r.queueUs,
    r.computeUs,
    r.status,
    r.startedAtMs,
    r.durationUs,
  ]);
}

export class UsageOutbox implements UsageSink {
  private pending: string[] = []; // jsonRow() texts
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private failing = false;
  private closed = false;
  private soonArmed = false;
  dropped = 0; // records lost to a long PostgreSQL outage
  written = 0; // records committed

  constructor(private readonly o: OutboxOptions) {
    this.flushIntervalMs = o.flushIntervalMs ?? 50;
    this.maxBatch = o.maxBatch ?? 1000;
    this.maxPending = o.maxPendingRecords ?? 200_000;
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  record(usage: UsageRecord): void {
    this.pending.push(jsonRow(usage));
    if (this.pending.length >= this.maxBatch && !this.soonArmed && !this.failing) {
      this.soonArmed = true;
      setImmediate(() => {
        this.soonArmed = false;
        void this.flush();
      });
    }
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  // Writes what is pending; one flush at a time. Never rejects.
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.length === 0) return Promise.resolve();
    this.flushing = this.writePending().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    while (this.pending.length > 0) {
      // Taken out first: records that arrive during the INSERT go to the next batch.
      const batch = this.pending.length <= this.maxBatch ? this.pending : this.pending.slice(0, this.maxBatch);
      this.pending = batch === this.pending ? [] : this.pending.slice(batch.length);
      try {
        await this.o.pool.query(INSERT, [`[${batch.join(',')}]`]);
      } catch (err) {
        this.pending = batch.concat(this.pending);
        this.onFailure(err);
        return;
      }
      this.written += batch.length;
      if (this.failing) {
        this.failing = false;
        this.o.logger.info({ dropped: this.dropped }, 'usage outbox: PostgreSQL reachable again');
      }
      this.o.onFlushed?.();
    }
  }

  private onFailure(err: unknown): void {
    if (!this.failing) {
      this.failing = true;
      this.o.logger.error(
        { err, pending: this.pending.length },
        'usage outbox: cannot write to PostgreSQL; usage records are held in memory and retried',
      );
    }
    const excess = this.pending.length - this.maxPending;
    if (excess > 0) {
      this.pending = this.pending.slice(excess);
      this.dropped += excess;
      this.o.logger.error({ dropped: this.dropped }, `usage outbox: dropped the ${excess} oldest usage records`);
    }
  }

  // Flushes what is pending (retrying while PostgreSQL answers errors, until
  // deadlineMs) and stops the timer.
  async close(deadlineMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const until = Date.now() + deadlineMs;
    for (;;) {
      await this.flush();
      if (this.pending.length === 0 || Date.now() > until) break;
      await new Promise((resolve) => setTimeout(resolve, this.flushIntervalMs));
    }
    if (this.pending.length > 0)
      this.o.logger.error({ lost: this.pending.length }, 'usage outbox: closed with usage records not written');
  }
}
