-- Up Migration
-- A tenant's priority class (docs/resilience.md "Tenant priorities"): its
-- online requests enter the batcher at the level this names.
ALTER TABLE tenants
  ADD COLUMN priority text NOT NULL DEFAULT 'standard' CHECK (priority IN ('premium', 'standard'));

-- Down Migration
ALTER TABLE tenants DROP COLUMN priority;
