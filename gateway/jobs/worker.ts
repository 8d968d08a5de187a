// The job worker every gateway runs (docs/jobs.md "Execution"). It takes
// job ids from the dispatch queue (queue.ts) and, every sweep interval, looks
// for jobs nobody runs (never dispatched, or whose worker died: an expired
// lease); claims each in PostgreSQL (store.ts); and runs it chunk by chunk:
// the chunk's requests go through the gateway's own pipeline and serving
// path (run-request.ts) with at most `windowSize` in flight, the chunk's
// result lines are written whole to the artifact store, then the checkpoint
// (chunks done) is committed. A job taken over resumes at its first chunk
// not checkpointed; a chunk run twice is written twice under the same key,
// so the results hold each request's line exactly once.
//
// Owner: the worker owns its timers (sweep, one heartbeat per running job)
// and the temporary chunk files under spoolDir; close() ends them.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../common/logger';
import type { ArtifactStore } from '../../registry/artifacts/port';
import { chunkKey, inputKey, splitLines } from './keys';
import type { JobQueue } from './queue';
import { runJobRequest, type RequestRunner } from './run-request';
import type { JobRow, JobStore } from './store';
import { sendWebhook, type WebhookOptions } from './webhook';
import { jobView } from './view';

export interface WorkerOptions {
  store: JobStore;
  artifacts: ArtifactStore;
  runner: RequestRunner;
  queue: JobQueue;
  spoolDir: string; // temporary chunk files
  logger: Logger;
  leaseMs?: number; // default 30 s; renewed every third of it
  sweepIntervalMs?: number; // default 5 s
  windowSize?: number; // requests in flight per job; default 16
  maxJobs?: number; // jobs run at once by this worker; default 2
  maxAttempts?: number; // claims before a job is failed; default 5
  webhook?: WebhookOptions;
}

export const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_SWEEP_INTERVAL_MS = 5000;
const DEFAULT_WINDOW = 16;
const DEFAULT_MAX_JOBS = 2;
const DEFAULT_MAX_ATTEMPTS = 5;
// Refusals that pass with time (docs/limits.md); a quota is not one of them.
const RETRIED = new Set(['RATE_LIMITED', 'CONCURRENCY_LIMITED']);

interface Running {
  row: JobRow;
  stopped: boolean; // cancelled, lease lost, or the worker is closing
  done: Promise<void>;
}

export class JobWorker {
  readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  // How this worker came to run its jobs (tests and diagnostics).
  readonly stats = { viaQueue: 0, viaSweep: 0, chunksWritten: 0 };
  private readonly running = new Map<string, Running>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private closed = false;
  private readonly leaseMs: number;

  constructor(private readonly o: WorkerOptions) {
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  }

  async start(): Promise<void> {
    await this.o.queue.start((id) => void this.take(id));
    this.sweepTimer = setInterval(() => void this.sweep(), this.o.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    void this.sweep(); // jobs left by a previous life of this gateway
  }

  // A job was cancelled through this gateway: stop it here at once (other
  // workers notice at their next heartbeat or checkpoint).
  stopLocal(id: string): void {
    const run = this.running.get(id);
    if (run) run.stopped = true;
  }

  private get full(): boolean {
    return this.closed || this.running.size >= (this.o.maxJobs ?? DEFAULT_MAX_JOBS);
  }

  private async take(id: string): Promise<void> {
    if (this.full || this.running.has(id)) return;
    const row = await this.claim(id);
    if (row) {
      this.stats.viaQueue++;
      this.launch(row);
    }
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      while (!this.full) {
        const row = await this.claim(null);
        if (!row) break;
        this.stats.viaSweep++;
        this.launch(row);
      }
    } finally {
      this.sweeping = false;
    }
  }

