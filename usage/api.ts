// The usage API under /api/v1 (docs/usage.md "API"):
//   GET /api/v1/usage?tenant=&model=&from=&to=&groupBy=model|key|hour|day
//       totals from the hourly roll-up (never a scan of raw records)
//   GET /api/v1/usage/export?format=csv|jsonl&tenant=&model=&from=&to=
//       the raw records, streamed page by page (keyset on started_at, seq)
// A tenant's principal sees its own tenant only (another tenant is a 404,
// as everywhere in the registry); an admin sees every tenant.
import { MaasError } from '../common/errors';
import type { AdminRequest, AdminResponse } from '../gateway/http/routes/admin';
import type { Pool } from 'pg';
import { mayDo } from '../registry/roles';
import { OUTBOX_SELECT, publicRecord, type OutboxRow } from './relay';

export const GROUP_BY = ['model', 'key', 'hour', 'day'] as const;
type GroupBy = (typeof GROUP_BY)[number];

const GROUP_COLUMN: Record<GroupBy, string> = {
  model: 'model',
  key: 'key_id',
  hour: 'hour',
  day: "date_trunc('day', hour, 'UTC')",
};

const EXPORT_PAGE_ROWS = 1000;

const CSV_FIELDS = [
  'id',
  'requestId',
  'tenant',
  'keyId',
  'model',
  'version',
  'protocol',
  'inferences',
  'inputBytes',
  'outputBytes',
  'queueUs',
  'computeUs',
  'status',
  'startedAt',
  'durationUs',
] as const;

interface Filter {
  tenant: string | null; // null: every tenant (admin only)
  model: string | null;
  from: Date | null;
  to: Date | null;
}

export class UsageApi {
  constructor(private readonly pool: Pool) {}

  // GET /api/v1/usage
  async totals(req: AdminRequest): Promise<AdminResponse> {
    const filter = scope(req);
    const groupText = req.query.get('groupBy');
    if (groupText !== null && !(GROUP_BY as readonly string[]).includes(groupText))
      throw new MaasError('INVALID_PARAMETER', `'groupBy' must be one of ${GROUP_BY.join(', ')}`);
    const groupBy = groupText as GroupBy | null;
    const { where, params } = rollupWhere(filter);
    const sums = `sum(requests)::float8 AS requests, sum(inferences)::float8 AS inferences,
      sum(input_bytes)::float8 AS input_bytes, sum(output_bytes)::float8 AS output_bytes,
      sum(compute_us)::float8 AS compute_us, sum(errors)::float8 AS errors`;
    const total = await this.pool.query(`SELECT ${sums} FROM usage_hourly ${where}`, params);
    const body: Record<string, unknown> = {
      tenant: filter.tenant,
      model: filter.model,
      from: filter.from?.toISOString() ?? null,
      to: filter.to?.toISOString() ?? null,
      totals: totalsOf(total.rows[0] as SumRow),
    };
    if (groupBy) {
      const column = GROUP_COLUMN[groupBy];
      const grouped = await this.pool.query(
        `SELECT ${column} AS g, ${sums} FROM usage_hourly ${where} GROUP BY 1 ORDER BY 1`,
        params,
      );
      body.groupBy = groupBy;
      body.groups = grouped.rows.map((r: SumRow & { g: unknown }) => ({
        [groupBy]: r.g instanceof Date ? r.g.toISOString() : r.g,
        ...totalsOf(r),
      }));
    }
    return { status: 200, body };
  }

  // GET /api/v1/usage/export
  export(req: AdminRequest): Promise<AdminResponse> {
    const filter = scope(req);
    const format = req.query.get('format') ?? 'jsonl';
    if (format !== 'csv' && format !== 'jsonl')
      throw new MaasError('INVALID_PARAMETER', "'format' must be 'csv' or 'jsonl'");
    const contentType = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
    return Promise.resolve({
      status: 200,
      stream: { contentType, chunks: this.exportChunks(filter, format) },
    });
  }

