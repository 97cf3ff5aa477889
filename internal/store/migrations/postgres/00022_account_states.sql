-- +goose Up
-- An account's life: active, suspended (its own members cannot act in it,
-- its integrator's staff still manage it), or deleted (its people gone, the
-- account kept for an operator to restore until purge_after, then purged).
ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted'));
ALTER TABLE accounts ADD COLUMN purge_after BIGINT;
CREATE INDEX accounts_to_purge ON accounts (purge_after) WHERE purge_after IS NOT NULL;

-- +goose Down
DROP INDEX accounts_to_purge;
ALTER TABLE accounts DROP COLUMN purge_after;
ALTER TABLE accounts DROP COLUMN status;
