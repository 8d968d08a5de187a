// The limits, assembled for `maas serve` (docs/limits.md): the settings copy,
// the counters (in process, or in Redis with `--redis-url`), the limiter the
// pipeline calls, the admin routes and the `maas_limits_degraded` gauge.
//
// Owner: the returned Limits owns the settings' timer and the counters'
// connection; close() ends them.
import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '../common/logger';
import type { Limiter } from '../gateway/pipeline/limits';
import type { Registry } from '../registry';
import { registerLimitsApi } from './api';
import { LocalCounters, type Counters } from './counters';
import { TenantLimiter } from './limiter';
import { RedisCounters } from './redis';
import { LimitSettings } from './settings';

export interface LimitsOptions {
  registry: Registry;
  redisUrl?: string;
  failClosed?: boolean; // Redis unreachable: refuse limited calls instead of per-replica limits
  metrics: MetricsRegistry;
  logger: Logger;
}

export interface RunningLimits {
  limiter: Limiter;
  counters: Counters;
  close(): Promise<void>;
}

export async function startLimits(options: LimitsOptions): Promise<RunningLimits> {
  const { registry, logger } = options;
  const settings = new LimitSettings(registry.store, logger);
  await settings.start();
  const degraded = new Gauge({
    name: 'maas_limits_degraded',
    help: '1 while the shared limits store (Redis) is unreachable and each replica limits alone',
    registers: [options.metrics],
  });
  let counters: Counters;
  if (options.redisUrl) {
    const redis = new RedisCounters({
      url: options.redisUrl,
      logger,
      failClosed: options.failClosed,
      onDegraded: (on) => degraded.set(on ? 1 : 0),
    });
    await redis.ready();
    counters = redis;
  } else {
    counters = new LocalCounters();
  }
  degraded.set(counters instanceof RedisCounters && counters.degraded ? 1 : 0);
  registerLimitsApi(registry.api, registry.store, settings);
  return {
    limiter: new TenantLimiter(counters, settings),
    counters,
    close: async () => {
      settings.close();
      await counters.close();
    },
  };
}
