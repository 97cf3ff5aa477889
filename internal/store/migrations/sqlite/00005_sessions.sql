-- +goose Up
-- Sign-in: authenticator keys sealed with the server key, the last
-- time step used (a code works once), second-factor challenges and sessions.
-- Challenge and session secrets are kept only as SHA-256.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

CREATE TABLE mfa_challenges (
    id          TEXT PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('verify', 'enroll')),
    totp_secret TEXT NOT NULL DEFAULT '',
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE mfa_challenges;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_secret;
