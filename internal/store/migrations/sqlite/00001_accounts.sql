-- +goose Up
-- Times are Unix microseconds (INTEGER) on both databases: one encoding, exact
-- ordering, no driver-specific time parsing. See docs/decisions.md.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('integrator', 'client')),
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    address       TEXT NOT NULL DEFAULT '',
    integrator_id TEXT REFERENCES accounts (id),
    max_client_users INTEGER NOT NULL DEFAULT 9 CHECK (max_client_users >= 0),
    client_admins_can_add_remote_monitoring INTEGER NOT NULL DEFAULT 0,
    -- Client users counted against max_client_users (guarded counter, SPEC R-L1).
    client_users  INTEGER NOT NULL DEFAULT 0 CHECK (client_users >= 0),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK ((kind = 'client') = (integrator_id IS NOT NULL))
);
CREATE INDEX accounts_by_name ON accounts (name_key, id);
CREATE INDEX accounts_by_integrator ON accounts (integrator_id, name_key, id);

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    first_name   TEXT NOT NULL DEFAULT '',
    last_name    TEXT NOT NULL DEFAULT '',
    language     TEXT NOT NULL DEFAULT 'en',
    status       TEXT NOT NULL CHECK (status IN ('pending', 'active')),
    created_at   INTEGER NOT NULL
);

CREATE TABLE memberships (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    level      TEXT NOT NULL CHECK (level IN ('integrator_admin', 'integrator_user', 'client_admin', 'client_user', 'remote_monitoring')),
    status     TEXT NOT NULL CHECK (status IN ('creating', 'activation_required', 'active')),
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id, account_id);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT,
    at          INTEGER NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_by_account ON audit_events (account_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE accounts;
