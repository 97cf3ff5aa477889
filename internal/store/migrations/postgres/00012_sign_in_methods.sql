-- +goose Up
-- Sign-in methods and profiles.
-- Identities choose their second factor (R-S2): '' none, 'totp' the
-- authenticator app, 'sms' a code sent to their phone. They may sign in
-- through an external identity provider (R-U5), bound to the provider's
-- subject at activation. user_type is a free label (R-U7).
ALTER TABLE users ADD COLUMN mfa_method TEXT NOT NULL DEFAULT '' CHECK (mfa_method IN ('', 'totp', 'sms'));
UPDATE users SET mfa_method = 'totp' WHERE totp_secret <> '';
ALTER TABLE users ADD COLUMN user_type TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN identity_provider_id TEXT;
ALTER TABLE users ADD COLUMN provider_subject TEXT;
CREATE UNIQUE INDEX users_by_provider_subject ON users (identity_provider_id, provider_subject);

-- Challenges live five minutes, so the table is made again rather than
-- altered: a challenge now says which method it asks for, and an SMS
-- challenge keeps the hash of its code and when it was last sent (resends
-- are throttled).
DROP TABLE mfa_challenges;
CREATE TABLE mfa_challenges (
    id           TEXT PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL CHECK (kind IN ('verify', 'enroll')),
    method       TEXT NOT NULL CHECK (method IN ('totp', 'sms')),
    totp_secret  TEXT NOT NULL DEFAULT '',
    code_hash    BYTEA,
    phone        TEXT NOT NULL DEFAULT '',
    sends        BIGINT NOT NULL DEFAULT 0,
    last_sent_at BIGINT,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);

-- Ten single-use recovery codes per identity, kept as SHA-256.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id),
    code_hash BYTEA NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- The outbox carries SMS too (R-N2): recipient is then an E.164 number.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms'));

-- OpenID Connect providers (R-U5): platform-wide (account_id NULL, made by
-- operators) or an integrator's, for its own account and its clients. The
-- client secret is sealed with the server key: it must be sent again.
CREATE TABLE identity_providers (
    id            TEXT PRIMARY KEY,
    account_id    TEXT REFERENCES accounts (id),
    name          TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX identity_providers_by_account ON identity_providers (account_id);

-- One row per trip to a provider: the state sent along (as SHA-256), the
-- PKCE verifier and nonce (sealed), what the trip is for, and, for an
-- activation, the hash of the invitation link that started it. Used once.
CREATE TABLE oidc_logins (
    id              TEXT PRIMARY KEY,
    state_hash      BYTEA NOT NULL UNIQUE,
    provider_id     TEXT NOT NULL REFERENCES identity_providers (id),
    invitation_hash BYTEA,
    verifier        TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);

-- A username change waits for the link mailed to the new address (R-U4).
CREATE TABLE username_changes (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    new_username TEXT NOT NULL,
    token_hash   BYTEA NOT NULL UNIQUE,
    requested_by TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX username_changes_by_user ON username_changes (user_id);

-- Notifications sent to an account (R-N3), kept by the caller's
-- idempotency key so a retried request fans out once.
CREATE TABLE account_notifications (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    idempotency_key TEXT NOT NULL,
    emails          BIGINT NOT NULL,
    sms             BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (account_id, idempotency_key)
);

-- +goose Down
DROP TABLE account_notifications;
DROP TABLE username_changes;
DROP TABLE oidc_logins;
DROP TABLE identity_providers;
ALTER TABLE outbox DROP COLUMN channel;
DROP TABLE recovery_codes;
DROP TABLE mfa_challenges;
CREATE TABLE mfa_challenges (
    id          TEXT PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('verify', 'enroll')),
    totp_secret TEXT NOT NULL DEFAULT '',
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
DROP INDEX users_by_provider_subject;
ALTER TABLE users DROP COLUMN provider_subject;
ALTER TABLE users DROP COLUMN identity_provider_id;
ALTER TABLE users DROP COLUMN user_type;
ALTER TABLE users DROP COLUMN mfa_method;
