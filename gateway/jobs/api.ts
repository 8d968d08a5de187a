// The jobs routes of the management API (docs/jobs.md "API"):
//   POST   /api/v1/jobs               {"model","version"?,"requests":[...],"webhook"?}  (application/json)
//                                     or one request per line (application/x-ndjson, ?model=&version=&webhook=)
//   GET    /api/v1/jobs               the caller's jobs, newest first
//   GET    /api/v1/jobs/{id}          status and progress
//   GET    /api/v1/jobs/{id}/results  JSONL, one line per request in input order
//   DELETE /api/v1/jobs/{id}          cancel
// A tenant sees its own jobs only (another's is a 404, never a 403); an admin
// sees every job. The body of POST is spooled to a file as it arrives
// (registry/spool.ts), so a large JSONL input never sits in memory whole
// while it is received. adminWithJobs() puts these routes beside the
// registry's (registry/api.ts) on the one /api/v1 entry point.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { MaasError } from '../../common/errors';
import type { ArtifactStore } from '../../registry/artifacts/port';
import { mayDo, type Action } from '../../registry/roles';
import type { AdminApi, AdminRequest, AdminResponse, SpooledFile } from '../http/routes/admin';
import type { Principal } from '../inference/call';
import { chunkKey, inputKey, splitLines } from './keys';
import { JOBS_OPENAPI_PATHS } from './openapi';
import type { JobQueue } from './queue';
import type { RequestRunner } from './run-request';
import type { JobRow, JobStore } from './store';
import { jobView } from './view';
import { isWebhookUrl } from './webhook';
import type { JobWorker } from './worker';

export const DEFAULT_MAX_JOB_BYTES = 256 * 1024 * 1024; // a JSONL upload
export const MAX_JSON_JOB_BYTES = 64 * 1024 * 1024; // the JSON form is parsed whole
export const DEFAULT_MAX_JOB_REQUESTS = 100_000;
export const DEFAULT_CHUNK_SIZE = 500;
const NDJSON = /^application\/(x-ndjson|jsonl|x-jsonlines|ndjson)\s*(;|$)/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface JobsApiOptions {
  store: JobStore;
  artifacts: ArtifactStore;
  queue: JobQueue;
  worker: JobWorker;
  runner: RequestRunner;
  tenantId(name: string): Promise<string | null>;
  maxJobBytes?: number;
  maxRequests?: number;
  chunkSize?: number;
}

export class JobsApi {
  readonly maxJobBytes: number;

  constructor(private readonly o: JobsApiOptions) {
    this.maxJobBytes = o.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES;
  }

  static handles(path: string): boolean {
    return path === '/api/v1/jobs' || path.startsWith('/api/v1/jobs/');
  }

  async handle(req: AdminRequest): Promise<AdminResponse> {
    const parts = req.path.split('/').slice(4); // ['', 'api', 'v1', 'jobs', ...]
    if (parts.length === 0) {
      if (req.method === 'GET') return this.list(req);
      throw new MaasError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`);
    }
    const id = parts[0];
    if (parts.length === 1 && req.method === 'GET') return { status: 200, body: jobView(await this.visible(req, id)) };
    if (parts.length === 1 && req.method === 'DELETE') return this.cancel(req, id);
    if (parts.length === 2 && parts[1] === 'results' && req.method === 'GET') return this.results(req, id);
    if (parts.length <= 2 && (parts.length === 1 || parts[1] === 'results'))
      throw new MaasError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`);
    throw new MaasError('NOT_FOUND', 'Not Found');
  }

