-- +goose Up
-- The clients of one integrator have names unique without regard to case,
-- so that an account switcher never shows two "Store 7". client_name_key
-- is the name key of a client account; a unique index over it per
-- integrator refuses a second client of the same name, from any node.
-- Clients that already shared a name keep it: the first made holds the
-- key, the others hold none (NULLs never collide) until they are renamed,
-- and pages tell them apart by their address.
ALTER TABLE accounts ADD COLUMN client_name_key TEXT;
UPDATE accounts SET client_name_key = name_key
WHERE kind = 'client' AND NOT EXISTS (
    SELECT 1 FROM accounts b
    WHERE b.kind = 'client' AND b.integrator_id = accounts.integrator_id AND b.name_key = accounts.name_key
      AND (b.created_at < accounts.created_at OR (b.created_at = accounts.created_at AND b.id < accounts.id)));
CREATE UNIQUE INDEX accounts_unique_client_names ON accounts (integrator_id, client_name_key);

-- +goose Down
DROP INDEX accounts_unique_client_names;
ALTER TABLE accounts DROP COLUMN client_name_key;