  private async *exportChunks(filter: Filter, format: 'csv' | 'jsonl'): AsyncGenerator<string> {
    if (format === 'csv') yield CSV_FIELDS.join(',') + '\n';
    let after: { startedAt: Date; seq: string } | null = null;
    for (;;) {
      const { where, params } = outboxWhere(filter, after);
      params.push(EXPORT_PAGE_ROWS);
      const { rows } = await this.pool.query<OutboxRow & { seq: string }>(
        `SELECT seq, ${OUTBOX_SELECT} FROM usage_outbox ${where} ORDER BY started_at, seq LIMIT $${params.length}`,
        params,
      );
      if (rows.length === 0) return;
      let chunk = '';
      for (const row of rows) {
        const record = publicRecord(row);
        chunk += format === 'csv' ? csvLine(record) : JSON.stringify(record) + '\n';
      }
      yield chunk;
      if (rows.length < EXPORT_PAGE_ROWS) return;
      const last = rows[rows.length - 1];
      after = { startedAt: last.started_at, seq: last.seq };
    }
  }
}

interface SumRow {
  requests: number | null;
  inferences: number | null;
  input_bytes: number | null;
  output_bytes: number | null;
  compute_us: number | null;
  errors: number | null;
}

function totalsOf(r: SumRow): Record<string, number> {
  return {
    requests: r.requests ?? 0,
    inferences: r.inferences ?? 0,
    inputBytes: r.input_bytes ?? 0,
    outputBytes: r.output_bytes ?? 0,
    computeSeconds: (r.compute_us ?? 0) / 1e6,
    errors: r.errors ?? 0,
  };
}

// The caller's view: its own tenant, or (admin) the one asked for or all.
function scope(req: AdminRequest): Filter {
  const p = req.principal;
  if (!mayDo(p.roles, 'usage.read'))
    throw new MaasError('FORBIDDEN', `role ${p.roles.join(',') || 'none'} may not do usage.read`);
  const asked = req.query.get('tenant');
  let tenant: string | null;
  if (p.roles.includes('admin')) tenant = asked;
  else {
    if (p.tenant === null) throw new MaasError('FORBIDDEN', 'the caller belongs to no tenant');
    if (asked !== null && asked !== p.tenant) throw new MaasError('TENANT_NOT_FOUND', `no tenant '${asked}'`);
    tenant = p.tenant;
  }
  return { tenant, model: req.query.get('model'), from: time(req, 'from'), to: time(req, 'to') };
}

function time(req: AdminRequest, name: string): Date | null {
  const text = req.query.get(name);
  if (text === null) return null;
  const t = new Date(text);
  if (text === '' || Number.isNaN(t.getTime()))
    throw new MaasError('INVALID_PARAMETER', `'${name}' must be an ISO 8601 date-time`);
  return t;
}

// Roll-up rows are whole hours: `from` takes the hour it falls in, `to` is exclusive.
function rollupWhere(f: Filter): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const terms: string[] = [];
  if (f.tenant !== null) terms.push(`tenant = $${params.push(f.tenant)}`);
  if (f.model !== null) terms.push(`model = $${params.push(f.model)}`);
  if (f.from) terms.push(`hour >= date_trunc('hour', $${params.push(f.from)}::timestamptz, 'UTC')`);
  if (f.to) terms.push(`hour < $${params.push(f.to)}`);
  return { where: terms.length ? `WHERE ${terms.join(' AND ')}` : '', params };
}

function outboxWhere(f: Filter, after: { startedAt: Date; seq: string } | null): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const terms: string[] = [];
  if (f.tenant !== null) terms.push(`tenant = $${params.push(f.tenant)}`);
  if (f.model !== null) terms.push(`model = $${params.push(f.model)}`);
  if (f.from) terms.push(`started_at >= $${params.push(f.from)}`);
  if (f.to) terms.push(`started_at < $${params.push(f.to)}`);
  if (after) terms.push(`(started_at, seq) > ($${params.push(after.startedAt)}, $${params.push(after.seq)})`);
  return { where: terms.length ? `WHERE ${terms.join(' AND ')}` : '', params };
}

function csvLine(record: Record<string, unknown>): string {
  return CSV_FIELDS.map((f) => csvField(record[f])).join(',') + '\n';
}

// Record values are strings, numbers or null (relay.ts publicRecord).
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
