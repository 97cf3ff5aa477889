-- +goose Up
-- Events (docs/events.md): the audit events other services act on, read in
-- commit order by the feed and fanned out to webhooks.
-- user_id: the person a change concerns (a membership's member).
-- event_type: the public type, NULL for audit events that are no event.
-- tx: the writing transaction; the feed reads (tx, seq) in order, up to the
-- oldest transaction still running, so that a transaction committing late
-- is never passed over.
ALTER TABLE audit_events ADD COLUMN user_id TEXT;
ALTER TABLE audit_events ADD COLUMN event_type TEXT;
ALTER TABLE audit_events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE audit_events ADD COLUMN seq BIGSERIAL;
CREATE INDEX audit_events_feed ON audit_events (tx, seq) WHERE event_type IS NOT NULL;

-- +goose Down
DROP INDEX audit_events_feed;
ALTER TABLE audit_events DROP COLUMN seq;
ALTER TABLE audit_events DROP COLUMN tx;
ALTER TABLE audit_events DROP COLUMN event_type;
ALTER TABLE audit_events DROP COLUMN user_id;
