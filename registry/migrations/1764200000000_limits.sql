-- Up Migration
-- Limits per tenant and per API key (docs/limits.md). A NULL column is no
-- limit of that kind. A key's row is removed with the key (or its tenant).

CREATE TABLE tenant_limits (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  requests_per_second double precision CHECK (requests_per_second > 0),
  burst bigint CHECK (burst > 0),
  inferences_per_second double precision CHECK (inferences_per_second > 0),
  concurrent_requests bigint CHECK (concurrent_requests > 0),
  monthly_inferences bigint CHECK (monthly_inferences > 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE key_limits (
  key_id uuid PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
  requests_per_second double precision CHECK (requests_per_second > 0),
  burst bigint CHECK (burst > 0),
  inferences_per_second double precision CHECK (inferences_per_second > 0),
  concurrent_requests bigint CHECK (concurrent_requests > 0),
  monthly_inferences bigint CHECK (monthly_inferences > 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE key_limits;
DROP TABLE tenant_limits;
