-- +goose Up
-- Signing out of the platform's applications (docs/openid-provider.md). A
-- client may register where Gatehouse tells it that a person's sign-in to
-- it ended (back-channel logout: a signed logout token, POSTed by the
-- outbox worker), and where the browser may return after signing out at
-- /oauth2/end_session (one address a line, matched exactly).
ALTER TABLE oidc_clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';

-- The outbox carries back-channel logouts too: recipient is then the
-- application's back-channel logout URI, body the client and the person.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE outbox_new (
    id              TEXT PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_by      TEXT NOT NULL DEFAULT '',
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    channel         TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms', 'backchannel_logout'))
);
INSERT INTO outbox_new (id, message_id, recipient, subject, body, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, sent_at, channel)
    SELECT id, message_id, recipient, subject, body, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, sent_at, channel FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- The hourly purge deletes the tokens that are over by their expiry.
CREATE INDEX oidc_tokens_by_expiry ON oidc_tokens (expires_at);

-- +goose Down
DROP INDEX oidc_tokens_by_expiry;
CREATE TABLE outbox_old (
    id              TEXT PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_by      TEXT NOT NULL DEFAULT '',
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    channel         TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms'))
);
INSERT INTO outbox_old (id, message_id, recipient, subject, body, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, sent_at, channel)
    SELECT id, message_id, recipient, subject, body, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, sent_at, channel FROM outbox WHERE channel <> 'backchannel_logout';
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
ALTER TABLE oidc_clients DROP COLUMN post_logout_redirect_uris;
ALTER TABLE oidc_clients DROP COLUMN backchannel_logout_uri;
