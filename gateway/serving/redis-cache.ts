// The Redis store of the response cache (response-cache.ts), `--redis-url`:
// replicas share cached answers. Binary values under maas:rc:<key> with the
// model's TTL. Redis unreachable: no offline queue and a short command
// timeout, so a look-up fails fast and counts as a miss.
//
// Owner: RedisResponseCache owns its connection.
import Redis from 'ioredis';
import type { ResponseCacheStore } from './response-cache';

const COMMAND_TIMEOUT_MS = 250;
const NAMESPACE = 'maas:rc:';

export class RedisResponseCache implements ResponseCacheStore {
  private readonly client: Redis;

  constructor(url: string) {
    this.client = new Redis(url, {
      connectTimeout: 1000,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 1000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    // Reported by the ResponseCache on its first failed command.
    this.client.on('error', () => undefined);
  }

  async get(key: string): Promise<Buffer | undefined> {
    return (await this.client.getBuffer(NAMESPACE + key)) ?? undefined;
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    await this.client.set(NAMESPACE + key, value, 'EX', ttlSeconds);
  }

  async close(): Promise<void> {
    this.client.disconnect();
    return Promise.resolve();
  }
}
