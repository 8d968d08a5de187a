-- Up Migration
-- Usage metering (docs/usage.md). The outbox holds one row per metered call:
-- gateways insert batches (ON CONFLICT (id) DO NOTHING, so a retried batch
-- adds nothing); a relay reads unrelayed rows in seq order, delivers them
-- (Kafka, when configured), adds them to usage_hourly and sets relayed_at,
-- all in one transaction, so a row is rolled up exactly once.
CREATE TABLE usage_outbox (
  seq bigserial NOT NULL,
  id text PRIMARY KEY,
  request_id text NOT NULL,
  tenant text, -- a tenant name; NULL: none (anonymous, the local admin)
  key_id text NOT NULL,
  model text NOT NULL,
  version text,
  protocol text NOT NULL,
  inferences integer NOT NULL,
  input_bytes bigint NOT NULL,
  output_bytes bigint NOT NULL,
  queue_us bigint NOT NULL,
  compute_us bigint NOT NULL,
  status text NOT NULL,
  started_at timestamptz NOT NULL,
  duration_us bigint NOT NULL,
  relayed_at timestamptz
);
CREATE INDEX usage_outbox_pending ON usage_outbox (seq) WHERE relayed_at IS NULL;
-- Export (by time) and retention (relayed rows older than N days).
CREATE INDEX usage_outbox_started ON usage_outbox (started_at, seq);

-- The roll-up the usage API reads: one row per tenant, key, model and hour.
CREATE TABLE usage_hourly (
  tenant text NOT NULL, -- '' : none
  key_id text NOT NULL,
  model text NOT NULL,
  hour timestamptz NOT NULL,
  requests bigint NOT NULL,
  inferences bigint NOT NULL,
  input_bytes bigint NOT NULL,
  output_bytes bigint NOT NULL,
  compute_us bigint NOT NULL,
  errors bigint NOT NULL,
  PRIMARY KEY (tenant, hour, model, key_id)
);
CREATE INDEX usage_hourly_hour ON usage_hourly (hour);

-- Down Migration
DROP TABLE usage_hourly;
DROP TABLE usage_outbox;
