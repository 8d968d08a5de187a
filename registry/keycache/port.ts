// The key cache port: where the authenticator keeps what it learnt about an
// API key (registry/auth.ts), keyed by the key's public prefix. An entry is
// the key's row as PostgreSQL holds it (tenant, role, id, expiry, revoked and
// the SHA-256 of the secret, never the secret). docs/security.md "API keys".
//
// Adapters: MemoryKeyCache (in process, synchronous: the hot path) and
// RedisKeyCache (shared by the replicas, `--redis-url`). PostgreSQL stays the
// truth; a cache may forget anything at any time.
import type { KeyLookup } from '../store';

export interface KeyCache {
  // undefined: not cached here (ask the next tier).
  get(prefix: string): KeyLookup | undefined | Promise<KeyLookup | undefined>;
  put(prefix: string, lookup: KeyLookup): void | Promise<void>;
  // The key was revoked or changed: drop it here (a shared cache also tells
  // the other replicas). Never throws.
  forget(prefix: string): void | Promise<void>;
  close(): Promise<void>;
}