  // POST /api/v1/jobs: the body is in a spool file.
  async create(req: AdminRequest, body: Promise<SpooledFile>): Promise<AdminResponse> {
    let file: SpooledFile | null = null;
    try {
      need(req.principal, 'infer');
      file = await body;
      const form = NDJSON.test(req.contentType ?? '') ? await this.fromJsonl(req, file) : await this.fromJson(file);
      const tenantId = await this.tenantOf(req.principal);
      // An unknown model is refused now, not discovered request by request.
      const model = this.o.runner.resolveModel(req.principal.tenant, form.model) ?? form.model;
      this.o.runner.serving.config(model, form.version ?? undefined);
      const id = randomUUID();
      await this.o.artifacts.put(inputKey(id), form.path, form.sizeBytes);
      try {
        await this.o.store.create(
          {
            id,
            tenantId,
            principal: { subject: req.principal.subject, tenant: req.principal.tenant, roles: req.principal.roles },
            model: form.model,
            version: form.version,
            webhook: form.webhook,
            total: form.total,
            chunkSize: this.o.chunkSize ?? DEFAULT_CHUNK_SIZE,
          },
          { subject: req.principal.subject, source: req.source },
        );
      } catch (err) {
        await this.o.artifacts.delete(inputKey(id)).catch(() => undefined);
        throw err;
      }
      // A lost dispatch is made up for by the workers' sweep (queue.ts).
      await this.o.queue.publish(id).catch(() => undefined);
      return { status: 202, body: { id } };
    } finally {
      await body.catch(() => undefined);
      if (file) await fs.rm(file.path, { force: true });
    }
  }

  private async fromJsonl(req: AdminRequest, file: SpooledFile): Promise<JobForm> {
    const model = req.query.get('model');
    if (!model) throw new MaasError('INVALID_PARAMETER', "a JSONL job names its model: '?model='");
    const total = splitLines(await fs.readFile(file.path)).length;
    return {
      model,
      version: versionOf(req.query.get('version') ?? undefined),
      webhook: webhookOf(req.query.get('webhook') ?? undefined),
      total: this.checkCount(total),
      path: file.path,
      sizeBytes: file.sizeBytes,
    };
  }

