-- +goose Up
-- "Forgot your password?": one row per link mailed; only the
-- SHA-256 of its secret is kept; used once, within an hour.
CREATE TABLE password_resets (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

-- +goose Down
DROP TABLE password_resets;
