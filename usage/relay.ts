// The usage relay (docs/usage.md "Guarantees"): takes unrelayed outbox rows
// in seq order, delivers them to Kafka's maas.usage.v1 when a bus is
// configured, adds them to the hourly roll-up and marks them relayed, all in
// ONE transaction:
//   - a row is rolled up exactly once (the roll-up and the mark commit together);
//   - a row is marked only after the broker acknowledged it, so none is lost;
//   - a row whose ack arrived is never sent again by a live relay; it can be
//     sent twice only when the commit after the ack fails (PostgreSQL lost,
//     the process killed between ack and commit), so consumers dedupe by id.
// Replicas share the work: FOR UPDATE SKIP LOCKED gives each batch to one.
//
// Kafka or PostgreSQL down: the transaction rolls back, the rows wait, the
// relay retries with a growing pause and logs once per outage. Inference
// never waits on the relay.
//
// Owner: the UsageRelay owns its loop and its retention timer; stop() ends
// them. The publisher is shared (lifecycle events): its opener closes it.
import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../common/logger';
import { USAGE_TOPIC, type BusMessage, type EventPublisher } from '../events/port';

export interface RelayOptions {
  pool: Pool;
  logger: Logger;
  publisher: EventPublisher | null; // null: roll up only (no Kafka)
  batchRows?: number; // default 500
  pollMs?: number; // default 1 s: rows other replicas wrote (this one's flushes wake the relay)
  retentionDays: number; // relayed raw rows older than this are deleted
  cleanupEveryMs?: number; // default 1 h
}

const MAX_BACKOFF_MS = 5000;
const DEFAULT_POLL_MS = 1000;
const MIN_GAP_MS = 200;

// Adds the rows of `source` (the outbox, or rows just marked) to the roll-up.
function rollUp(source: string): string {
  return `INSERT INTO usage_hourly AS h
    (tenant, key_id, model, hour, requests, inferences, input_bytes, output_bytes, compute_us, errors)
  SELECT coalesce(tenant, ''), key_id, model, date_trunc('hour', started_at, 'UTC'), count(*), sum(inferences),
         sum(input_bytes), sum(output_bytes), sum(compute_us), count(*) FILTER (WHERE status <> 'OK')
  FROM ${source}
  GROUP BY 1, 2, 3, 4
  ON CONFLICT (tenant, hour, model, key_id) DO UPDATE SET
    requests = h.requests + EXCLUDED.requests, inferences = h.inferences + EXCLUDED.inferences,
    input_bytes = h.input_bytes + EXCLUDED.input_bytes, output_bytes = h.output_bytes + EXCLUDED.output_bytes,
    compute_us = h.compute_us + EXCLUDED.compute_us, errors = h.errors + EXCLUDED.errors`;
}

const ROLL_UP_IDS = rollUp('usage_outbox WHERE id = ANY($1::text[])');

// Without a bus: take, mark and roll up a batch in one statement (atomic,
// one round trip).
const RELAY_LOCAL = `WITH batch AS (
    SELECT id FROM usage_outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
  ), marked AS (
    UPDATE usage_outbox o SET relayed_at = now() FROM batch WHERE o.id = batch.id
    RETURNING o.tenant, o.key_id, o.model, o.started_at, o.inferences, o.input_bytes, o.output_bytes,
              o.compute_us, o.status
  ), rolled AS (${rollUp('marked')})
  SELECT count(*)::int AS n FROM marked`;

export interface OutboxRow {
  id: string;
  request_id: string;
  tenant: string | null;
  key_id: string;
  model: string;
  version: string | null;
  protocol: string;
  inferences: number;
  input_bytes: string; // bigint
  output_bytes: string;
  queue_us: string;
  compute_us: string;
  status: string;
  started_at: Date;
  duration_us: string;
}

export const OUTBOX_SELECT =
  'id, request_id, tenant, key_id, model, version, protocol, inferences, input_bytes, output_bytes, ' +
  'queue_us, compute_us, status, started_at, duration_us';

// A row in the public record form (docs/usage.md "Record"): maas.usage.v1's
// message value and the export's lines.
export function publicRecord(r: OutboxRow): Record<string, unknown> {
  return {
    id: r.id,
    requestId: r.request_id,
    tenant: r.tenant,
    keyId: r.key_id,
    model: r.model,
    version: r.version,
    protocol: r.protocol,
    inferences: r.inferences,
    inputBytes: Number(r.input_bytes),
    outputBytes: Number(r.output_bytes),
    queueUs: Number(r.queue_us),
    computeUs: Number(r.compute_us),
    status: r.status,
    startedAt: r.started_at.toISOString(),
    durationUs: Number(r.duration_us),
  };
}

