// The registry's rows (PostgreSQL through pg): tenants, keys, models,
// versions, aliases and the audit log. Every change runs in one transaction
// with its audit row and a NOTIFY (notify.ts), so a change, its record and
// the news of it to every replica commit together or not at all. Every query
// is parameterised. docs/registry.md "Schema".
import type { Pool, PoolClient } from 'pg';
import { MaasError } from '../common/errors';
import type { NewKey } from './keys';
import { NOTIFY_CHANNEL, type RegistryNotice } from './notify';
import type { Role } from './roles';

type Row = Record<string, unknown>;

// An upload claim this old belongs to a process that died (registry/api.ts
// settles every claim it makes, even on failure).
export const STALE_CLAIM_HOURS = 6;

export interface Actor {
  subject: string; // a key id or a JWT subject
  source: string; // the caller's address, '' when unknown
}

export interface Page {
  limit: number;
  offset: number;
}

export interface TenantRow {
  id: string;
  name: string;
  createdAt: string;
}

export interface KeyRow {
  id: string;
  tenant: string | null;
  role: Role;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface KeyLookup {
  id: string;
  tenant: string | null;
  role: Role;
  secretSha256: Buffer;
  expiresAt: Date | null;
  revoked: boolean;
}

export interface ModelRow {
  id: string;
  tenant: string;
  name: string;
  visibility: 'private' | 'public';
  config: unknown;
  createdAt: string;
}

export interface VersionRow {
  version: number;
  status: 'uploading' | 'validating' | 'ready' | 'failed';
  reason: string | null;
  sha256: string | null;
  sizeBytes: number | null;
  objectKey: string | null;
  createdAt: string;
  readyAt: string | null;
}

const KEY_COLUMNS = `k.id, t.name AS tenant, k.role, k.name, k.prefix, k.created_at, k.expires_at, k.last_used_at, k.revoked_at`;
const MODEL_COLUMNS = `m.id, t.name AS tenant, m.name, m.visibility, m.config, m.created_at`;

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : null);

function keyRow(r: Record<string, unknown>): KeyRow {
  return {
    id: r.id as string,
    tenant: r.tenant as string | null,
    role: r.role as Role,
    name: r.name as string,
    prefix: r.prefix as string,
    createdAt: iso(r.created_at) as string,
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
  };
}

function modelRow(r: Record<string, unknown>): ModelRow {
  return {
    id: r.id as string,
    tenant: r.tenant as string,
    name: r.name as string,
    visibility: r.visibility as ModelRow['visibility'],
    config: r.config ?? undefined,
    createdAt: iso(r.created_at) as string,
  };
}

function versionRow(r: Record<string, unknown>): VersionRow {
  return {
    version: Number(r.version),
    status: r.status as VersionRow['status'],
    reason: (r.reason as string | null) ?? null,
    sha256: (r.sha256 as string | null) ?? null,
    sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
    objectKey: (r.object_key as string | null) ?? null,
    createdAt: iso(r.created_at) as string,
    readyAt: iso(r.ready_at),
  };
}

export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505';
}

export class RegistryStore {
  constructor(readonly pool: Pool) {}

