-- +goose Up
-- SCIM provisioning (docs/scim.md): an account's directory (Entra ID, Okta)
-- creates, changes, suspends and removes its people through
-- /scim/v2/accounts/{id}, with a SCIM token of the account.
-- A membership keeps the directory's own id for the person (external_id,
-- unique in the account) and the instant the directory suspended it
-- (suspended_at): a suspended membership holds no access, as one that
-- ended by itself, but stays, to be restored.
ALTER TABLE memberships ADD COLUMN external_id TEXT;
ALTER TABLE memberships ADD COLUMN suspended_at INTEGER;
CREATE UNIQUE INDEX memberships_by_external_id ON memberships (account_id, external_id) WHERE external_id IS NOT NULL;

-- An account's SCIM tokens. Only the SHA-256 of the secret is kept.
-- acts_as: the level the token acts with in its account, fixed when it is
-- made from what its maker may do: client_admin (it provisions client
-- users), integrator_admin (every level of the account).
-- identity_provider_id: the provider the people it creates sign in
-- through, NULL for a password of their own.
CREATE TABLE scim_tokens (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (id),
    name                 TEXT NOT NULL,
    token_hash           BLOB NOT NULL UNIQUE,
    acts_as              TEXT NOT NULL CHECK (acts_as IN ('client_admin', 'integrator_admin')),
    identity_provider_id TEXT,
    created_by           TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    last_used_at         INTEGER,
    revoked_at           INTEGER
);
CREATE INDEX scim_tokens_by_account ON scim_tokens (account_id, id);

-- +goose Down
DROP TABLE scim_tokens;
DROP INDEX memberships_by_external_id;
ALTER TABLE memberships DROP COLUMN suspended_at;
ALTER TABLE memberships DROP COLUMN external_id;
