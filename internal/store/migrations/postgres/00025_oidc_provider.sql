-- +goose Up
-- Gatehouse as the platform's OpenID Provider (docs/openid-provider.md).
-- second_factor records whether a session was opened with a second factor,
-- for the amr claim of the ID tokens it leads to.
ALTER TABLE sessions ADD COLUMN second_factor BOOLEAN NOT NULL DEFAULT false;

-- The key that signs ID and access tokens, ES256, shared by every node. The
-- private key is sealed with the node's secret key. slot makes the first key
-- unique: two nodes generating one at once keep the first inserted.
CREATE TABLE oidc_signing_keys (
    id          TEXT PRIMARY KEY,
    slot        BIGINT NOT NULL UNIQUE,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The platform's applications that sign people in through Gatehouse,
-- registered by operators. redirect_uris is one address a line, matched
-- exactly; a confidential client keeps only the SHA-256 of its secret.
CREATE TABLE oidc_clients (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    confidential  BOOLEAN NOT NULL,
    secret_hash   BYTEA,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);

-- An authorization request, from /oauth2/authorize to the code's exchange.
-- user_id is set once the person signed in and the request is finished; the
-- code is kept as its SHA-256 and works once (code_used_at).
CREATE TABLE oidc_auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES oidc_clients (id),
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    state                 TEXT NOT NULL,
    nonce                 TEXT NOT NULL,
    response_type         TEXT NOT NULL,
    response_mode         TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    user_id               TEXT REFERENCES users (id),
    amr                   TEXT NOT NULL DEFAULT '',
    auth_time             BIGINT,
    code_hash             BYTEA UNIQUE,
    code_used_at          BIGINT,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL
);
CREATE INDEX oidc_auth_requests_by_expiry ON oidc_auth_requests (expires_at);

-- Access tokens (JWTs; the row lets them be revoked) and refresh tokens
-- (opaque; the SHA-256 is kept). A family is every token descended from one
-- authorization: a refresh token used twice revokes its family.
CREATE TABLE oidc_tokens (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    token_hash BYTEA UNIQUE,
    scopes     TEXT NOT NULL,
    amr        TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oidc_tokens_by_family ON oidc_tokens (family_id);

-- +goose Down
DROP TABLE oidc_tokens;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
DROP TABLE oidc_signing_keys;
ALTER TABLE sessions DROP COLUMN second_factor;
