-- +goose Up
-- Sign-in: authenticator keys sealed with the server key, the last
-- time step used (a code works once), second-factor challenges and sessions.
-- Challenge and session secrets are kept only as SHA-256.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

CREATE TABLE mfa_challenges (
    id          TEXT PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('verify', 'enroll')),
    totp_secret TEXT NOT NULL DEFAULT '',
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    token_hash   BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE mfa_challenges;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_secret;
