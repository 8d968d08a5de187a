// The usage step's PostgreSQL adapter (docs/usage.md "Guarantees"): record()
// appends to an in-memory batch (the hot path: one array push); a flusher
// writes the batch to usage_outbox every flushIntervalMs, or at once when it
// holds maxBatch records, as one multi-row INSERT per maxBatch records with
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

// One array parameter per column (unnest), so a batch is one statement with
// 15 parameters whatever its size.
const INSERT = `INSERT INTO usage_outbox (${COLUMNS})
  SELECT id, rid, tenant, key_id, model, version, protocol, inferences, in_b, out_b, queue_us, compute_us, status,
         to_timestamp(started_ms / 1000.0), duration_us
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],
              $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::float8[], $15::bigint[])
    AS t(id, rid, tenant, key_id, model, version, protocol, inferences, in_b, out_b, queue_us, compute_us, status,
         started_ms, duration_us)
  ON CONFLICT (id) DO NOTHING`;

export class UsageOutbox implements UsageSink {
  private pending: UsageRecord[] = [];
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
    this.pending.push(usage);
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
        await this.o.pool.query(INSERT, columns(batch));
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

function columns(batch: readonly UsageRecord[]): unknown[][] {
  const n = batch.length;
  const cols: unknown[][] = Array.from({ length: 15 }, () => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const r = batch[i];
    cols[0][i] = r.id;
    cols[1][i] = r.requestId;
    cols[2][i] = r.tenant;
    cols[3][i] = r.keyId;
    cols[4][i] = r.model;
    cols[5][i] = r.version;
    cols[6][i] = r.protocol;
    cols[7][i] = r.inferences;
    cols[8][i] = r.inputBytes;
    cols[9][i] = r.outputBytes;
    cols[10][i] = r.queueUs;
    cols[11][i] = r.computeUs;
    cols[12][i] = r.status;
    cols[13][i] = r.startedAtMs;
    cols[14][i] = r.durationUs;
  }
  return cols;
}
