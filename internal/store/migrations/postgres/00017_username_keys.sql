-- +goose Up
-- Usernames are keyed by PRECIS and IDNA rather than lower-cased, so that
-- the spellings of one address people cannot tell apart name one identity.
-- Re-keying the identities made before is Go code (usernamekeys.go), run
-- after the migrations; these tables are its memory.

-- The key rules (gatehouse.UsernameKeyVersion) whose re-keying is done, so
-- that later starts do not scan every identity again.
CREATE TABLE username_key_versions (
    version    INTEGER PRIMARY KEY,
    applied_at BIGINT NOT NULL
);

-- Identities whose username now has the key another one holds: the other
-- keeps it, this one keeps its old key until someone merges them.
CREATE TABLE username_key_collisions (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    other_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    username_key  TEXT NOT NULL,
    found_at      BIGINT NOT NULL
);

-- +goose Down
DROP TABLE username_key_collisions;
DROP TABLE username_key_versions;
