-- Up Migration
-- The registry's first schema (docs/registry.md "Schema"). Names are checked
-- by the application (registry/names.ts) and again here, so that a row can
-- never hold a name the HTTP routes or the object store could misread.

CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A key's secret is never stored: only its SHA-256 (the secret is 256 random
-- bits, so a slow hash adds nothing). tenant_id is NULL for platform admins.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('admin', 'owner', 'developer', 'viewer')),
  name text NOT NULL DEFAULT '',
  prefix text NOT NULL UNIQUE,
  secret_sha256 bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  CHECK ((role = 'admin') = (tenant_id IS NULL))
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE models (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'),
  visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public')),
  config jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
-- A public model is addressed by its bare name by every tenant: one per name.
CREATE UNIQUE INDEX models_public_name ON models (name) WHERE visibility = 'public';

-- Immutable once ready: nothing updates sha256, size or the object.
CREATE TABLE model_versions (
  model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  version bigint NOT NULL CHECK (version > 0),
  status text NOT NULL CHECK (status IN ('uploading', 'validating', 'ready', 'failed')),
  reason text,
  sha256 text,
  size_bytes bigint,
  object_key text,
  created_at timestamptz NOT NULL DEFAULT now(),
  ready_at timestamptz,
  PRIMARY KEY (model_id, version)
);

CREATE TABLE model_aliases (
  model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  alias text NOT NULL CHECK (alias ~ '^[A-Za-z][A-Za-z0-9_-]{0,62}$'),
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_id, alias),
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version) ON DELETE CASCADE
);

-- Every change: who (a key id or JWT subject), what, on what, from where.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  tenant_id uuid,
  action text NOT NULL,
  target text NOT NULL,
  detail jsonb,
  source text
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

-- Down Migration
DROP TABLE audit_log;
DROP TABLE model_aliases;
DROP TABLE model_versions;
DROP TABLE models;
DROP TABLE api_keys;
DROP TABLE tenants;
