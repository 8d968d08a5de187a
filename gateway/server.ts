// The all-in-one server: filesystem catalog → serving layer (runtimes,
// batchers, engine sessions) → request pipeline → KServe v2 HTTP front end,
// with metrics and logs. `maas serve` runs this (docs/architecture.md).
import { createLogger, type LogLevel, type Logger } from '../common/logger';
import { packageVersion } from '../common/package-root';
import { InferenceMetrics } from '../common/metrics';
import { deviceMemory, devices, loadModel } from '../native';
import { startRegistry, type Registry, type RegistryOptions } from '../registry';
import { startLimits } from '../limits';
import { BusLifecycleEvents } from '../events/lifecycle';
import { KafkaPublisher, type KafkaSettings } from '../events/kafka';
import { noLifecycleEvents } from '../events/port';
import { registerUsageRoutes, startUsage, type Usage } from '../usage';
import { CompositeCatalog } from './catalog/composite';
import { GpuMetrics } from './gpu-metrics';
import { FilesystemCatalog } from './catalog/filesystem';
import type { ModelCatalog } from './catalog/port';
import { startGrpcServer, type RunningGrpcServer } from './grpc/server';
import { startHttpServer } from './http/app';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES } from './http/body';
import { adminWithJobs, startJobs, type Jobs, type JobsOptions } from './jobs';
import { Pipeline } from './pipeline/pipeline';
import { ModelServing } from './serving/model-service';
import { createResponseCache } from './serving/cache-store';
import type { ControlMode } from './serving/types';

export interface ServerOptions {
  modelRepository: string;
  httpPort?: number; // default 8000; 0 = ephemeral
  grpcPort?: number; // gRPC front end (docs/grpc.md); 0 = ephemeral; undefined = none (`maas serve` passes 8001)
  host?: string; // default 0.0.0.0
  logLevel?: LogLevel;
  logger?: Logger;
  maxBodyBytes?: number; // default 64 MiB
  maxBufferedBodyBytes?: number; // request bodies held at once; default 1 GiB
  intraOpThreads?: number; // engine threads per instance; default: the cores shared among a model's instances
  shutdownDeadlineMs?: number; // default 10 s
  shutdownLingerMs?: number; // default 500 ms (see HttpDeps.closeLingerMs)
  controlMode?: ControlMode; // default 'none'
  loadModels?: readonly string[]; // explicit mode: loaded at start ('*' = all)
  repositoryPollSecs?: number; // poll mode: rescan interval; default 15
  drainDeadlineMs?: number; // a replaced or unloaded model version's time to finish; default 30 s
  accessLogSampleEvery?: number; // one successful call in N gets an access line; default 100, 0 = none
  wsMaxInFlight?: number; // WebSocket requests in flight per socket; default 4096
  wsMaxBufferedBytes?: number; // unread WebSocket answers per socket before it is closed (1008); default 64 MiB
  // The registry (tenants, keys, uploaded models, /api/v1, auth). Absent: the
  // repository alone, every caller anonymous (embedding and tests).
  registry?: Omit<RegistryOptions, 'logger'>;
  // Asynchronous inference jobs (docs/jobs.md); with the registry only.
  jobs?: JobsOptions;
  limitsFailClosed?: boolean; // Redis unreachable: refuse limited calls (docs/limits.md)
  // Usage metering (docs/usage.md): on by default when the registry is
  // there (its PostgreSQL holds the outbox); without the registry, off.
  usage?: { enabled?: boolean; retentionDays?: number; flushIntervalMs?: number };
  // --kafka-brokers: usage records and lifecycle events also go to Kafka.
  kafka?: KafkaSettings;
}

export interface RunningServer {
  httpPort: number;
  grpcPort: number | null; // null: no gRPC front end
  host: string;
  models: ModelServing;
  metrics: InferenceMetrics;
  registry: Registry | null;
  usage: Usage | null;
  jobs: Jobs | null;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES };

