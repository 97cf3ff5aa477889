-- +goose Up
-- Service clients of the OpenID Provider: a confidential client scoped to
-- one account, which gets access tokens for it with client credentials
-- (no person: their tokens carry no user_id).
ALTER TABLE oidc_clients ADD COLUMN service INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oidc_clients ADD COLUMN account_id TEXT REFERENCES accounts (id);

CREATE TABLE oidc_tokens_new (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id),
    user_id    TEXT REFERENCES users (id),
    token_hash BLOB UNIQUE,
    scopes     TEXT NOT NULL,
    amr        TEXT NOT NULL,
    auth_time  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
);
INSERT INTO oidc_tokens_new SELECT id, kind, family_id, client_id, user_id, token_hash, scopes, amr, auth_time, created_at,
    expires_at, used_at, revoked_at FROM oidc_tokens;
DROP TABLE oidc_tokens;
ALTER TABLE oidc_tokens_new RENAME TO oidc_tokens;
CREATE INDEX oidc_tokens_by_family ON oidc_tokens (family_id);
CREATE INDEX oidc_tokens_by_client ON oidc_tokens (client_id);

-- +goose Down
DELETE FROM oidc_tokens WHERE user_id IS NULL;
DROP INDEX oidc_tokens_by_client;
ALTER TABLE oidc_clients DROP COLUMN account_id;
ALTER TABLE oidc_clients DROP COLUMN service;
