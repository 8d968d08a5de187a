// The limits routes of the management API (docs/limits.md "Setting limits"):
//   PUT/GET /api/v1/tenants/{tenant}/limits   set: admin; read: admin or the tenant's owner
//   PUT/GET /api/v1/keys/{id}/limits          set and read: admin or the key's tenant's owner
// A PUT body is any subset of the limit fields (null removes one); GET
// answers the effective limits (a key's: the tighter of its own and its
// tenant's) and what is configured. An owner may not give a key more than
// its tenant has. Registered on the registry's API by registerLimitsApi().
import { MaasError } from '../common/errors';
import type { AdminRequest, AdminResponse } from '../gateway/http/routes/admin';
import { actor, json, need, type RegistryApi } from '../registry/api';
import type { RegistryStore } from '../registry/store';
import { effectiveLimits, LIMIT_FIELDS, mergeLimits, parseLimits, type Limits } from './policy';
import type { LimitSettings } from './settings';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function registerLimitsApi(api: RegistryApi, store: RegistryStore, settings: LimitSettings): void {
  const routes = new LimitsRoutes(store, settings);
  api.extend(
    [
      { method: 'GET', path: '/tenants/([^/]+)/limits', handler: (r, p) => routes.getTenant(r, p[0]) },
      { method: 'PUT', path: '/tenants/([^/]+)/limits', handler: (r, p) => routes.putTenant(r, p[0]) },
      { method: 'GET', path: '/keys/([^/]+)/limits', handler: (r, p) => routes.getKey(r, p[0]) },
      { method: 'PUT', path: '/keys/([^/]+)/limits', handler: (r, p) => routes.putKey(r, p[0]) },
    ],
    LIMITS_OPENAPI,
  );
}

class LimitsRoutes {
  constructor(
    private readonly store: RegistryStore,
    private readonly settings: LimitSettings,
  ) {}

  async getTenant(req: AdminRequest, name: string): Promise<AdminResponse> {
    const tenantId = await this.visibleTenant(req, name);
    need(req.principal, 'keys.read');
    const limits = await this.settings.readTenant(tenantId);
    return { status: 200, body: { tenant: name, ...limits } };
  }

  async putTenant(req: AdminRequest, name: string): Promise<AdminResponse> {
    const tenantId = await this.visibleTenant(req, name);
    need(req.principal, 'tenants.manage');
    const change = parse(req);
    const limits = mergeLimits(await this.settings.readTenant(tenantId), change);
    await this.settings.write(actor(req), 'tenant', tenantId, tenantId, limits);
    return { status: 200, body: { tenant: name, ...limits } };
  }

  async getKey(req: AdminRequest, id: string): Promise<AdminResponse> {
    const key = await this.visibleKey(req, id);
    need(req.principal, 'keys.read');
    const [own, tenant] = await Promise.all([this.settings.readKey(id), this.settings.readTenant(key.tenantId)]);
    return { status: 200, body: { id, tenant: key.tenant, ...effectiveLimits(tenant, own), configured: own } };
  }

  async putKey(req: AdminRequest, id: string): Promise<AdminResponse> {
    const key = await this.visibleKey(req, id);
    need(req.principal, 'keys.manage');
    const change = parse(req);
    const [own, tenant] = await Promise.all([this.settings.readKey(id), this.settings.readTenant(key.tenantId)]);
    const limits = mergeLimits(own, change);
    if (!req.principal.roles.includes('admin')) withinTenant(limits, tenant);
    await this.settings.write(actor(req), 'key', id, key.tenantId, limits);
    return { status: 200, body: { id, tenant: key.tenant, ...effectiveLimits(tenant, limits), configured: limits } };
  }

  // Another tenant is a 404, never a 403 (docs/security.md).
  private async visibleTenant(req: AdminRequest, name: string): Promise<string> {
    const p = req.principal;
    const visible = p.roles.includes('admin') || p.tenant === name;
    const id = visible && TENANT.test(name) ? await this.store.tenantId(name) : null;
    if (!id) throw new MaasError('TENANT_NOT_FOUND', `no tenant '${name}'`);
    return id;
  }

  // A tenant's key (admin keys have no limits to set).
  private async visibleKey(req: AdminRequest, id: string): Promise<{ tenantId: string; tenant: string }> {
    const rows = UUID.test(id)
      ? (
          await this.store.pool.query<{ tenant_id: string; name: string }>(
            'SELECT k.tenant_id, t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.id = $1',
            [id],
          )
        ).rows
      : [];
    const p = req.principal;
    if (rows.length === 0 || !(p.roles.includes('admin') || p.tenant === rows[0].name))
      throw new MaasError('KEY_NOT_FOUND', `no API key '${id}'`);
    return { tenantId: rows[0].tenant_id, tenant: rows[0].name };
  }
}

function parse(req: AdminRequest): Partial<Limits> {
  try {
    return parseLimits(json(req));
  } catch (err) {
    if (err instanceof MaasError) throw err;
    throw new MaasError('INVALID_PARAMETER', (err as Error).message);
  }
}

function withinTenant(key: Limits, tenant: Limits): void {
  for (const f of LIMIT_FIELDS) {
    const t = tenant[f];
    const k = key[f];
    if (t !== null && k !== null && k > t)
      throw new MaasError('FORBIDDEN', `'${f}' ${k} is above the tenant's ${t}; only an admin may set that`);
  }
}

const limitsSchema = {
  type: 'object',
  properties: Object.fromEntries(
    LIMIT_FIELDS.map((f) => [f, { type: ['number', 'null'], exclusiveMinimum: 0 }] as const),
  ),
  additionalProperties: false,
};
const error = { $ref: '#/components/responses/Error' };
const errors = { '400': error, '401': error, '403': error, '404': error };
const param = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const body = { content: { 'application/json': { schema: limitsSchema } } };

export const LIMITS_OPENAPI = {
  '/api/v1/tenants/{tenant}/limits': {
    get: {
      summary: "a tenant's limits (admin, or the tenant's owner)",
      parameters: [param('tenant')],
      responses: { '200': { description: '{"tenant", ...limits}; null: no limit' }, ...errors },
    },
    put: {
      summary: "set a tenant's limits (admin): any subset of the fields, null removes one",
      parameters: [param('tenant')],
      requestBody: body,
      responses: { '200': { description: 'the limits now' }, ...errors },
    },
  },
  '/api/v1/keys/{id}/limits': {
    get: {
      summary: "a key's effective limits (the tighter of its own and its tenant's) and its own (`configured`)",
      parameters: [param('id')],
      responses: { '200': { description: '{"id", "tenant", ...limits, "configured"}' }, ...errors },
    },
    put: {
      summary: "set a key's limits (admin, or its tenant's owner within the tenant's limits)",
      parameters: [param('id')],
      requestBody: body,
      responses: { '200': { description: 'the effective limits now' }, ...errors },
    },
  },
};