export const DEFAULT_REPOSITORY_POLL_SECS = 15;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const metrics = new InferenceMetrics({ processMetrics: true });
  const controlMode = options.controlMode ?? 'none';
  const host = options.host ?? '0.0.0.0';
  if (options.registry?.auth === 'none' && !LOOPBACK.has(host))
    throw new Error(`--auth none serves without authentication: only on loopback (127.0.0.1 or ::1), not ${host}`);
  const repository = new FilesystemCatalog(options.modelRepository, {
    pollIntervalMs: controlMode === 'poll' ? (options.repositoryPollSecs ?? DEFAULT_REPOSITORY_POLL_SECS) * 1000 : 0,
  });
  await repository.listModels(); // a missing repository stops the start-up with its reason
  const bus = options.kafka ? new KafkaPublisher(options.kafka) : null;
  const events = bus ? new BusLifecycleEvents(bus, logger.child({ component: 'events' })) : null;
  const registry = options.registry
    ? await startRegistry({
        ...options.registry,
        events: events ?? undefined,
        logger: logger.child({ component: 'registry' }),
      })
    : null;
  let limits: Awaited<ReturnType<typeof startLimits>> | null = null;
  try {
    if (registry)
      limits = await startLimits({
        registry,
        redisUrl: options.registry?.redisUrl,
        failClosed: options.limitsFailClosed,
        metrics: metrics.registry,
        logger: logger.child({ component: 'limits' }),
      });
  } catch (err) {
    await events?.close();
    await bus?.close();
    await registry?.close();
    throw err;
  }
  const usage =
    registry && options.usage?.enabled !== false
      ? startUsage({
          pool: registry.store.pool,
          publisher: bus,
          logger: logger.child({ component: 'usage' }),
          retentionDays: options.usage?.retentionDays,
          flushIntervalMs: options.usage?.flushIntervalMs,
        })
      : null;
  if (registry && usage) registerUsageRoutes(registry.api, usage.api);
  const closeMetering = async () => {
    await usage?.close();
    await events?.close();
    await bus?.close();
  };
  const catalog: ModelCatalog = registry ? new CompositeCatalog(repository, registry.catalog) : repository;
  // Redis shared by the replicas when --redis-url is set, else in process.
  const responseCache = createResponseCache(options.registry?.redisUrl, logger.child({ component: 'response-cache' }));
  const models = new ModelServing({
    tenantPriority: registry ? (tenant) => registry.tenantPriorities.priorityOf(tenant) : undefined,
    responseCache,
    catalog,
    loadModel,
    gpus: devices,
    metrics,
    logger: logger.child({ component: 'models' }),
    intraOpThreads: options.intraOpThreads,
    controlMode,
    startupModels: options.loadModels,
    drainDeadlineMs: options.drainDeadlineMs,
    events: events ?? noLifecycleEvents,
  });
  try {
    await models.start();
  } catch (err) {
    await models.close(0); // free the sessions of the models loaded before the failure
    await limits?.close();
    await closeMetering();
    await responseCache.close();
    await catalog.close();
    await registry?.close();
    throw err;
  }
  const deadlineMs = options.shutdownDeadlineMs ?? 10_000;
  const httpLogger = logger.child({ component: 'http' });
  // One pipeline for every front end: a rule added to it (the registry's
  // authenticator among them) holds on all of them.
  const pipeline = new Pipeline({
    logger: logger.child({ component: 'pipeline' }),
    accessLogSampleEvery: options.accessLogSampleEvery,
    authenticator: registry?.authenticator,
    limiter: limits?.limiter,
    usage: usage?.outbox,
  });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let jobs: Jobs | null = null;
  let http;
  let grpc: RunningGrpcServer | null = null;
  try {
    if (registry) {
      const runner = { pipeline, serving: models, resolveModel: registry.catalog.resolve.bind(registry.catalog) };
      // One Kafka setting for usage, events and jobs (--kafka-brokers, --kafka-partitions).
      const jobOptions: JobsOptions = {
        kafkaBrokers: options.kafka?.brokers,
        kafkaPartitions: options.kafka?.partitions,
        ...options.jobs,
      };
      jobs = await startJobs(registry, runner, jobOptions, logger.child({ component: 'jobs' }));
    }
    http = await startHttpServer(
      {
        serving: models,
        repository: models,
        pipeline,
        admin: registry ? (jobs ? adminWithJobs(registry.api, jobs.api) : registry.api) : undefined,
        metrics,
        logger: httpLogger,
        maxBodyBytes,
        maxBufferedBodyBytes: options.maxBufferedBodyBytes,
        serverName: 'maas',
        serverVersion: packageVersion(),
        closeDeadlineMs: deadlineMs,
        closeLingerMs: options.shutdownLingerMs,
        webSocket: { maxInFlight: options.wsMaxInFlight, maxBufferedBytes: options.wsMaxBufferedBytes },
      },
      host,
      options.httpPort ?? 8000,
    );
    if (options.grpcPort !== undefined) {
      try {
        grpc = await startGrpcServer(
          {
            serving: models,
            repository: models,
            pipeline,
            logger: logger.child({ component: 'grpc' }),
            serverName: 'maas',
            serverVersion: packageVersion(),
          },
          host,
          options.grpcPort,
          { maxMessageBytes: maxBodyBytes },
        );
      } catch (err) {
        await http.close();
        throw err;
      }
    }
  } catch (err) {
    await jobs?.close();
    await models.close(0);
    await limits?.close();
    await closeMetering();
    await responseCache.close();
    await catalog.close();
    await registry?.close();
    throw err;
  }
  const gpuMetrics = GpuMetrics.start(metrics.registry, { devices, deviceMemory });
  let closing: Promise<void> | undefined;
  return {
    httpPort: http.port,
    grpcPort: grpc ? grpc.port : null,
    host,
    models,
    metrics,
    registry,
    usage,
    jobs,
    // Stop accepting, let in-flight requests finish, then free the engine.
    // Batchers stop waiting for more requests at once, but stay open until
    // HTTP has drained: a request it accepted before close (even one still
    // sending its body) must still find its batcher. HTTP answers whatever
    // is left at the deadline with 503 SHUTTING_DOWN.
    close() {
      closing ??= (async () => {
        gpuMetrics?.stop();
        const startedMs = Date.now();
        const drained = Promise.all([http.close(), grpc?.close(deadlineMs), jobs?.close()]);
        models.drain();
        await drained;
        await models.close(Math.max(0, deadlineMs - (Date.now() - startedMs)));
        await closeMetering(); // after the last call's usage record
        await catalog.close();
        await limits?.close();
        await responseCache.close();
        await registry?.close();
      })();
      return closing;
    },
  };
}