export class UsageRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private outage: 'kafka' | 'database' | null = null;
  private cleanupTimer: NodeJS.Timeout | null = null;
  private readonly batchRows: number;
  relayed = 0;

  constructor(private readonly o: RelayOptions) {
    this.batchRows = o.batchRows ?? 500;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    this.cleanupTimer = setInterval(
      () => void this.cleanup().catch(() => undefined),
      this.o.cleanupEveryMs ?? 3_600_000,
    );
    this.cleanupTimer.unref();
    void this.cleanup().catch(() => undefined);
  }

  // New rows were committed: relay them now rather than at the next poll.
  wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    let backoffMs = 0;
    while (this.running) {
      let moved = 0;
      const ranAtMs = performance.now();
      try {
        moved = await this.relayBatch();
        backoffMs = 0;
      } catch (err) {
        this.reportOutage(err);
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs === 0 ? 250 : backoffMs * 2);
      }
      if (!this.running) break;
      if (backoffMs > 0) await this.pause(backoffMs, false);
      else if (moved < this.batchRows) {
        await this.pause(this.o.pollMs ?? DEFAULT_POLL_MS, true);
        // Woken by every flush (~50 ms apart under load): relay at most every
        // MIN_GAP_MS, so that batches, not statements, grow with the load.
        const gapMs = MIN_GAP_MS - (performance.now() - ranAtMs);
        if (gapMs > 0 && this.running) await this.pause(gapMs, false);
      }
    }
  }

  private pause(ms: number, wakeable: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      if (wakeable) this.wakeUp = done;
      this.stopWaiter = done;
    }).finally(() => {
      this.wakeUp = null;
      this.stopWaiter = null;
    });
  }

  private stopWaiter: (() => void) | null = null;

  // One batch, one transaction; returns the rows relayed.
  async relayBatch(): Promise<number> {
    const moved = this.o.publisher ? await this.relayToBus(this.o.publisher) : await this.relayLocal();
    if (this.outage) {
      this.o.logger.info({ after: this.outage }, 'usage relay: delivering again');
      this.outage = null;
    }
    this.relayed += moved;
    return moved;
  }

  private async relayLocal(): Promise<number> {
    try {
      const { rows } = await this.o.pool.query<{ n: number }>(RELAY_LOCAL, [this.batchRows]);
      return rows[0].n;
    } catch (err) {
      throw new RelayError('database', err);
    }
  }

  private async relayToBus(publisher: EventPublisher): Promise<number> {
    let client: PoolClient;
    try {
      client = await this.o.pool.connect();
    } catch (err) {
      throw new RelayError('database', err);
    }
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<OutboxRow>(
        `SELECT ${OUTBOX_SELECT} FROM usage_outbox
         WHERE relayed_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchRows],
      );
      if (rows.length > 0) {
        const messages: BusMessage[] = rows.map((r) => ({
          key: r.tenant ?? '',
          value: JSON.stringify(publicRecord(r)),
        }));
        try {
          await publisher.send(USAGE_TOPIC, messages);
        } catch (err) {
          throw new RelayError('kafka', err);
        }
        const ids = rows.map((r) => r.id);
        await client.query(ROLL_UP_IDS, [ids]);
        await client.query('UPDATE usage_outbox SET relayed_at = now() WHERE id = ANY($1::text[])', [ids]);
      }
      await client.query('COMMIT');
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err instanceof RelayError ? err : new RelayError('database', err);
    } finally {
      client.release();
    }
  }

  private reportOutage(err: unknown): void {
    const kind = err instanceof RelayError ? err.kind : 'database';
    if (this.outage === kind) return;
    this.outage = kind;
    const cause = err instanceof RelayError ? err.reason : err;
    this.o.logger.warn(
      { err: cause },
      kind === 'kafka'
        ? 'usage relay: Kafka unreachable; usage records wait in the outbox and are delivered when it returns'
        : 'usage relay: PostgreSQL unreachable; retrying',
    );
  }

  // Deletes relayed raw rows older than the retention (in slices, so no
  // long lock); the roll-up keeps their totals. Returns the rows deleted.
  async cleanup(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.o.pool.query(
        `DELETE FROM usage_outbox WHERE id IN (SELECT id FROM usage_outbox
           WHERE relayed_at IS NOT NULL AND started_at < now() - make_interval(days => $1) LIMIT 10000)`,
        [this.o.retentionDays],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < 10000) return total;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.stopWaiter?.();
    await this.loop;
  }
}

class RelayError extends Error {
  constructor(
    readonly kind: 'kafka' | 'database',
    readonly reason: unknown,
  ) {
    super(`usage relay: ${kind}: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}