  // Runs `work` in a transaction, with an audit row for `action` on `target`
  // and the notices it returns sent at commit.
  async change<T>(
    actor: Actor,
    tenantId: string | null,
    action: string,
    target: string,
    work: (db: PoolClient) => Promise<{ result: T; detail?: unknown; notices?: RegistryNotice[] }>,
  ): Promise<T> {
    const db = await this.pool.connect();
    try {
      await db.query<Row>('BEGIN');
      const { result, detail, notices = [] } = await work(db);
      await db.query<Row>(
        'INSERT INTO audit_log (actor, tenant_id, action, target, detail, source) VALUES ($1, $2, $3, $4, $5, $6)',
        [actor.subject, tenantId, action, target, detail === undefined ? null : JSON.stringify(detail), actor.source],
      );
      for (const n of notices) await db.query<Row>('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify(n)]);
      await db.query<Row>('COMMIT');
      return result;
    } catch (err) {
      await db.query<Row>('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
  }

  // ---- tenants ----

  async createTenant(actor: Actor, name: string): Promise<TenantRow> {
    try {
      return await this.change(actor, null, 'tenant.create', name, async (db) => {
        const { rows } = await db.query<Row>('INSERT INTO tenants (name) VALUES ($1) RETURNING id, name, created_at', [
          name,
        ]);
        const row = { id: rows[0].id as string, name, createdAt: iso(rows[0].created_at) as string };
        return { result: row, detail: { id: row.id } };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new MaasError('ALREADY_EXISTS', `a tenant named '${name}' already exists`);
      throw err;
    }
  }

  async listTenants(page: Page): Promise<TenantRow[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT id, name, created_at FROM tenants ORDER BY name LIMIT $1 OFFSET $2',
      [page.limit, page.offset],
    );
    return rows.map((r) => ({ id: r.id as string, name: r.name as string, createdAt: iso(r.created_at) as string }));
  }

  async tenantId(name: string): Promise<string | null> {
    const { rows } = await this.pool.query<Row>('SELECT id FROM tenants WHERE name = $1', [name]);
    return rows.length > 0 ? (rows[0].id as string) : null;
  }

  // ---- keys ----

  async createKey(
    actor: Actor,
    tenant: { id: string; name: string } | null,
    role: Role,
    name: string,
    expiresAt: Date | null,
    secret: NewKey,
  ): Promise<KeyRow> {
    return this.change(actor, tenant?.id ?? null, 'key.create', secret.prefix, async (db) => {
      const { rows } = await db.query<Row>(
        `INSERT INTO api_keys (tenant_id, role, name, prefix, secret_sha256, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, role, name, prefix, created_at, expires_at, last_used_at, revoked_at`,
        [tenant?.id ?? null, role, name, secret.prefix, secret.secretSha256, expiresAt, actor.subject],
      );
      const row = keyRow({ ...rows[0], tenant: tenant?.name ?? null });
      return { result: row, detail: { id: row.id, role, name } };
    });
  }

  async listKeys(tenantId: string | null, page: Page): Promise<KeyRow[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${KEY_COLUMNS} FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id
       WHERE k.tenant_id IS NOT DISTINCT FROM $1 ORDER BY k.created_at, k.id LIMIT $2 OFFSET $3`,
      [tenantId, page.limit, page.offset],
    );
    return rows.map(keyRow);
  }

  // Revokes a key the caller may see (scopeTenantId null: any key). false: none such.
  async revokeKey(actor: Actor, id: string, scopeTenantId: string | null): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return false;
    return this.change(actor, scopeTenantId, 'key.revoke', id, async (db) => {
      const { rows } = await db.query<Row>(
        `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
         WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2) RETURNING prefix`,
        [id, scopeTenantId],
      );
      if (rows.length === 0) throw new MaasError('KEY_NOT_FOUND', `no API key '${id}'`);
      return { result: true, notices: [{ kind: 'key', prefix: rows[0].prefix as string }] };
    }).catch((err) => {
      if (err instanceof MaasError && err.code === 'KEY_NOT_FOUND') return false;
      throw err;
    });
  }

  async keyByPrefix(prefix: string): Promise<KeyLookup | null> {
    const { rows } = await this.pool.query<Row>(
      `SELECT k.id, t.name AS tenant, k.role, k.secret_sha256, k.expires_at, k.revoked_at
       FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = $1`,
      [prefix],
    );
    if (rows.length === 0) return null;
    const r = rows[0];
    return {
      id: r.id as string,
      tenant: r.tenant as string | null,
      role: r.role as Role,
      secretSha256: r.secret_sha256 as Buffer,
      expiresAt: r.expires_at as Date | null,
      revoked: r.revoked_at !== null,
    };
  }

  async touchKey(id: string): Promise<void> {
    await this.pool.query<Row>('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [id]);
  }

  async hasAdminKey(): Promise<boolean> {
    const { rows } = await this.pool.query<Row>("SELECT 1 FROM api_keys WHERE role = 'admin' LIMIT 1");
    return rows.length > 0;
  }

  // ---- models ----

  // Models `tenant` owns, then public ones (tenant null: every model).
  async listModels(tenant: string | null, page: Page): Promise<ModelRow[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${MODEL_COLUMNS} FROM models m JOIN tenants t ON t.id = m.tenant_id
       WHERE $1::text IS NULL OR t.name = $1 OR m.visibility = 'public'
       ORDER BY t.name, m.name LIMIT $2 OFFSET $3`,
      [tenant, page.limit, page.offset],
    );
    return rows.map(modelRow);
  }

  async model(tenant: string, name: string): Promise<ModelRow | null> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${MODEL_COLUMNS} FROM models m JOIN tenants t ON t.id = m.tenant_id WHERE t.name = $1 AND m.name = $2`,
      [tenant, name],
    );
    return rows.length > 0 ? modelRow(rows[0]) : null;
  }

  async publicModel(name: string): Promise<ModelRow | null> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${MODEL_COLUMNS} FROM models m JOIN tenants t ON t.id = m.tenant_id
       WHERE m.name = $1 AND m.visibility = 'public'`,
      [name],
    );
    return rows.length > 0 ? modelRow(rows[0]) : null;
  }

