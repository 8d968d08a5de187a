// The Redis adapter of the key cache port (port.ts), `--redis-url`: replicas
// share what they read from PostgreSQL, so a key one replica has resolved
// costs the others a Redis GET instead of a database query.
// docs/security.md "API keys".
//
// - Entries live ENTRY_TTL_SECS (a revoked key's entry only FORGET_TTL_SECS,
//   and unknown prefixes are never stored: no negative answer outlives a few
//   seconds). The value is the key's row with the SHA-256 of its secret; the
//   secret itself never reaches Redis.
// - forget() replaces the entry by a short-lived tombstone (a miss) and
//   publishes the prefix on FORGET_CHANNEL, so replicas drop their in-process
//   copy. Entries are written with NX: a replica that read the row just before
//   the revocation committed cannot put it back over the tombstone.
// - Redis unreachable: every call is a miss or a no-op (no offline queue,
//   short command timeout), the authenticator falls back to PostgreSQL, the
//   outage is logged once. Prefixes forgotten meanwhile are written again when
//   Redis is back, in case it kept the old entries.
//
// Owner: RedisKeyCache owns its two connections (commands, subscription).
import Redis from 'ioredis';
import type { Logger } from '../../common/logger';
import { isRole } from '../roles';
import type { KeyLookup } from '../store';
import type { KeyCache } from './port';

const ENTRY_TTL_SECS = 60;
const FORGET_TTL_SECS = 5;
const COMMAND_TIMEOUT_MS = 250;
const CONNECT_WAIT_MS = 2000;
const PENDING_LIMIT = 10_000;
const NAMESPACE = 'maas:apikey:';
export const FORGET_CHANNEL = 'maas:apikey:forget';
const TOMBSTONE = '-';

export interface RedisKeyCacheOptions {
  url: string;
  logger: Logger;
  // Another replica (or this one) forgot a key: drop the in-process copy.
  onForgotten: (prefix: string) => void;
}

export function redisKeyName(prefix: string): string {
  return `${NAMESPACE}${prefix}`;
}

export class RedisKeyCache implements KeyCache {
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly pending = new Set<string>(); // forgets that could not be written
  private down = false;
  private closed = false;

  constructor(private readonly options: RedisKeyCacheOptions) {
    const common = {
      connectTimeout: 1000,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 1000),
    };
    this.client = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    // The subscription waits for a connection (its only command is SUBSCRIBE,
    // renewed by ioredis after each reconnect).
    this.subscriber = new Redis(options.url, { ...common, maxRetriesPerRequest: null });
    this.client.on('error', (err: Error) => this.unavailable(err));
    this.subscriber.on('error', (err: Error) => this.unavailable(err));
    this.client.on('ready', () => this.available());
    this.subscriber.on('message', (channel: string, prefix: string) => {
      if (channel === FORGET_CHANNEL) options.onForgotten(prefix);
    });
    this.subscriber.subscribe(FORGET_CHANNEL).catch((err: Error) => this.unavailable(err));
  }

  // Waits a little for both connections; never fails (a Redis that is down
  // only costs database look-ups).
  async ready(): Promise<void> {
    const wait = (r: Redis) =>
      r.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => r.once('ready', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([wait(this.client), wait(this.subscriber)]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  async get(prefix: string): Promise<KeyLookup | undefined> {
    try {
      const raw = await this.client.get(redisKeyName(prefix));
      this.available();
      return raw === null || raw === TOMBSTONE ? undefined : decode(raw);
    } catch (err) {
      this.unavailable(err as Error);
      return undefined;
    }
  }

  async put(prefix: string, lookup: KeyLookup): Promise<void> {
    const ttlSecs = lookup.revoked ? FORGET_TTL_SECS : ENTRY_TTL_SECS;
    try {
      await this.client.set(redisKeyName(prefix), encode(lookup), 'EX', ttlSecs, 'NX');
      this.available();
    } catch (err) {
      this.unavailable(err as Error);
    }
  }

  async forget(prefix: string): Promise<void> {
    try {
      const results = await this.client
        .multi()
        .set(redisKeyName(prefix), TOMBSTONE, 'EX', FORGET_TTL_SECS)
        .publish(FORGET_CHANNEL, prefix)
        .exec();
      const failed = results?.find(([err]) => err !== null);
      if (!results || failed) throw failed?.[0] ?? new Error('transaction discarded');
      this.pending.delete(prefix);
      this.available();
    } catch (err) {
      if (this.pending.size < PENDING_LIMIT) this.pending.add(prefix);
      this.unavailable(err as Error);
    }
  }

  // A cache needs no goodbye: QUIT would wait for a server that is down (the
  // subscription queues its commands until it connects).
  close(): Promise<void> {
    this.closed = true;
    this.client.disconnect();
    this.subscriber.disconnect();
    return Promise.resolve();
  }

  private unavailable(err: Error): void {
    if (this.down || this.closed) return;
    this.down = true;
    this.options.logger.warn(
      { err: err.message },
      'Redis key cache unreachable; resolving API keys through PostgreSQL until it is back',
    );
  }

  // A connection became ready, or a command succeeded after a failure (a slow
  // server answers again without reconnecting).
  private available(): void {
    if (!this.down) return;
    this.down = false;
    this.options.logger.info('Redis key cache reachable again');
    for (const prefix of [...this.pending]) void this.forget(prefix);
  }
}

function encode(k: KeyLookup): string {
  return JSON.stringify({
    id: k.id,
    tenant: k.tenant,
    role: k.role,
    secretSha256: k.secretSha256.toString('base64'),
    expiresAt: k.expiresAt ? k.expiresAt.toISOString() : null,
    revoked: k.revoked,
  });
}

// Anything unreadable is a miss (PostgreSQL answers instead).
function decode(raw: string): KeyLookup | undefined {
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (
      typeof v.id !== 'string' ||
      (v.tenant !== null && typeof v.tenant !== 'string') ||
      !isRole(v.role) ||
      typeof v.secretSha256 !== 'string' ||
      (v.expiresAt !== null && typeof v.expiresAt !== 'string') ||
      typeof v.revoked !== 'boolean'
    )
      return undefined;
    return {
      id: v.id,
      tenant: v.tenant,
      role: v.role,
      secretSha256: Buffer.from(v.secretSha256, 'base64'),
      expiresAt: v.expiresAt === null ? null : new Date(v.expiresAt),
      revoked: v.revoked,
    };
  } catch {
    return undefined;
  }
}
