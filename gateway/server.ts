// The all-in-one server: filesystem catalog → serving layer (runtimes,
// batchers, engine sessions) → request pipeline → KServe v2 HTTP front end,
// with metrics and logs. `maas serve` runs this (docs/architecture.md).
import { createLogger, type LogLevel, type Logger } from '../common/logger';
import { packageVersion } from '../common/package-root';
import { InferenceMetrics } from '../common/metrics';
import { loadModel } from '../native';
import { FilesystemCatalog } from './catalog/filesystem';
import { startHttpServer } from './http/app';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES } from './http/body';
import { Pipeline } from './pipeline/pipeline';
import { ModelServing } from './serving/model-service';
import type { ControlMode } from './serving/types';

export interface ServerOptions {
  modelRepository: string;
  httpPort?: number; // default 8000; 0 = ephemeral
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
}

export interface RunningServer {
  httpPort: number;
  host: string;
  models: ModelServing;
  metrics: InferenceMetrics;
  close(): Promise<void>;
}

export { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES };

export const DEFAULT_REPOSITORY_POLL_SECS = 15;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const metrics = new InferenceMetrics({ processMetrics: true });
  const controlMode = options.controlMode ?? 'none';
  const catalog = new FilesystemCatalog(options.modelRepository, {
    pollIntervalMs: controlMode === 'poll' ? (options.repositoryPollSecs ?? DEFAULT_REPOSITORY_POLL_SECS) * 1000 : 0,
  });
  await catalog.listModels(); // a missing repository stops the start-up with its reason
  const models = new ModelServing({
    catalog,
    loadModel,
    metrics,
    logger: logger.child({ component: 'models' }),
    intraOpThreads: options.intraOpThreads,
    controlMode,
    startupModels: options.loadModels,
    drainDeadlineMs: options.drainDeadlineMs,
  });
  try {
    await models.start();
  } catch (err) {
    await models.close(0); // free the sessions of the models loaded before the failure
    throw err;
  }
  const host = options.host ?? '0.0.0.0';
  const deadlineMs = options.shutdownDeadlineMs ?? 10_000;
  const httpLogger = logger.child({ component: 'http' });
  let http;
  try {
    http = await startHttpServer(
      {
        serving: models,
        repository: models,
        pipeline: new Pipeline({ logger: httpLogger, accessLogSampleEvery: options.accessLogSampleEvery }),
        metrics,
        logger: httpLogger,
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        maxBufferedBodyBytes: options.maxBufferedBodyBytes,
        serverName: 'maas',
        serverVersion: packageVersion(),
        closeDeadlineMs: deadlineMs,
        closeLingerMs: options.shutdownLingerMs,
      },
      host,
      options.httpPort ?? 8000,
    );
  } catch (err) {
    await models.close(0);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    httpPort: http.port,
    host,
    models,
    metrics,
    // Stop accepting, let in-flight requests finish, then free the engine.
    // Batchers stop waiting for more requests at once, but stay open until
    // HTTP has drained: a request it accepted before close (even one still
    // sending its body) must still find its batcher. HTTP answers whatever
    // is left at the deadline with 503 SHUTTING_DOWN.
    close() {
      closing ??= (async () => {
        const startedMs = Date.now();
        const drained = http.close();
        models.drain();
        await drained;
        await models.close(Math.max(0, deadlineMs - (Date.now() - startedMs)));
        await catalog.close();
      })();
      return closing;
    },
  };
}