  // Every model, for the catalog's name index.
  async allModels(): Promise<Array<{ tenant: string; name: string; visibility: string }>> {
    const { rows } = await this.pool.query<Row>(
      'SELECT t.name AS tenant, m.name, m.visibility FROM models m JOIN tenants t ON t.id = m.tenant_id',
    );
    return rows as Array<{ tenant: string; name: string; visibility: string }>;
  }

  async createModel(
    actor: Actor,
    tenant: { id: string; name: string },
    name: string,
    visibility: 'private' | 'public',
    config: unknown,
  ): Promise<ModelRow> {
    try {
      return await this.change(actor, tenant.id, 'model.create', `${tenant.name}/${name}`, async (db) => {
        const { rows } = await db.query<Row>(
          `INSERT INTO models (tenant_id, name, visibility, config) VALUES ($1, $2, $3, $4)
           RETURNING id, name, visibility, config, created_at`,
          [tenant.id, name, visibility, config === undefined ? null : JSON.stringify(config)],
        );
        const row = modelRow({ ...rows[0], tenant: tenant.name });
        return {
          result: row,
          detail: { visibility },
          notices: [{ kind: 'model', tenant: tenant.name, name }],
        };
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new MaasError('ALREADY_EXISTS', `a model named '${name}' already exists (in this tenant, or as public)`);
      throw err;
    }
  }

  // Deletes the model and its rows; returns the object keys to remove.
  async deleteModel(actor: Actor, tenantId: string, model: ModelRow): Promise<string[]> {
    return this.change(actor, tenantId, 'model.delete', `${model.tenant}/${model.name}`, async (db) => {
      const { rows } = await db.query<Row>('SELECT object_key FROM model_versions WHERE model_id = $1', [model.id]);
      await db.query<Row>('DELETE FROM models WHERE id = $1', [model.id]);
      return {
        result: rows.map((r) => r.object_key as string | null).filter((k): k is string => k !== null),
        notices: [{ kind: 'model', tenant: model.tenant, name: model.name }],
      };
    });
  }

  // ---- versions and aliases ----

  async versions(modelId: string): Promise<VersionRow[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM model_versions WHERE model_id = $1 ORDER BY version', [
      modelId,
    ]);
    return rows.map(versionRow);
  }

