-- +goose Up
-- Substring search of account names (SPEC R-T4): a trigram index lets
-- "name_key LIKE '%lyon%'" use an index instead of scanning every account.
-- pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13+),
-- so a database owner may create it. Where it is missing, search still works,
-- only slower; the notice says so.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX accounts_name_trgm ON accounts USING gin (name_key gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%): account name search will scan', SQLERRM;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS accounts_name_trgm;