  // The JSON form becomes the same JSONL input (one request per line).
  private async fromJson(file: SpooledFile): Promise<JobForm> {
    if (file.sizeBytes > MAX_JSON_JOB_BYTES)
      throw new MaasError(
        'BODY_TOO_LARGE',
        `a JSON job body is limited to ${MAX_JSON_JOB_BYTES} bytes; send larger jobs as JSONL (application/x-ndjson)`,
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(await fs.readFile(file.path, 'utf8'));
    } catch {
      throw new MaasError('INVALID_JSON', 'the body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new MaasError('INVALID_REQUEST', 'the request body must be a JSON object');
    const body = parsed as Record<string, unknown>;
    if (typeof body.model !== 'string' || body.model === '')
      throw new MaasError('INVALID_PARAMETER', "'model' must be a model name");
    if (!Array.isArray(body.requests)) throw new MaasError('INVALID_PARAMETER', "'requests' must be an array");
    for (const r of body.requests)
      if (typeof r !== 'object' || r === null || Array.isArray(r))
        throw new MaasError('INVALID_PARAMETER', "every item of 'requests' must be an inference request object");
    const total = this.checkCount(body.requests.length);
    const text = body.requests.map((r) => JSON.stringify(r)).join('\n') + '\n';
    await fs.writeFile(file.path, text);
    return {
      model: body.model,
      version: versionOf(body.version),
      webhook: webhookOf(body.webhook),
      total,
      path: file.path,
      sizeBytes: Buffer.byteLength(text),
    };
  }

  private checkCount(total: number): number {
    const max = this.o.maxRequests ?? DEFAULT_MAX_JOB_REQUESTS;
    if (total === 0) throw new MaasError('INVALID_PARAMETER', 'a job needs at least one request');
    if (total > max) throw new MaasError('INVALID_PARAMETER', `a job holds at most ${max} requests, not ${total}`);
    return total;
  }

  private async tenantOf(principal: Principal): Promise<string | null> {
    if (principal.tenant === null) return null;
    const id = await this.o.tenantId(principal.tenant);
    if (!id) throw new MaasError('FORBIDDEN', 'the caller belongs to no tenant');
    return id;
  }

  private async visible(req: AdminRequest, id: string): Promise<JobRow> {
    need(req.principal, 'models.read');
    const row = UUID.test(id) ? await this.o.store.get(id, scope(req.principal)) : null;
    if (!row) throw new MaasError('JOB_NOT_FOUND', `no job '${id}'`);
    return row;
  }

  private async list(req: AdminRequest): Promise<AdminResponse> {
    need(req.principal, 'models.read');
    const limit = Math.min(1000, Math.max(1, Number(req.query.get('limit') ?? 100) || 100));
    const offset = Math.max(0, Number(req.query.get('offset') ?? 0) || 0);
    const rows = await this.o.store.list(scope(req.principal), limit, offset);
    return {
      status: 200,
      body: { items: rows.map(jobView), nextOffset: rows.length < limit ? null : offset + rows.length },
    };
  }

  private async cancel(req: AdminRequest, id: string): Promise<AdminResponse> {
    const row = await this.visible(req, id);
    need(req.principal, 'infer');
    const cancelled = await this.o.store.cancel(row.id, { subject: req.principal.subject, source: req.source });
    if (cancelled) {
      this.o.worker.stopLocal(row.id);
      this.o.worker.notify(cancelled);
    }
    // Cancelling a job that already ended changes nothing: its state is the answer.
    return { status: 200, body: jobView(cancelled ?? row) };
  }

  // The stored chunks in order: every result of a finished job; of a running
  // one, the results checkpointed so far (a prefix of the input).
  private async results(req: AdminRequest, id: string): Promise<AdminResponse> {
    const row = await this.visible(req, id);
    const parts: Uint8Array[] = [];
    for (let c = 0; c < row.chunksDone; c++) parts.push(await this.o.artifacts.get(chunkKey(row.id, c)));
    return { status: 200, raw: { contentType: 'application/x-ndjson', bytes: Buffer.concat(parts) } };
  }
}

interface JobForm {
  model: string;
  version: string | null;
  webhook: string | null;
  total: number;
  path: string; // the JSONL input
  sizeBytes: number;
}

// Adds the jobs routes to the registry's management API.
export function adminWithJobs(inner: AdminApi, jobs: JobsApi): AdminApi {
  return {
    maxUploadBytes: inner.maxUploadBytes,
    openSpool: () => inner.openSpool(),
    upload: (request, model, version, body) => inner.upload(request, model, version, body),
    spooledLimit: (method, path) => (method === 'POST' && path === '/api/v1/jobs' ? jobs.maxJobBytes : null),
    handleSpooled: (request, body) => jobs.create(request, body),
    async handle(request) {
      if (JobsApi.handles(request.path)) return jobs.handle(request);
      const response = await inner.handle(request);
      if (request.path === '/api/v1/openapi.json' && response.status === 200) {
        const doc = response.body as { paths: Record<string, unknown> };
        return { status: 200, body: { ...doc, paths: { ...doc.paths, ...JOBS_OPENAPI_PATHS } } };
      }
      return response;
    },
  };
}

function scope(principal: Principal): string | null {
  if (principal.roles.includes('admin')) return null;
  if (principal.tenant === null) throw new MaasError('FORBIDDEN', 'the caller belongs to no tenant');
  return principal.tenant;
}

function need(principal: Principal, action: Action): void {
  if (!mayDo(principal.roles, action))
    throw new MaasError('FORBIDDEN', `role ${principal.roles.join(',') || 'none'} may not do ${action}`);
}

function versionOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !/^[0-9]{1,18}$/.test(value))
    throw new MaasError('INVALID_PARAMETER', "'version' must be a version number (digits)");
  return value;
}

function webhookOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !isWebhookUrl(value))
    throw new MaasError('INVALID_PARAMETER', "'webhook' must be an http(s) URL");
  return value;
}
