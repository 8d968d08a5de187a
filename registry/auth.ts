// The registry's adapter of the pipeline's Authenticator port
// (gateway/pipeline/auth.ts): who is calling (an API key or a JWT), may their
// role do this operation, and which model does the name they used mean for
// them (RegistryCatalog.resolve: their tenant's, else a public one).
// docs/security.md.
//
// Keys found are cached in process (keycache/memory.ts), so a known key costs
// no await on the hot path; on a miss the shared cache is asked when there is
// one (keycache/redis.ts, `--redis-url`), then PostgreSQL. A cached key is
// forgotten when a revocation notice arrives (notify.ts: every replica, within
// milliseconds of the commit; with Redis also its pub/sub) and re-read after
// KEY_CACHE_TTL_MS in any case; expiry is checked on every use.
import { MaasError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { CallContext, Principal } from '../gateway/inference/call';
import type { Authenticator } from '../gateway/pipeline/auth';
import type { RegistryCatalog } from './catalog';
import type { JwtVerifier } from './jwt';
import { parseKey, sameSecret } from './keys';
import { MemoryKeyCache } from './keycache/memory';
import type { KeyCache } from './keycache/port';
import { isRole, mayDo, type Action } from './roles';
import type { KeyLookup, RegistryStore } from './store';

const KEY_CACHE_TTL_MS = 30_000;
const KEY_CACHE_LIMIT = 10_000;
const LAST_USED_EVERY_MS = 60_000;

// Auth off (`--auth none`, loopback only): every caller is this admin.
export const LOCAL_ADMIN: Principal = Object.freeze({
  subject: 'local',
  tenant: null,
  roles: Object.freeze(['admin']),
});

// Where key look-ups were answered (tests and diagnostics).
export interface KeyLookupCounts {
  memory: number;
  shared: number;
  database: number;
}

export interface RegistryAuthOptions {
  store: RegistryStore;
  catalog: RegistryCatalog;
  jwt: JwtVerifier | null;
  shared?: KeyCache | null; // the replicas' cache (Redis), consulted before PostgreSQL
  enabled: boolean; // false: `--auth none`
  logger: Logger;
}

function unauthenticated(message: string): MaasError {
  return new MaasError('UNAUTHENTICATED', message);
}

export class RegistryAuthenticator implements Authenticator {
  private readonly memory = new MemoryKeyCache(KEY_CACHE_TTL_MS, KEY_CACHE_LIMIT);
  private readonly lastTouchedMs = new Map<string, number>(); // by key id
  readonly lookups: KeyLookupCounts = { memory: 0, shared: 0, database: 0 };

  constructor(private readonly options: RegistryAuthOptions) {}

  authenticate(credentials: string | null, call: CallContext): Principal | Promise<Principal> {
    if (!this.options.enabled) return this.authorize(LOCAL_ADMIN, call);
    if (credentials === null || credentials === '')
      throw unauthenticated('credentials are required: send Authorization: Bearer <API key or JWT>');
    const key = parseKey(credentials);
    if (key) {
      const cached = this.memory.get(key.prefix);
      if (cached) {
        this.lookups.memory++;
        return this.authorize(this.keyPrincipal(cached, key.secretSha256), call);
      }
      return this.fetchKey(key.prefix).then((lookup) =>
        this.authorize(this.keyPrincipal(lookup, key.secretSha256), call),
      );
    }
    const { jwt } = this.options;
    if (jwt?.enabled && credentials.split('.').length === 3) {
      return jwt.verify(credentials).then(
        (identity) => {
          if (!isRole(identity.role)) throw unauthenticated('the token carries no known role');
          if (identity.role !== 'admin' && identity.tenant === null)
            throw unauthenticated('the token carries no tenant');
          const principal: Principal = {
            subject: identity.subject,
            tenant: identity.role === 'admin' ? null : identity.tenant,
            roles: [identity.role],
          };
          return this.authorize(principal, call);
        },
        (err: unknown) => {
          if (err instanceof MaasError) throw err;
          throw unauthenticated(`invalid token: ${(err as Error).message ?? 'rejected'}`);
        },
      );
    }
    throw unauthenticated('unknown credentials');
  }

  // A revoked (or changed) key, from a PostgreSQL notice: forget it here and
  // in the shared cache (which tells the other replicas too).
  forgetKey(prefix: string): void {
    this.memory.forget(prefix);
    void this.options.shared?.forget(prefix);
  }

  // Another replica forgot it (Redis pub/sub): the in-process copy only.
  forgetLocalKey(prefix: string): void {
    this.memory.forget(prefix);
  }

  // Notices may have been missed (the listener reconnected).
  forgetAllKeys(): void {
    this.memory.forgetAll();
  }

  private async fetchKey(prefix: string): Promise<KeyLookup | null> {
    // A revocation arriving while we read must win over what we read.
    const generation = this.memory.generation;
    const { shared } = this.options;
    let lookup = await shared?.get(prefix);
    if (lookup) this.lookups.shared++;
    else {
      this.lookups.database++;
      // Unknown prefixes are cached nowhere: guessing must not fill memory,
      // and a key created a moment later must work at once.
      const found = await this.options.store.keyByPrefix(prefix);
      if (!found) return null;
      lookup = found;
      if (shared && this.memory.generation === generation) await shared.put(prefix, lookup);
    }
    if (this.memory.generation === generation) this.memory.put(prefix, lookup);
    return lookup;
  }

  private keyPrincipal(k: KeyLookup | null, secretSha256: Buffer): Principal {
    // The same answer for unknown, wrong, revoked and expired: nothing to probe.
    if (
      !k ||
      !sameSecret(k.secretSha256, secretSha256) ||
      k.revoked ||
      (k.expiresAt && k.expiresAt.getTime() <= Date.now())
    )
      throw unauthenticated('the API key is unknown, revoked or expired');
    const nowMs = performance.now();
    if (nowMs - (this.lastTouchedMs.get(k.id) ?? -Infinity) > LAST_USED_EVERY_MS) {
      if (this.lastTouchedMs.size >= KEY_CACHE_LIMIT) this.lastTouchedMs.clear();
      this.lastTouchedMs.set(k.id, nowMs);
      this.options.store
        .touchKey(k.id)
        .catch((err: unknown) => this.options.logger.warn({ err }, 'last-used update failed'));
    }
    return { subject: `key:${k.id}`, tenant: k.tenant, roles: [k.role] };
  }

  // Role checks per operation, then the model name resolved for the caller.
  // The admin API checks its own routes (registry/api.ts).
  private authorize(principal: Principal, call: CallContext): Principal {
    const need = actionFor(call);
    if (need && !mayDo(principal.roles, need))
      throw new MaasError('FORBIDDEN', `role ${principal.roles.join(',') || 'none'} may not do ${call.operation}`);
    if (call.model !== undefined && call.operation !== 'admin') {
      const key = this.options.catalog.resolve(principal.tenant, call.model);
      if (key !== undefined) call.model = key;
    }
    return principal;
  }
}

function actionFor(call: CallContext): Action | null {
  switch (call.operation) {
    case 'repository_index':
    case 'repository_load':
    case 'repository_unload':
      return 'repository.manage';
    case 'model_stats':
      // Statistics of every model would name other tenants' models.
      return call.model === undefined ? 'repository.manage' : 'models.read';
    case 'infer':
      return 'infer';
    case 'admin':
    case 'server_metadata':
    case 'health':
    case 'metrics':
      return null;
    default:
      return 'models.read';
  }
}
