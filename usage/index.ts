// Usage metering, assembled (docs/usage.md): the outbox the pipeline's usage
// step writes to, the relay that delivers and rolls up, the usage API routes.
// gateway/server.ts starts it when the registry (PostgreSQL) is there.
//
// Owner: the returned Usage owns the outbox and the relay; close() flushes
// the outbox, then stops the relay (rows it did not relay wait for the next
// start). The publisher is the caller's.
import type { Pool } from 'pg';
import type { Logger } from '../common/logger';
import type { EventPublisher } from '../events/port';
import type { RegistryApi } from '../registry/api';
import { UsageApi } from './api';
import { UsageOutbox } from './outbox';
import { UsageRelay } from './relay';

export const DEFAULT_USAGE_RETENTION_DAYS = 90;

export interface UsageOptions {
  pool: Pool;
  logger: Logger;
  publisher: EventPublisher | null; // Kafka; null: roll up in process only
  retentionDays?: number; // default 90
  flushIntervalMs?: number; // default 50
}

export interface Usage {
  outbox: UsageOutbox;
  relay: UsageRelay;
  api: UsageApi;
  close(): Promise<void>;
}

export function startUsage(o: UsageOptions): Usage {
  const relay = new UsageRelay({
    pool: o.pool,
    logger: o.logger,
    publisher: o.publisher,
    retentionDays: o.retentionDays ?? DEFAULT_USAGE_RETENTION_DAYS,
  });
  const outbox = new UsageOutbox({
    pool: o.pool,
    logger: o.logger,
    flushIntervalMs: o.flushIntervalMs,
    onFlushed: () => relay.wake(),
  });
  relay.start();
  return {
    outbox,
    relay,
    api: new UsageApi(o.pool),
    async close() {
      await outbox.close();
      await relay.stop();
    },
  };
}

// The usage routes on the management API (/api/v1).
export function registerUsageRoutes(registryApi: RegistryApi, api: UsageApi): void {
  registryApi.addRoute('GET', '/usage', (req) => api.totals(req));
  registryApi.addRoute('GET', '/usage/export', (req) => api.export(req));
}
