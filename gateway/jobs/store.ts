// The jobs table (registry/migrations/1764400000000_jobs.sql): every SQL
// statement the jobs system runs. The row is the one truth about a job: its
// state, progress, checkpoint and the lease of the worker running it.
// Claiming uses FOR UPDATE SKIP LOCKED so that concurrent workers never wait
// on each other, and every write of a worker names its lease owner, so a
// worker that lost its lease (it was presumed dead and the job was taken
// over, or the job was cancelled) changes nothing.
import type { Pool } from 'pg';
import type { Principal } from '../inference/call';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobRow {
  id: string;
  tenant: string | null; // tenant name; null for a job an admin made
  principal: Principal;
  model: string;
  version: string | null;
  webhook: string | null;
  status: JobStatus;
  reason: string | null;
  total: number;
  done: number;
  failed: number;
  chunkSize: number;
  chunksDone: number;
  checkpointFailed: number;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewJob {
  id: string;
  tenantId: string | null;
  principal: Principal;
  model: string;
  version: string | null;
  webhook: string | null;
  total: number;
  chunkSize: number;
}

const COLUMNS = `j.id, t.name AS tenant, j.principal, j.model, j.version, j.webhook, j.status, j.reason, j.total,
  j.done, j.failed, j.chunk_size, j.chunks_done, j.checkpoint_failed, j.attempts, j.created_at, j.started_at, j.finished_at`;

function toRow(r: Record<string, unknown>): JobRow {
  return {
    id: r.id as string,
    tenant: (r.tenant as string | null) ?? null,
    principal: r.principal as Principal,
    model: r.model as string,
    version: (r.version as string | null) ?? null,
    webhook: (r.webhook as string | null) ?? null,
    status: r.status as JobStatus,
    reason: (r.reason as string | null) ?? null,
    total: r.total as number,
    done: r.done as number,
    failed: r.failed as number,
    chunkSize: r.chunk_size as number,
    chunksDone: r.chunks_done as number,
    checkpointFailed: r.checkpoint_failed as number,
    attempts: r.attempts as number,
    createdAt: r.created_at as Date,
    startedAt: (r.started_at as Date | null) ?? null,
    finishedAt: (r.finished_at as Date | null) ?? null,
  };
}

export class JobStore {
  constructor(readonly pool: Pool) {}

  // The row and its audit line in one transaction.
  async create(job: NewJob, actor: { subject: string; source: string }): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO jobs (id, tenant_id, principal, model, version, webhook, total, chunk_size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [job.id, job.tenantId, job.principal, job.model, job.version, job.webhook, job.total, job.chunkSize],
      );
      await client.query(
        'INSERT INTO audit_log (actor, tenant_id, action, target, detail, source) VALUES ($1, $2, $3, $4, $5, $6)',
        [actor.subject, job.tenantId, 'job.create', job.id, { model: job.model, requests: job.total }, actor.source],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  // A job as `tenant` may see it (null: every job, for an admin).
  async get(id: string, tenant: string | null): Promise<JobRow | null> {
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT ${COLUMNS} FROM jobs j LEFT JOIN tenants t ON t.id = j.tenant_id
        WHERE j.id = $1 AND ($2::text IS NULL OR t.name = $2)`,
      [id, tenant],
    );
    return rows.length ? toRow(rows[0]) : null;
  }

  async list(tenant: string | null, limit: number, offset: number): Promise<JobRow[]> {
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT ${COLUMNS} FROM jobs j LEFT JOIN tenants t ON t.id = j.tenant_id
        WHERE ($1::text IS NULL OR t.name = $1) ORDER BY j.created_at DESC, j.id LIMIT $2 OFFSET $3`,
      [tenant, limit, offset],
    );
    return rows.map(toRow);
  }

  // Queued or running → cancelled, audited; null when the job is already over.
  async cancel(id: string, actor: { subject: string; source: string }): Promise<JobRow | null> {
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `WITH c AS (
         UPDATE jobs SET status = 'cancelled', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
          WHERE id = $1 AND status IN ('queued', 'running') RETURNING *),
       a AS (
         INSERT INTO audit_log (actor, tenant_id, action, target, source)
         SELECT $2, c.tenant_id, 'job.cancel', c.id::text, $3 FROM c)
       SELECT ${COLUMNS} FROM c j LEFT JOIN tenants t ON t.id = j.tenant_id`,
      [id, actor.subject, actor.source],
    );
    return rows.length ? toRow(rows[0]) : null;
  }

  // Takes a job that nobody runs: queued, or running under an expired lease
  // (its worker died). `id` null: the oldest such job. A job claimed
  // maxAttempts times already is failed instead (it keeps killing workers).
  async claim(id: string | null, owner: string, leaseMs: number, maxAttempts: number): Promise<JobRow | null> {
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `WITH pick AS (
         SELECT id FROM jobs
          WHERE ($1::uuid IS NULL OR id = $1)
            AND (status = 'queued' OR (status = 'running' AND lease_expires_at < now()))
          ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE jobs j SET
         status = CASE WHEN j.attempts >= $4 THEN 'failed' ELSE 'running' END,
         reason = CASE WHEN j.attempts >= $4 THEN 'its workers stopped ' || j.attempts || ' times while running it' END,
         finished_at = CASE WHEN j.attempts >= $4 THEN now() END,
         lease_owner = CASE WHEN j.attempts >= $4 THEN NULL ELSE $2 END,
         lease_expires_at = CASE WHEN j.attempts >= $4 THEN NULL ELSE now() + $3 * interval '1 millisecond' END,
         attempts = j.attempts + 1,
         started_at = coalesce(j.started_at, now()),
         -- progress restarts from the checkpoint
         done = CASE WHEN j.attempts >= $4 THEN j.done ELSE least(j.total, j.chunks_done * j.chunk_size) END,
         failed = CASE WHEN j.attempts >= $4 THEN j.failed ELSE j.checkpoint_failed END
         FROM pick WHERE j.id = pick.id
       RETURNING j.id`,
      [id, owner, leaseMs, maxAttempts],
    );
    if (!rows.length) return null;
    return this.get(rows[0].id as string, null);
  }

  // Renews the lease and publishes live progress; false when the lease is
  // no longer ours (the job was cancelled, or taken over).
  async heartbeat(id: string, owner: string, leaseMs: number, done: number, failed: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE jobs SET lease_expires_at = now() + $3 * interval '1 millisecond', done = $4, failed = $5
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner, leaseMs, done, failed],
    );
    return rowCount === 1;
  }

  // The checkpoint after a chunk is stored; false when the lease is lost.
  async checkpoint(id: string, owner: string, chunksDone: number, done: number, failed: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE jobs SET chunks_done = $3, done = $4, failed = $5, checkpoint_failed = $5
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner, chunksDone, done, failed],
    );
    return rowCount === 1;
  }

  // running → succeeded | failed; null when the lease is lost.
  async finish(
    id: string,
    owner: string,
    status: 'succeeded' | 'failed',
    reason: string | null,
  ): Promise<JobRow | null> {
    const { rowCount } = await this.pool.query(
      `UPDATE jobs SET status = $3, reason = $4, finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner, status, reason],
    );
    return rowCount === 1 ? this.get(id, null) : null;
  }
}
