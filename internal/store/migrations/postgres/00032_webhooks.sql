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
    previous_secret_until  BIGINT,
    created_by             TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    disabled_at            BIGINT,
    failing_since          BIGINT
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
    latency_ms       BIGINT NOT NULL DEFAULT 0,
    response_excerpt TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    at               BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, id);

-- The outbox carries webhook deliveries too: recipient is then the
-- subscription's id (its address and secret are read at each attempt),
-- subject the webhook-id, body the event in JSON, kept after delivery so
-- that it can be sent again.
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'sms', 'backchannel_logout', 'webhook'));
-- A subscription's messages go one at a time, in order: the claim skips a
-- message while an older one of its subscription waits.
CREATE INDEX outbox_webhook_lanes ON outbox (recipient, id) WHERE channel = 'webhook' AND status = 'queued';

-- +goose Down
DROP INDEX outbox_webhook_lanes;
DELETE FROM outbox WHERE channel = 'webhook';
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'sms', 'backchannel_logout'));
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
