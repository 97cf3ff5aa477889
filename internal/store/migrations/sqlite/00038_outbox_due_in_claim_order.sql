-- +goose Up
-- The senders claim the messages due in (next_attempt_at, id) order; with
-- the id in the index, the index gives that order itself.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);

-- +goose Down
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