  private async claim(id: string | null): Promise<JobRow | null> {
    try {
      const row = await this.o.store.claim(id, this.owner, this.leaseMs, this.o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
      if (row && row.status !== 'running') this.notify(row); // failed: too many attempts
      return row && row.status === 'running' ? row : null;
    } catch (err) {
      this.o.logger.warn({ err }, 'could not claim a job');
      return null;
    }
  }

  private launch(row: JobRow): void {
    const run: Running = { row, stopped: false, done: Promise.resolve() };
    this.running.set(row.id, run);
    run.done = this.run(run).finally(() => {
      this.running.delete(row.id);
      if (!this.closed) void this.sweep();
    });
  }

  private async run(run: Running): Promise<void> {
    const { row } = run;
    const { store, logger } = this.o;
    const progress = { done: Math.min(row.total, row.chunksDone * row.chunkSize), failed: row.checkpointFailed };
    const heartbeat = setInterval(
      () => {
        store.heartbeat(row.id, this.owner, this.leaseMs, progress.done, progress.failed).then(
          (ours) => {
            if (!ours) run.stopped = true;
          },
          (err: unknown) => logger.warn({ err, job: row.id }, 'job heartbeat failed'),
        );
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    heartbeat.unref();
    try {
      const lines = splitLines(await this.o.artifacts.get(inputKey(row.id)));
      if (lines.length !== row.total) throw new Error(`the input holds ${lines.length} requests, not ${row.total}`);
      const chunks = Math.ceil(row.total / row.chunkSize);
      for (let c = row.chunksDone; c < chunks; c++) {
        const failedBefore = progress.failed;
        const out = await this.runChunk(run, lines, c, progress);
        if (run.stopped) {
          progress.failed = failedBefore;
          return;
        }
        await this.writeChunk(row.id, c, out);
        if (!(await store.checkpoint(row.id, this.owner, c + 1, progress.done, progress.failed))) return;
      }
      const allFailed = progress.failed === row.total;
      const ended = await store.finish(
        row.id,
        this.owner,
        allFailed ? 'failed' : 'succeeded',
        allFailed ? 'every request failed (see the results)' : null,
      );
      if (ended) this.notify(ended);
    } catch (err) {
      if (run.stopped) return;
      logger.error({ err, job: row.id }, 'job failed');
      const ended = await store
        .finish(row.id, this.owner, 'failed', `the job could not run: ${(err as Error).message}`)
        .catch(() => null);
      if (ended) this.notify(ended);
    } finally {
      clearInterval(heartbeat);
    }
  }

  // The lines of chunk c, in input order, with at most windowSize requests in flight.
  private async runChunk(
    run: Running,
    lines: Buffer[],
    c: number,
    progress: { done: number; failed: number },
  ): Promise<string[]> {
    const { row } = run;
    const from = c * row.chunkSize;
    const to = Math.min(row.total, from + row.chunkSize);
    const out = new Array<string>(to - from);
    let next = from;
    const lane = async (): Promise<void> => {
      while (next < to && !run.stopped) {
        const index = next++;
        const request = {
          jobId: row.id,
          index,
          principal: row.principal,
          model: row.model,
          version: row.version ?? undefined,
          body: lines[index],
        };
        let { line, ok, code } = await runJobRequest(this.o.runner, request);
        // The tenant's rate or concurrency limit holds for its jobs too: a
        // refused request waits and is tried again, not answered with 429.
        for (let pauseMs = 50; RETRIED.has(code) && !run.stopped; pauseMs = Math.min(2000, pauseMs * 2)) {
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
          ({ line, ok, code } = await runJobRequest(this.o.runner, request));
        }
        out[index - from] = line;
        progress.done++;
        if (!ok) progress.failed++;
      }
    };
    const lanes = Math.min(this.o.windowSize ?? DEFAULT_WINDOW, to - from);
    await Promise.all(Array.from({ length: lanes }, lane));
    return out;
  }

  // Whole or not at all: a temporary file, then the store's own atomic put.
  private async writeChunk(jobId: string, c: number, lines: string[]): Promise<void> {
    const temp = path.join(this.o.spoolDir, `job-${jobId}-${c}-${randomBytes(4).toString('hex')}.part`);
    const bytes = Buffer.from(lines.join('\n') + '\n');
    try {
      await fs.writeFile(temp, bytes, { mode: 0o600 });
      await this.o.artifacts.put(chunkKey(jobId, c), temp, bytes.byteLength);
      this.stats.chunksWritten++;
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  notify(row: JobRow): void {
    if (row.webhook) void sendWebhook(row.webhook, jobView(row), this.o.logger, this.o.webhook);
  }

  // Stops taking jobs and stops the running ones after their request in
  // flight; their leases lapse and another worker (or this gateway's next
  // life) resumes them from their checkpoints.
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const run of this.running.values()) run.stopped = true;
    await Promise.all([...this.running.values()].map((r) => r.done));
    await this.o.queue.close();
  }
}
