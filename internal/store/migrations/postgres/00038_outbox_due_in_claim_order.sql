-- +goose Up
-- The senders claim the messages due in (next_attempt_at, id) order. With
-- the id in the index, the index gives that order itself and a claim reads
-- the hundred it takes; without it, a planner that underestimated the queue
-- (a table that filled faster than its statistics, as during a large bulk
-- invitation) read and sorted every queued message, texts included, on
-- every claim.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id);

-- +goose Down
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
