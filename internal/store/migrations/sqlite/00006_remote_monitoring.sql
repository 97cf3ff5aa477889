-- +goose Up
-- Remote monitoring users: a service identity per client account
-- whose password Gatehouse generates and must show again, so it is kept
-- sealed with the server key beside its hash. At most one per account.
ALTER TABLE users ADD COLUMN password_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN description TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX one_remote_monitoring_user ON memberships (account_id) WHERE level = 'remote_monitoring';

-- +goose Down
DROP INDEX one_remote_monitoring_user;
ALTER TABLE memberships DROP COLUMN description;
ALTER TABLE users DROP COLUMN password_sealed;
