-- +goose Up
-- acr_values: what an application asked of the sign-in (a second factor).
ALTER TABLE oidc_auth_requests ADD COLUMN acr_values TEXT NOT NULL DEFAULT '';
-- signing_algorithm: ES256, or RS256 for an application that cannot verify
-- ES256. The RSA key of a generation is made when a token first needs it.
ALTER TABLE oidc_clients ADD COLUMN signing_algorithm TEXT NOT NULL DEFAULT 'ES256';
ALTER TABLE oidc_signing_keys ADD COLUMN rsa_private_key TEXT;
-- owner_account_id: the integrator account whose administrators registered
-- the application (NULL for the platform's own, registered by operators).
-- Its tokens carry only that integrator's accounts, and people consent to it.
ALTER TABLE oidc_clients ADD COLUMN owner_account_id TEXT REFERENCES accounts (id);
CREATE INDEX oidc_clients_by_owner ON oidc_clients (owner_account_id);
-- A person's consent to an integrator's application, for the scopes listed.
CREATE TABLE oidc_consents (
    user_id    TEXT NOT NULL REFERENCES users (id),
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id),
    scopes     TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- +goose Down
DROP TABLE oidc_consents;
DROP INDEX oidc_clients_by_owner;
ALTER TABLE oidc_clients DROP COLUMN owner_account_id;
ALTER TABLE oidc_signing_keys DROP COLUMN rsa_private_key;
ALTER TABLE oidc_clients DROP COLUMN signing_algorithm;
ALTER TABLE oidc_auth_requests DROP COLUMN acr_values;
