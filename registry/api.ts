// The management API (docs/registry.md "Management API"): tenants, keys,
// models, versions, aliases, audit, as JSON under /api/v1. The HTTP front end
// (gateway/http/routes/admin.ts) authenticates and moves bytes; this decides:
// route, role, tenant scope (another tenant's private model is a 404, never
// a 403), validation, and the store calls (each audited).
import { promises as fs } from 'node:fs';
import { MaasError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { Principal } from '../gateway/inference/call';
import type { AdminApi, AdminRequest, AdminResponse, SpooledFile, UploadSpool } from '../gateway/http/routes/admin';
import type { ArtifactStore } from './artifacts/port';
import { modelKey, type RegistryCatalog } from './catalog';
import { makeKey } from './keys';
import * as names from './names';
import { OPENAPI } from './openapi';
import { isRole, mayDo, mayGrant, type Action } from './roles';
import { FileSpool } from './spool';
import type { Actor, ModelRow, Page, RegistryStore, VersionRow } from './store';
import { registerTenantPriorityRoutes, type TenantPriorities } from './tenant-priority';
import type { ModelValidator } from './validate';
import type { LifecycleSink } from '../events/port';

export const DEFAULT_MAX_MODEL_BYTES = 2 * 1024 * 1024 * 1024;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export interface RegistryApiOptions {
  store: RegistryStore;
  catalog: RegistryCatalog;
  artifacts: ArtifactStore;
  validate: ModelValidator;
  spoolDir: string;
  maxModelBytes: number;
  events?: LifecycleSink;
  logger: Logger;
  tenantPriorities?: TenantPriorities;
}

type Params = string[];
export type Handler = (req: AdminRequest, params: Params) => Promise<AdminResponse>;

export class RegistryApi implements AdminApi {
  readonly maxUploadBytes: number;
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];
  private readonly extraPaths: Record<string, unknown> = {};

  constructor(private readonly o: RegistryApiOptions) {
    this.maxUploadBytes = o.maxModelBytes;
    const seg = '([^/]+)';
    this.route('GET', '/openapi.json', () =>
      Promise.resolve({ status: 200, body: { ...OPENAPI, paths: { ...OPENAPI.paths, ...this.extraPaths } } }),
    );
    this.route('POST', '/tenants', (r) => this.createTenant(r));
    this.route('GET', '/tenants', (r) => this.listTenants(r));
    this.route('POST', `/tenants/${seg}/keys`, (r, p) => this.createKey(r, p[0]));
    this.route('GET', `/tenants/${seg}/keys`, (r, p) => this.listKeys(r, p[0]));
    this.route('DELETE', `/keys/${seg}`, (r, p) => this.revokeKey(r, p[0]));
    this.route('POST', '/models', (r) => this.createModel(r));
    this.route('GET', '/models', (r) => this.listModels(r));
    this.route('GET', `/models/${seg}`, (r, p) => this.getModel(r, p[0]));
    this.route('DELETE', `/models/${seg}`, (r, p) => this.deleteModel(r, p[0]));
    this.route('GET', `/models/${seg}/versions`, (r, p) => this.listVersions(r, p[0]));
    this.route('PUT', `/models/${seg}/aliases/${seg}`, (r, p) => this.setAlias(r, p[0], p[1]));
    this.route('GET', '/audit', (r) => this.audit(r));
    if (o.tenantPriorities) registerTenantPriorityRoutes((m, p, h) => this.route(m, p, h), o.store, o.tenantPriorities);
  }

  // A route of another module (the usage API), path relative to /api/v1.
  addRoute(method: string, path: string, handler: Handler): void {
    this.route(method, path, handler);
  }

  private route(method: string, path: string, handler: Handler): void {
    this.routes.push({ method, pattern: new RegExp(`^/api/v1${path}$`), handler });
  }

  // Routes another module serves under /api/v1 (limits/api.ts), with their
  // OpenAPI path items. `path` as for route(): ([^/]+) for a segment.
  extend(routes: Array<{ method: string; path: string; handler: Handler }>, paths: Record<string, unknown>): void {
    for (const r of routes) this.route(r.method, r.path, r.handler);
    Object.assign(this.extraPaths, paths);
  }

  async handle(req: AdminRequest): Promise<AdminResponse> {
    let pathMatched = false;
    for (const { method, pattern, handler } of this.routes) {
      const m = pattern.exec(req.path);
      if (!m) continue;
      pathMatched = true;
      if (method !== req.method) continue;
      return handler(req, m.slice(1).map(decode));
    }
    if (pathMatched) throw new MaasError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`);
    throw new MaasError('NOT_FOUND', 'Not Found');
  }

  openSpool(): UploadSpool {
    return new FileSpool(this.o.spoolDir);
  }

  // ---- tenants and keys ----

  private async createTenant(req: AdminRequest): Promise<AdminResponse> {
    need(req.principal, 'tenants.manage');
    const body = json(req);
    const tenant = await this.o.store.createTenant(actor(req), names.tenantName(body.name));
    return { status: 201, body: tenant };
  }

  private async listTenants(req: AdminRequest): Promise<AdminResponse> {
    need(req.principal, 'tenants.manage');
    const page = pageOf(req);
    return paged(await this.o.store.listTenants(page), page);
  }

  // The tenant a route names, as the caller may see it: its own, or any for an admin.
  private async scopedTenant(principal: Principal, name: string): Promise<{ id: string; name: string }> {
    const visible = principal.roles.includes('admin') || principal.tenant === name;
    const id = visible && /^[a-z0-9][a-z0-9_-]{0,62}$/.test(name) ? await this.o.store.tenantId(name) : null;
    if (!id) throw new MaasError('TENANT_NOT_FOUND', `no tenant '${name}'`);
    return { id, name };
  }

  private async createKey(req: AdminRequest, tenantName: string): Promise<AdminResponse> {
    const tenant = await this.scopedTenant(req.principal, tenantName);
    need(req.principal, 'keys.manage');
    const body = json(req);
    if (!isRole(body.role) || body.role === 'admin')
      throw new MaasError('INVALID_PARAMETER', "'role' must be one of owner, developer, viewer");
    if (!mayGrant(req.principal.roles, body.role))
      throw new MaasError('FORBIDDEN', `role ${req.principal.roles.join(',')} may not create ${body.role} keys`);
    const name = body.name === undefined ? '' : names.keyName(body.name);
    let expiresAt: Date | null = null;
    if (body.expiresAt !== undefined && body.expiresAt !== null) {
      expiresAt = typeof body.expiresAt === 'string' ? new Date(body.expiresAt) : null;
      if (expiresAt === null || Number.isNaN(expiresAt.getTime()))
        throw new MaasError('INVALID_PARAMETER', "'expiresAt' must be an ISO 8601 date-time");
    }
    const secret = makeKey();
    const row = await this.o.store.createKey(actor(req), tenant, body.role, name, expiresAt, secret);
    return { status: 201, body: { ...row, key: secret.key } };
  }

  private async listKeys(req: AdminRequest, tenantName: string): Promise<AdminResponse> {
    const tenant = await this.scopedTenant(req.principal, tenantName);
    need(req.principal, 'keys.read');
    const page = pageOf(req);
    return paged(await this.o.store.listKeys(tenant.id, page), page);
  }

  private async revokeKey(req: AdminRequest, id: string): Promise<AdminResponse> {
    need(req.principal, 'keys.manage');
    const scope = req.principal.roles.includes('admin')
      ? null
      : (await this.scopedTenant(req.principal, req.principal.tenant ?? '')).id;
    if (!(await this.o.store.revokeKey(actor(req), id, scope)))
      throw new MaasError('KEY_NOT_FOUND', `no API key '${id}'`);
    return { status: 204 };
  }

  // ---- models ----

  // The tenant a model route acts in: the caller's, or for an admin the
  // `tenant` given (body or ?tenant=).
  private async actingTenant(req: AdminRequest, given: unknown): Promise<{ id: string; name: string }> {
    const p = req.principal;
    if (p.roles.includes('admin')) {
      if (given === undefined) throw new MaasError('INVALID_PARAMETER', "an admin must name the 'tenant'");
      return this.scopedTenant(p, names.tenantName(given));
    }
    if (p.tenant === null) throw new MaasError('FORBIDDEN', 'the caller belongs to no tenant');
    return this.scopedTenant(p, p.tenant);
  }

  // A model the caller may see: its tenant's, else (for reading) a public one.
  private async visibleModel(req: AdminRequest, name: string, forWriting: boolean): Promise<ModelRow> {
    const p = req.principal;
    const tenant = req.query.get('tenant') ?? (p.roles.includes('admin') ? null : p.tenant);
    let model: ModelRow | null = null;
    if (names.isModelName(name)) {
      if (tenant !== null && (p.roles.includes('admin') || tenant === p.tenant))
        model = await this.o.store.model(tenant, name);
      if (!model && (!forWriting || p.roles.includes('admin'))) {
        const pub = await this.o.store.publicModel(name);
        if (pub && (!forWriting || tenant === null || pub.tenant === tenant)) model = pub;
      }
    }
    if (!model) throw new MaasError('MODEL_NOT_FOUND', `no model '${name}'`);
    return model;
  }

  private async createModel(req: AdminRequest): Promise<AdminResponse> {
    need(req.principal, 'models.write');
    const body = json(req);
    const tenant = await this.actingTenant(req, body.tenant);
    const visibility = body.visibility ?? 'private';
    if (visibility !== 'private' && visibility !== 'public')
      throw new MaasError('INVALID_PARAMETER', "'visibility' must be 'private' or 'public'");
    if (
      body.config !== undefined &&
      (typeof body.config !== 'object' || body.config === null || Array.isArray(body.config))
    )
      throw new MaasError('INVALID_PARAMETER', "'config' must be an object (Triton's model configuration fields)");
    const row = await this.o.store.createModel(actor(req), tenant, names.modelName(body.name), visibility, body.config);
    await this.o.catalog.onNotice({ kind: 'model', tenant: tenant.name, name: row.name });
    return { status: 201, body: publicModel(row) };
  }

  private async listModels(req: AdminRequest): Promise<AdminResponse> {
    need(req.principal, 'models.read');
    const page = pageOf(req);
    const scope = req.principal.roles.includes('admin') ? null : (req.principal.tenant ?? '');
    return paged((await this.o.store.listModels(scope, page)).map(publicModel), page);
  }

  private async getModel(req: AdminRequest, name: string): Promise<AdminResponse> {
    need(req.principal, 'models.read');
    const model = await this.visibleModel(req, name, false);
    const [versions, aliases] = await Promise.all([this.o.store.versions(model.id), this.o.store.aliases(model.id)]);
    return { status: 200, body: { ...publicModel(model), versions: versions.map(publicVersion), aliases } };
  }

  private async deleteModel(req: AdminRequest, name: string): Promise<AdminResponse> {
    need(req.principal, 'models.write');
    const model = await this.visibleModel(req, name, true);
    const tenantId = (await this.o.store.tenantId(model.tenant)) as string;
    const objects = await this.o.store.deleteModel(actor(req), tenantId, model);
    await this.o.catalog.onNotice({ kind: 'model', tenant: model.tenant, name: model.name });
    for (const key of objects) {
      await this.o.artifacts
        .delete(key)
        .catch((err: unknown) => this.o.logger.warn({ err, key }, 'artifact not deleted'));
    }
    return { status: 204 };
  }

  private async listVersions(req: AdminRequest, name: string): Promise<AdminResponse> {
    need(req.principal, 'models.read');
    const model = await this.visibleModel(req, name, false);
    return { status: 200, body: { items: (await this.o.store.versions(model.id)).map(publicVersion) } };
  }

  private async setAlias(req: AdminRequest, name: string, alias: string): Promise<AdminResponse> {
    need(req.principal, 'models.write');
    const model = await this.visibleModel(req, name, true);
    const version = names.versionNumber(json(req).version);
    const tenantId = (await this.o.store.tenantId(model.tenant)) as string;
    await this.o.store.setAlias(actor(req), tenantId, model, names.aliasName(alias), version);
    this.o.events?.emit({
      type: 'alias.moved',
      tenant: model.tenant,
      model: model.name,
      alias,
      version: String(version),
    });
    await this.o.catalog.onNotice({ kind: 'model', tenant: model.tenant, name: model.name });
    return { status: 200, body: { model: model.name, alias, version } };
  }

  private async audit(req: AdminRequest): Promise<AdminResponse> {
    need(req.principal, 'audit.read');
    const page = pageOf(req);
    const scope = req.principal.roles.includes('admin')
      ? null
      : (await this.scopedTenant(req.principal, req.principal.tenant ?? '')).id;
    return paged(await this.o.store.audit(scope, page), page);
  }

  // ---- uploads ----

  // Claim the version (409 at once if it exists), wait for the bytes,
  // validate them in the engine, store them, then mark the version ready.
  // What does not finish leaves no row and no object; a model the engine
  // refuses leaves a `failed` row with the reason and no object.
  async upload(
    req: AdminRequest,
    name: string,
    versionText: string,
    body: Promise<SpooledFile>,
  ): Promise<AdminResponse> {
    let file: SpooledFile | null = null;
    body.then(
      (f) => {
        file = f;
      },
      () => undefined,
    );
    try {
      need(req.principal, 'models.write');
      const model = await this.visibleModel(req, decode(name), true);
      const version = names.versionNumber(decode(versionText));
      const tenantId = (await this.o.store.tenantId(model.tenant)) as string;
      await this.o.store.claimVersion(model, version);
      try {
        file = await body;
        await this.o.store.setValidating(model, version, file.sha256, file.sizeBytes);
        const verdict = await this.o.validate(file.path);
        if (!verdict.ok) {
          await this.o.store.finishVersion(actor(req), tenantId, model, version, { reason: verdict.reason });
          this.o.events?.emit({
            type: 'version.failed',
            ...{ tenant: model.tenant, model: model.name, version: String(version), reason: verdict.reason },
          });
          throw new MaasError('MODEL_REJECTED', `the engine refused the model: ${verdict.reason}`);
        }
        const objectKey = `${model.tenant}/${model.name}/${version}/${file.sha256}.onnx`;
        await this.o.artifacts.put(objectKey, file.path, file.sizeBytes);
        let row;
        try {
          row = await this.o.store.finishVersion(actor(req), tenantId, model, version, { objectKey });
        } catch (err) {
          await this.o.artifacts.delete(objectKey).catch(() => undefined);
          throw err;
        }
        await this.o.catalog.onNotice({ kind: 'model', tenant: model.tenant, name: model.name });
        this.o.events?.emit({
          type: 'version.ready',
          tenant: model.tenant,
          model: model.name,
          version: String(version),
        });
        return { status: 201, body: { model: model.name, ...publicVersion(row) } };
      } catch (err) {
        if (!(err instanceof MaasError && err.code === 'MODEL_REJECTED'))
          await this.o.store.dropVersion(model, version);
        throw err;
      }
    } finally {
      // Wait for the spool to settle so the temporary file is always removed.
      await body.catch(() => undefined);
      const spooled = file;
      if (spooled) await fs.rm(spooled.path, { force: true });
    }
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // refused by the name checks
  }
}

export function need(principal: Principal, action: Action): void {
  if (!mayDo(principal.roles, action))
    throw new MaasError('FORBIDDEN', `role ${principal.roles.join(',') || 'none'} may not do ${action}`);
}

export function actor(req: AdminRequest): Actor {
  return { subject: req.principal.subject, source: req.source };
}

export function json(req: AdminRequest): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = req.body.byteLength === 0 ? {} : JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new MaasError('INVALID_JSON', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new MaasError('INVALID_REQUEST', 'the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function pageOf(req: AdminRequest): Page {
  const int = (name: string, fallback: number, max: number): number => {
    const raw = req.query.get(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!/^[0-9]{1,9}$/.test(raw) || n > max) throw new MaasError('INVALID_PARAMETER', `'${name}' must be 0..${max}`);
    return n;
  };
  return { limit: Math.max(1, int('limit', DEFAULT_PAGE, MAX_PAGE)), offset: int('offset', 0, 1e9) };
}

// {"items": [...], "nextOffset": n | null}
function paged(items: unknown[], page: Page): AdminResponse {
  return { status: 200, body: { items, nextOffset: items.length < page.limit ? null : page.offset + items.length } };
}

function publicModel(m: ModelRow): Record<string, unknown> {
  return { name: m.name, tenant: m.tenant, visibility: m.visibility, config: m.config ?? null, createdAt: m.createdAt };
}

// Where a version is stored is the platform's business, not the caller's.
function publicVersion(v: VersionRow): Record<string, unknown> {
  return {
    version: v.version,
    status: v.status,
    reason: v.reason,
    sha256: v.sha256,
    sizeBytes: v.sizeBytes,
    createdAt: v.createdAt,
    readyAt: v.readyAt,
  };
}

export { modelKey };
