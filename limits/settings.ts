// Limit settings in PostgreSQL (tables tenant_limits and key_limits,
// registry/migrations/1764200000000_limits.sql) and the in-memory copy the
// hot path reads. docs/limits.md "Settings".
//
// Every replica reloads both tables every RELOAD_MS (a short TTL rather than
// the registry's NOTIFY channel: the limits stay out of the registry's
// notices, a missed notice cannot leave a stale limit, and the tables hold
// one row per limited tenant or key); the replica that took a change
// reloads at once.
//
// Owner: LimitSettings owns its reload timer.
import type { Pool } from 'pg';
import type { Logger } from '../common/logger';
import type { Actor, RegistryStore } from '../registry/store';
import { LIMIT_FIELDS, NO_LIMITS, type Limits } from './policy';

const RELOAD_MS = 1000;
const COLUMNS: Record<keyof Limits, string> = {
  requestsPerSecond: 'requests_per_second',
  burst: 'burst',
  inferencesPerSecond: 'inferences_per_second',
  concurrentRequests: 'concurrent_requests',
  monthlyInferences: 'monthly_inferences',
};
const SELECT_COLUMNS = LIMIT_FIELDS.map((f) => COLUMNS[f]).join(', ');

type Row = Record<string, unknown>;

function fromRow(row: Row): Limits {
  const out = { ...NO_LIMITS };
  for (const f of LIMIT_FIELDS) {
    const v = row[COLUMNS[f]];
    out[f] = v === null || v === undefined ? null : Number(v);
  }
  return out;
}

export class LimitSettings {
  private tenants = new Map<string, Limits>(); // by tenant name
  private keys = new Map<string, Limits>(); // by the principal's subject, 'key:<id>'
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(
    private readonly store: RegistryStore,
    private readonly logger: Logger,
  ) {}

  private get pool(): Pool {
    return this.store.pool;
  }

  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().then(
        () => {
          if (this.failing) this.logger.info('limit settings readable again');
          this.failing = false;
        },
        (err: unknown) => {
          if (!this.failing) this.logger.warn({ err }, 'limit settings not reloaded; keeping the last ones');
          this.failing = true;
        },
      );
    }, RELOAD_MS);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async reload(): Promise<void> {
    const [tenants, keys] = await Promise.all([
      this.pool.query<Row>(
        `SELECT t.name, ${SELECT_COLUMNS} FROM tenant_limits l JOIN tenants t ON t.id = l.tenant_id`,
      ),
      this.pool.query<Row>(`SELECT key_id, ${SELECT_COLUMNS} FROM key_limits`),
    ]);
    this.tenants = new Map(tenants.rows.map((r) => [r.name as string, fromRow(r)]));
    this.keys = new Map(keys.rows.map((r) => [`key:${r.key_id as string}`, fromRow(r)]));
  }

  // The hot path: what is set, undefined when nothing is.
  tenant(name: string): Limits | undefined {
    return this.tenants.get(name);
  }

  // An API key's, by the subject the auth step gives it ('key:<id>').
  keyOf(subject: string): Limits | undefined {
    return this.keys.get(subject);
  }

  // ---- the admin API's reads and writes (PostgreSQL, not the copy) ----

  async readTenant(tenantId: string): Promise<Limits> {
    const { rows } = await this.pool.query<Row>(`SELECT ${SELECT_COLUMNS} FROM tenant_limits WHERE tenant_id = $1`, [
      tenantId,
    ]);
    return rows.length ? fromRow(rows[0]) : { ...NO_LIMITS };
  }

  async readKey(keyId: string): Promise<Limits> {
    const { rows } = await this.pool.query<Row>(`SELECT ${SELECT_COLUMNS} FROM key_limits WHERE key_id = $1`, [keyId]);
    return rows.length ? fromRow(rows[0]) : { ...NO_LIMITS };
  }

  // Writes the whole row (the caller merged the change), audited.
  async write(actor: Actor, scope: 'tenant' | 'key', id: string, tenantId: string, limits: Limits): Promise<void> {
    const table = scope === 'tenant' ? 'tenant_limits' : 'key_limits';
    const idColumn = scope === 'tenant' ? 'tenant_id' : 'key_id';
    const values = LIMIT_FIELDS.map((f) => limits[f]);
    const placeholders = LIMIT_FIELDS.map((_, i) => `$${i + 2}`).join(', ');
    const updates = LIMIT_FIELDS.map((f) => `${COLUMNS[f]} = EXCLUDED.${COLUMNS[f]}`).join(', ');
    await this.store.change(actor, tenantId, `limits.${scope}.set`, id, async (db) => {
      await db.query(
        `INSERT INTO ${table} (${idColumn}, ${SELECT_COLUMNS}) VALUES ($1, ${placeholders})
         ON CONFLICT (${idColumn}) DO UPDATE SET ${updates}, updated_at = now()`,
        [id, ...values],
      );
      return { result: undefined, detail: limits };
    });
    await this.reload();
  }
}
