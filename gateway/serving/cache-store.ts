// Picks the response cache's store (docs/resilience.md "Response cache").
import type { Logger } from '../../common/logger';
import { RedisResponseCache } from './redis-cache';
import { MemoryResponseCache, ResponseCache } from './response-cache';

export function createResponseCache(redisUrl: string | undefined, logger: Logger): ResponseCache {
  return new ResponseCache(redisUrl ? new RedisResponseCache(redisUrl) : new MemoryResponseCache(), logger);
}
