-- Up Migration
-- Asynchronous inference jobs (docs/jobs.md). One row per job: who made it
-- (the principal its requests run as), what it runs, its state, its progress,
-- its checkpoint (result chunks written to the artifact store) and the lease
-- of the worker running it. Inputs and results live in the artifact store
-- under _jobs/<id>/.
CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE, -- NULL: made by a platform admin
  principal jsonb NOT NULL, -- {subject, tenant, roles}: the caller the requests run as
  model text NOT NULL,
  version text,
  webhook text,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  reason text, -- why a job failed
  total integer NOT NULL CHECK (total > 0),
  done integer NOT NULL DEFAULT 0, -- requests answered (successes and errors)
  failed integer NOT NULL DEFAULT 0, -- requests answered with an error
  chunk_size integer NOT NULL CHECK (chunk_size > 0),
  chunks_done integer NOT NULL DEFAULT 0, -- the checkpoint: result chunks 0..chunks_done-1 are stored
  checkpoint_failed integer NOT NULL DEFAULT 0, -- errors within the stored chunks
  attempts integer NOT NULL DEFAULT 0, -- claims so far (a job that kills its workers stops after a few)
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX jobs_tenant ON jobs (tenant_id, created_at DESC);
-- Workers look for unfinished jobs (queued, or running under an expired lease).
CREATE INDEX jobs_unfinished ON jobs (created_at) WHERE status IN ('queued', 'running');

-- Down Migration
DROP TABLE jobs;
