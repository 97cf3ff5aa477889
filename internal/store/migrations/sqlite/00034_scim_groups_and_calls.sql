-- +goose Up
-- A group the directory pushes is a Gatehouse group of the account
-- (user_groups); scim_groups keeps the directory's id for it.
CREATE TABLE scim_groups (
    group_id    TEXT PRIMARY KEY REFERENCES user_groups (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    external_id TEXT
);
CREATE UNIQUE INDEX scim_groups_by_external_id ON scim_groups (account_id, external_id) WHERE external_id IS NOT NULL;

-- What membership of a directory group gives, set by the account's
-- administrators: a role the group's Gatehouse group holds account-wide
-- (role_id: a custom role's id or a built-in role's name), or a level its
-- members hold (an administrator's). One mapping per group name
-- (group_key: the name folded, as user_groups.name_key).
CREATE TABLE scim_group_mappings (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    group_name TEXT NOT NULL,
    group_key  TEXT NOT NULL,
    role_id    TEXT,
    level      TEXT CHECK (level IN ('client_admin', 'integrator_admin')),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK ((role_id IS NULL) <> (level IS NULL)),
    UNIQUE (account_id, group_key)
);

-- The provisioning calls an account's directory made, for its
-- administrators to see what it did and what was refused; kept 30 days.
-- outcome: ok (2xx), refused (4xx) or failed (5xx); detail: the error's
-- detail, or what the call changed.
CREATE TABLE scim_calls (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    token_id   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    method     TEXT NOT NULL,
    path       TEXT NOT NULL,
    status     INTEGER NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scim_calls_by_account ON scim_calls (account_id, id);
CREATE INDEX scim_calls_by_time ON scim_calls (at);

-- +goose Down
DROP TABLE scim_calls;
DROP TABLE scim_group_mappings;
DROP TABLE scim_groups;