  async aliases(modelId: string): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<Row>('SELECT alias, version FROM model_aliases WHERE model_id = $1', [
      modelId,
    ]);
    return Object.fromEntries(rows.map((r) => [r.alias as string, Number(r.version)]));
  }

  // Claims a version for an upload: a row in `uploading`. A failed version
  // may be uploaded again; any other existing one is ALREADY_EXISTS (also
  // when another upload of it is in progress). A claim older than
  // STALE_CLAIM_HOURS was left by a process that died mid-upload (an upload
  // that ends, well or not, settles its row): it is taken over.
  async claimVersion(model: ModelRow, version: number): Promise<void> {
    const db = await this.pool.connect();
    try {
      await db.query<Row>('BEGIN');
      await db.query<Row>(
        `DELETE FROM model_versions WHERE model_id = $1 AND version = $2 AND (status = 'failed'
           OR (status IN ('uploading', 'validating') AND created_at < now() - make_interval(hours => $3)))`,
        [model.id, version, STALE_CLAIM_HOURS],
      );
      await db.query<Row>("INSERT INTO model_versions (model_id, version, status) VALUES ($1, $2, 'uploading')", [
        model.id,
        version,
      ]);
      await db.query<Row>('COMMIT');
    } catch (err) {
      await db.query<Row>('ROLLBACK').catch(() => undefined);
      if (isUniqueViolation(err))
        throw new MaasError('ALREADY_EXISTS', `version ${version} of '${model.name}' already exists`);
      throw err;
    } finally {
      db.release();
    }
  }

  async setValidating(model: ModelRow, version: number, sha256: string, sizeBytes: number): Promise<void> {
    await this.pool.query<Row>(
      "UPDATE model_versions SET status = 'validating', sha256 = $3, size_bytes = $4 WHERE model_id = $1 AND version = $2",
      [model.id, version, sha256, sizeBytes],
    );
  }

  // An upload that never completed leaves nothing.
  async dropVersion(model: ModelRow, version: number): Promise<void> {
    await this.pool.query<Row>(
      "DELETE FROM model_versions WHERE model_id = $1 AND version = $2 AND status IN ('uploading', 'validating')",
      [model.id, version],
    );
  }

  async finishVersion(
    actor: Actor,
    tenantId: string,
    model: ModelRow,
    version: number,
    outcome: { objectKey: string } | { reason: string },
  ): Promise<VersionRow> {
    const ok = 'objectKey' in outcome;
    return this.change(
      actor,
      tenantId,
      ok ? 'version.ready' : 'version.failed',
      `${model.tenant}/${model.name}/${version}`,
      async (db) => {
        const { rows } = await db.query<Row>(
          ok
            ? "UPDATE model_versions SET status = 'ready', object_key = $3, ready_at = now() WHERE model_id = $1 AND version = $2 RETURNING *"
            : "UPDATE model_versions SET status = 'failed', reason = $3 WHERE model_id = $1 AND version = $2 RETURNING *",
          [model.id, version, ok ? outcome.objectKey : outcome.reason],
        );
        const row = versionRow(rows[0]);
        return {
          result: row,
          detail: { sha256: row.sha256, sizeBytes: row.sizeBytes, ...(ok ? {} : { reason: outcome.reason }) },
          notices: ok ? [{ kind: 'model', tenant: model.tenant, name: model.name }] : [],
        };
      },
    );
  }

  async setAlias(actor: Actor, tenantId: string, model: ModelRow, alias: string, version: number): Promise<void> {
    await this.change(actor, tenantId, 'alias.set', `${model.tenant}/${model.name}@${alias}`, async (db) => {
      const { rows } = await db.query<Row>(
        "SELECT 1 FROM model_versions WHERE model_id = $1 AND version = $2 AND status = 'ready'",
        [model.id, version],
      );
      if (rows.length === 0)
        throw new MaasError('MODEL_VERSION_NOT_FOUND', `'${model.name}' has no ready version ${version}`);
      await db.query<Row>(
        `INSERT INTO model_aliases (model_id, alias, version) VALUES ($1, $2, $3)
         ON CONFLICT (model_id, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
        [model.id, alias, version],
      );
      return {
        result: undefined,
        detail: { version },
        notices: [{ kind: 'model', tenant: model.tenant, name: model.name }],
      };
    });
  }

  // ---- audit ----

  async audit(tenantId: string | null, page: Page): Promise<unknown[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT a.id, a.at, a.actor, t.name AS tenant, a.action, a.target, a.detail, a.source
       FROM audit_log a LEFT JOIN tenants t ON t.id = a.tenant_id
       WHERE $1::uuid IS NULL OR a.tenant_id = $1 ORDER BY a.id DESC LIMIT $2 OFFSET $3`,
      [tenantId, page.limit, page.offset],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), at: iso(r.at) }));
  }
}
