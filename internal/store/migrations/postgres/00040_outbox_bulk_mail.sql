-- +goose Up
-- The e-mails of a bulk invitation are marked, so that while a node writes
-- a bulk its senders deliver the other messages (a sign-in code, a
-- password reset, a single invitation) without waiting behind the bulk's,
-- and leave the bulk's to after it. The senders find the others through
-- their own index, which holds only queued messages that are not a bulk's.
-- A lease still changes no indexed column, so it stays on its page.
ALTER TABLE outbox ADD COLUMN bulk boolean NOT NULL DEFAULT false;
CREATE INDEX outbox_due_beside_bulk ON outbox (next_attempt_at, id) WHERE status = 'queued' AND NOT bulk;

-- +goose Down
DROP INDEX outbox_due_beside_bulk;
ALTER TABLE outbox DROP COLUMN bulk;
