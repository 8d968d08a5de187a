// Tenant priority classes (docs/resilience.md "Tenant priorities"): the
// admin routes that set and read them, and the in-process table the serving
// layer reads on every request (gateway/serving/priority.ts maps a class to
// a batcher level).
//
// The table is a snapshot of `tenants.priority`, read at start, after every
// change made through this replica, and every REFRESH_MS (changes made
// through another replica take at most that long). A tenant missing from it
// is 'standard'. Owner: TenantPriorities owns its refresh timer.
import type { Pool } from 'pg';
import { MaasError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { AdminRequest, AdminResponse } from '../gateway/http/routes/admin';
import { isTenantPriority, TENANT_PRIORITIES, type TenantPriority } from '../gateway/serving/priority';
import type { RegistryStore } from './store';
import { mayDo } from './roles';

const REFRESH_MS = 5000;

export class TenantPriorities {
  private table = new Map<string, TenantPriority>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  // Synchronous: the request path reads it.
  priorityOf(tenant: string | null): TenantPriority | undefined {
    if (tenant === null) return undefined;
    return this.table.get(tenant) ?? 'standard';
  }

  async refresh(): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ name: string; priority: string }>(
        "SELECT name, priority FROM tenants WHERE priority <> 'standard'",
      );
      const table = new Map<string, TenantPriority>();
      for (const r of rows) if (isTenantPriority(r.priority)) table.set(r.name, r.priority);
      this.table = table;
    } catch (err) {
      // The database is away: keep the last snapshot.
      this.logger.warn({ err }, 'could not refresh tenant priorities; keeping the last ones');
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

type Route = (
  method: string,
  path: string,
  handler: (req: AdminRequest, params: string[]) => Promise<AdminResponse>,
) => void;

// GET and PUT /api/v1/tenants/{tenant}/priority, body {"priority": "premium" | "standard"}.
// Reading: an admin or the tenant's own keys; setting: admins only (a tenant
// may not promote itself).
export function registerTenantPriorityRoutes(route: Route, store: RegistryStore, priorities: TenantPriorities): void {
  const path = '/tenants/([^/]+)/priority';
  route('GET', path, async (req, [name]) => {
    const visible = req.principal.roles.includes('admin') || req.principal.tenant === name;
    const priority = visible ? await readPriority(store, name) : null;
    if (!priority) throw new MaasError('TENANT_NOT_FOUND', `no tenant '${name}'`);
    return { status: 200, body: { tenant: name, priority } };
  });
  route('PUT', path, async (req, [name]) => {
    if (!mayDo(req.principal.roles, 'tenants.manage'))
      throw new MaasError('FORBIDDEN', 'only an admin may set a tenant priority');
    const priority = parsePriority(req.body);
    const id = await store.tenantId(name);
    if (!id) throw new MaasError('TENANT_NOT_FOUND', `no tenant '${name}'`);
    const actor = { subject: req.principal.subject, source: req.source };
    await store.change(actor, id, 'tenant.priority', name, async (db) => {
      await db.query('UPDATE tenants SET priority = $1 WHERE id = $2', [priority, id]);
      return { result: undefined, detail: { priority } };
    });
    await priorities.refresh();
    return { status: 200, body: { tenant: name, priority } };
  });
}

async function readPriority(store: RegistryStore, name: string): Promise<TenantPriority | null> {
  const { rows } = await store.pool.query<{ priority: string }>('SELECT priority FROM tenants WHERE name = $1', [name]);
  return rows.length > 0 && isTenantPriority(rows[0].priority) ? rows[0].priority : null;
}

function parsePriority(body: Buffer): TenantPriority {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MaasError('INVALID_JSON', 'the body is not valid JSON');
  }
  const priority = (parsed as { priority?: unknown } | null)?.priority;
  if (!isTenantPriority(priority))
    throw new MaasError('INVALID_PARAMETER', `'priority' must be one of ${TENANT_PRIORITIES.join(', ')}`);
  return priority;
}
