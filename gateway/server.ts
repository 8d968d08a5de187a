// The all-in-one server: model repository → engine sessions and batchers →
// KServe v2 HTTP front end, with metrics and logs. `maas serve` runs this.
import { createLogger, type LogLevel, type Logger } from '../common/logger';
import { packageVersion } from '../common/package-root';
import { InferenceMetrics } from '../common/metrics';
import { loadModel } from '../native';
import { startHttpServer } from './http/app';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES } from './http/body';
import { ModelManager } from './repository/model-manager';
import type { ModelService } from './repository/types';

export interface ServerOptions {
  modelRepository: string;
  httpPort?: number; // default 8000; 0 = ephemeral
  host?: string; // default 0.0.0.0
  logLevel?: LogLevel;
  logger?: Logger;
  maxBodyBytes?: number; // default 64 MiB
  maxBufferedBodyBytes?: number; // request bodies held at once; default 1 GiB
  intraOpThreads?: number; // engine threads per instance; default: CPU cores
  shutdownDeadlineMs?: number; // default 10 s
  shutdownLingerMs?: number; // default 500 ms (see HttpDeps.closeLingerMs)
}

export interface RunningServer {
  httpPort: number;
  host: string;
  models: ModelService;
  metrics: InferenceMetrics;
  close(): Promise<void>;
}

export { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES };

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const metrics = new InferenceMetrics({ processMetrics: true });
  const models = new ModelManager({
    repositoryDir: options.modelRepository,
    loadModel,
    metrics,
    logger: logger.child({ component: 'models' }),
    intraOpThreads: options.intraOpThreads,
  });
  try {
    await models.loadAll();
  } catch (err) {
    await models.close(0); // free the sessions of the models loaded before the failure
    throw err;
  }
  const host = options.host ?? '0.0.0.0';
  const deadlineMs = options.shutdownDeadlineMs ?? 10_000;
  let http;
  try {
    http = await startHttpServer(
      {
        models,
        metrics,
        logger: logger.child({ component: 'http' }),
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
      })();
      return closing;
    },
  };
}
