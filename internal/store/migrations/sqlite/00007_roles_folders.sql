-- +goose Up
-- Roles, folders, groups and grants (SPEC R-A1…R-A5).
--
-- authz_version is bumped in the transaction of every change that can alter
-- a check's answer in the account (memberships, their roles, custom roles,
-- folders, grants, groups). Check caches compare it before answering, so a
-- change is seen by the next check on every node. See docs/decisions.md.
-- (SQLite, with one writing process, keeps the version in that process's
-- memory instead, and leaves this column at 0.)
ALTER TABLE accounts ADD COLUMN authz_version INTEGER NOT NULL DEFAULT 0;

-- Custom roles. Built-in roles (viewer, editor, manager) are not rows: their
-- name is their id. membership_roles.role, group roles and grants hold role
-- ids, so a rename changes nothing else.
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    -- Space-separated names from the fixed catalogue, sorted.
    permissions TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (account_id, name_key)
);

-- One tree per account. parent_key is parent_id, or '' at the top, so that
-- sibling names are unique at the top level too (NULLs never collide).
CREATE TABLE folders (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    parent_id  TEXT REFERENCES folders (id),
    parent_key TEXT NOT NULL,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, parent_key, name_key)
);

CREATE TABLE user_groups (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, name_key)
);

-- Account-wide roles of a group, held by each of its members.
CREATE TABLE user_group_roles (
    group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL,
    PRIMARY KEY (group_id, role_id)
) WITHOUT ROWID;
CREATE INDEX user_group_roles_by_role ON user_group_roles (role_id);

CREATE TABLE user_group_members (
    group_id   TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX user_group_members_by_user ON user_group_members (account_id, user_id);

-- A role on a folder and everything under it, to one user or one group.
CREATE TABLE folder_grants (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    folder_id  TEXT NOT NULL REFERENCES folders (id),
    user_id    TEXT REFERENCES users (id),
    group_id   TEXT REFERENCES user_groups (id),
    role_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX folder_grants_once ON folder_grants (folder_id, COALESCE(user_id, ''), COALESCE(group_id, ''), role_id);
CREATE INDEX folder_grants_by_account ON folder_grants (account_id, id);
CREATE INDEX folder_grants_by_user ON folder_grants (account_id, user_id);
CREATE INDEX folder_grants_by_group ON folder_grants (group_id);
CREATE INDEX folder_grants_by_role ON folder_grants (account_id, role_id);

-- Platform services (video, signage) ask checks with these tokens, and can
-- do nothing else. Only the SHA-256 of the secret is kept.
CREATE TABLE check_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- +goose Down
DROP TABLE check_tokens;
DROP TABLE folder_grants;
DROP TABLE user_group_members;
DROP TABLE user_group_roles;
DROP TABLE user_groups;
DROP TABLE folders;
DROP TABLE roles;
ALTER TABLE accounts DROP COLUMN authz_version;
