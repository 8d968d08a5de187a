// A job as the API shows it (GET /api/v1/jobs/{id}, the webhook's body).
import type { JobRow } from './store';

export function jobView(row: JobRow): Record<string, unknown> {
  return {
    id: row.id,
    tenant: row.tenant,
    model: row.model,
    version: row.version,
    status: row.status,
    reason: row.reason,
    progress: { total: row.total, done: row.done, failed: row.failed },
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}
