-- +goose Up
-- Webhooks (docs/events.md#webhooks): an account's administrators subscribe
-- an https endpoint to event types; each event is queued in the outbox, in
-- the change's own transaction, for every live subscription of its account
-- and of that account's integrator.
-- event_types: the patterns, space-separated ("member.*", "*", a type).
-- secret_sealed: the signing secret, sealed (internal/secretbox). After a
-- rotation the previous one keeps signing too, until previous_secret_until.
-- failing_since: the first failed attempt of the current run of failures;
-- a subscription failing for 24 hours is disabled (disabled_at).
CREATE TABLE webhook_subscriptions (
    id                     TEXT PRIMARY KEY,
    account_id             TEXT NOT NULL REFERENCES accounts (id),
    url                    TEXT NOT NULL,
    event_types            TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    secret_sealed          TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_until  INTEGER,
    created_by             TEXT NOT NULL,
    created_at             INTEGER NOT NULL,
    disabled_at            INTEGER,
    failing_since          INTEGER
);
-- Every event looks its account's subscriptions up, in its transaction.
CREATE INDEX webhook_subscriptions_by_account ON webhook_subscriptions (account_id);

-- One row per attempt to deliver a message to a subscription.
-- message_id: the outbox message (a replay is a new one); event_id: the
-- webhook-id sent, the same at every attempt and replay.
-- status: delivered (2xx), pending (failed, to be retried), failed (given up).
-- response_excerpt: at most 512 bytes of the answer.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('delivered', 'pending', 'failed')),
    response_code    INTEGER NOT NULL DEFAULT 0,
    latency_ms       INTEGER NOT NULL DEFAULT 0,
    response_excerpt TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    at               INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, id);

-- The outbox carries webhook deliveries too: recipient is then the
-- subscription's id (its address and secret are read at each attempt),
-- subject the webhook-id, body the event in JSON, kept after delivery so
-- that it can be sent again. SQLite cannot change a CHECK constraint in
-- place: the table is rebuilt.
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
    channel         TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms', 'backchannel_logout', 'webhook'))
);
INSERT INTO outbox_new (id, message_id, recipient, subject, body, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, sent_at, channel)
    SELECT id, message_id, recipient, subject, body, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, sent_at, channel FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
-- A subscription's messages go one at a time, in order: the claim skips a
-- message while an older one of its subscription waits.
CREATE INDEX outbox_webhook_lanes ON outbox (recipient, id) WHERE channel = 'webhook' AND status = 'queued';

-- +goose Down
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
    channel         TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms', 'backchannel_logout'))
);
INSERT INTO outbox_old (id, message_id, recipient, subject, body, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, sent_at, channel)
    SELECT id, message_id, recipient, subject, body, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, sent_at, channel FROM outbox WHERE channel <> 'webhook';
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
