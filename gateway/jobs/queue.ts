// How a new job reaches a worker: the dispatch port. Dispatch only says
// "job <id> is waiting"; the jobs table decides who runs it (a worker claims
// the row, store.ts), so a message delivered twice, or to a worker that
// finds the job already taken, does no harm, and a message lost is made up
// for by every worker's periodic look for unclaimed jobs (worker.ts).
//   in process (all-in-one): this file
//   Kafka (--kafka-brokers): kafka-queue.ts, topic maas.jobs.v1
export interface JobQueue {
  readonly kind: string;
  // Starts delivering job ids to `onJob` (called without awaiting it).
  start(onJob: (jobId: string) => void): Promise<void>;
  publish(jobId: string): Promise<void>;
  close(): Promise<void>;
}

export class InProcessJobQueue implements JobQueue {
  readonly kind = 'in-process';
  private onJob: ((jobId: string) => void) | null = null;

  start(onJob: (jobId: string) => void): Promise<void> {
    this.onJob = onJob;
    return Promise.resolve();
  }

  publish(jobId: string): Promise<void> {
    const deliver = this.onJob;
    if (deliver) setImmediate(() => deliver(jobId));
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.onJob = null;
    return Promise.resolve();
  }
}
