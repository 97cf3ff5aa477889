-- +goose Up
-- Service clients of the OpenID Provider: a confidential client scoped to
-- one account, which gets access tokens for it with client credentials
-- (no person: their tokens carry no user_id).
ALTER TABLE oidc_clients ADD COLUMN service BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE oidc_clients ADD COLUMN account_id TEXT REFERENCES accounts (id);
ALTER TABLE oidc_tokens ALTER COLUMN user_id DROP NOT NULL;
CREATE INDEX oidc_tokens_by_client ON oidc_tokens (client_id);

-- +goose Down
DELETE FROM oidc_tokens WHERE user_id IS NULL;
DROP INDEX oidc_tokens_by_client;
ALTER TABLE oidc_tokens ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE oidc_clients DROP COLUMN account_id;
ALTER TABLE oidc_clients DROP COLUMN service;
