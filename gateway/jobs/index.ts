// Asynchronous inference jobs, assembled (docs/jobs.md): the table, the
// dispatch queue (Kafka with brokers, else in process), this gateway's
// worker and the API routes. gateway/server.ts starts it when the registry
// runs (jobs need its PostgreSQL and artifact store).
//
// Owner: the returned Jobs owns the worker (its timers) and the queue (its
// Kafka connections); close() ends both.
import type { Logger } from '../../common/logger';
import type { Registry } from '../../registry';
import { JobsApi } from './api';
import { KafkaJobQueue } from './kafka-queue';
import { InProcessJobQueue, type JobQueue } from './queue';
import type { RequestRunner } from './run-request';
import { JobStore } from './store';
import { JobWorker, type WorkerOptions } from './worker';

export { adminWithJobs } from './api';

export interface JobsOptions {
  kafkaBrokers?: string[]; // dispatch on maas.jobs.v1; else in process
  kafkaTopic?: string; // default maas.jobs.v1
  kafkaGroup?: string; // default maas-jobs
  kafkaPartitions?: number; // of maas.jobs.v1 when it is created (--kafka-partitions)
  leaseMs?: number;
  sweepIntervalMs?: number;
  windowSize?: number;
  maxJobs?: number;
  chunkSize?: number;
  maxJobBytes?: number;
  webhook?: WorkerOptions['webhook'];
}

export interface Jobs {
  api: JobsApi;
  worker: JobWorker;
  store: JobStore;
  queue: JobQueue;
  close(): Promise<void>;
}

export async function startJobs(
  registry: Registry,
  runner: RequestRunner,
  options: JobsOptions,
  logger: Logger,
): Promise<Jobs> {
  const store = new JobStore(registry.store.pool);
  const queue: JobQueue = options.kafkaBrokers?.length
    ? new KafkaJobQueue({
        brokers: options.kafkaBrokers,
        topic: options.kafkaTopic,
        groupId: options.kafkaGroup,
        partitions: options.kafkaPartitions,
        logger,
      })
    : new InProcessJobQueue();
  const worker = new JobWorker({
    store,
    artifacts: registry.artifacts,
    runner,
    queue,
    spoolDir: registry.spoolDir,
    logger,
    leaseMs: options.leaseMs,
    sweepIntervalMs: options.sweepIntervalMs,
    windowSize: options.windowSize,
    maxJobs: options.maxJobs,
    webhook: options.webhook,
  });
  await worker.start();
  const api = new JobsApi({
    store,
    artifacts: registry.artifacts,
    queue,
    worker,
    runner,
    tenantId: (name) => registry.store.tenantId(name),
    maxJobBytes: options.maxJobBytes,
    chunkSize: options.chunkSize,
  });
  return { api, worker, store, queue, close: () => worker.close() };
}
