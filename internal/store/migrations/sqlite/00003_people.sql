-- +goose Up
-- People: identities get a password and a phone, memberships their
-- notification choices and roles, and invitations their single-use links.
ALTER TABLE users ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN activated_at INTEGER;

ALTER TABLE memberships ADD COLUMN home_folder_id TEXT;
ALTER TABLE memberships ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN notify_email INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN notify_sms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN added_by TEXT NOT NULL DEFAULT '';
CREATE INDEX memberships_by_account ON memberships (account_id, id);

CREATE TABLE membership_roles (
    membership_id TEXT NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    PRIMARY KEY (membership_id, role)
) WITHOUT ROWID;

-- One row per link sent. Only the SHA-256 of the link's secret is kept.
CREATE TABLE invitations (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    membership_id TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    email         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled')),
    token_hash    BLOB NOT NULL UNIQUE,
    invited_by    TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ended_at      INTEGER
);
CREATE INDEX invitations_by_account ON invitations (account_id, status, id);
CREATE INDEX invitations_by_user ON invitations (user_id, status);
CREATE INDEX invitations_by_membership ON invitations (membership_id);

-- +goose Down
DROP TABLE invitations;
DROP TABLE membership_roles;
DROP INDEX memberships_by_account;
ALTER TABLE memberships DROP COLUMN added_by;
ALTER TABLE memberships DROP COLUMN notify_sms;
ALTER TABLE memberships DROP COLUMN notify_email;
ALTER TABLE memberships DROP COLUMN notify;
ALTER TABLE memberships DROP COLUMN home_folder_id;
ALTER TABLE users DROP COLUMN activated_at;
ALTER TABLE users DROP COLUMN phone;
ALTER TABLE users DROP COLUMN password_hash;
