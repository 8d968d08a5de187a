// The registry's adapter of the pipeline's Authenticator port
// (gateway/pipeline/auth.ts): who is calling (an API key or a JWT), may their
// role do this operation, and which model does the name they used mean for
// them (RegistryCatalog.resolve: their tenant's, else a public one).
// docs/security.md.
//
// Keys found in the database are cached in process, so a known key costs no
// await on the hot path. A cached key is forgotten when a revocation notice
// arrives (notify.ts: every replica, within milliseconds of the commit) and
// re-read after KEY_CACHE_TTL_MS in any case; expiry is checked on every use.
import { MaasError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { CallContext, Principal } from '../gateway/inference/call';
import type { Authenticator } from '../gateway/pipeline/auth';
import type { RegistryCatalog } from './catalog';
import type { JwtVerifier } from './jwt';
import { parseKey, sameSecret } from './keys';
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

interface CachedKey {
  lookup: KeyLookup | null; // null: no such prefix
  fetchedMs: number;
  lastTouchedMs: number;
}

export interface RegistryAuthOptions {
  store: RegistryStore;
  catalog: RegistryCatalog;
  jwt: JwtVerifier | null;
  enabled: boolean; // false: `--auth none`
  logger: Logger;
}

function unauthenticated(message: string): MaasError {
  return new MaasError('UNAUTHENTICATED', message);
}

export class RegistryAuthenticator implements Authenticator {
  private readonly keys = new Map<string, CachedKey>();

  constructor(private readonly options: RegistryAuthOptions) {}

  authenticate(credentials: string | null, call: CallContext): Principal | Promise<Principal> {
    if (!this.options.enabled) return this.authorize(LOCAL_ADMIN, call);
    if (credentials === null || credentials === '')
      throw unauthenticated('credentials are required: send Authorization: Bearer <API key or JWT>');
    const key = parseKey(credentials);
    if (key) {
      const cached = this.keys.get(key.prefix);
      if (cached && performance.now() - cached.fetchedMs < KEY_CACHE_TTL_MS) {
        return this.authorize(this.keyPrincipal(cached, key.secretSha256), call);
      }
      return this.fetchKey(key.prefix).then((entry) =>
        this.authorize(this.keyPrincipal(entry, key.secretSha256), call),
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

  // A revoked (or changed) key: forget it now.
  forgetKey(prefix: string): void {
    this.keys.delete(prefix);
  }

  private async fetchKey(prefix: string): Promise<CachedKey> {
    const lookup = await this.options.store.keyByPrefix(prefix);
    if (this.keys.size >= KEY_CACHE_LIMIT) this.keys.clear();
    const entry: CachedKey = { lookup, fetchedMs: performance.now(), lastTouchedMs: 0 };
    // Unknown prefixes are not cached: guessing must not fill memory.
    if (lookup) this.keys.set(prefix, entry);
    return entry;
  }

  private keyPrincipal(entry: CachedKey, secretSha256: Buffer): Principal {
    const k = entry.lookup;
    // The same answer for unknown, wrong, revoked and expired: nothing to probe.
    if (
      !k ||
      !sameSecret(k.secretSha256, secretSha256) ||
      k.revoked ||
      (k.expiresAt && k.expiresAt.getTime() <= Date.now())
    )
      throw unauthenticated('the API key is unknown, revoked or expired');
    const nowMs = performance.now();
    if (nowMs - entry.lastTouchedMs > LAST_USED_EVERY_MS) {
      entry.lastTouchedMs = nowMs;
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
