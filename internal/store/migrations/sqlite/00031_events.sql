-- +goose Up
-- Events (docs/events.md): the audit events other services act on, read in
-- commit order by the feed and fanned out to webhooks.
-- user_id: the person a change concerns (a membership's member).
-- event_type: the public type, NULL for audit events that are no event.
-- seq: the event's place in commit order. SQLite has one writer at a time,
-- so the order of writing is the order of commits; the counter row never
-- goes back, even when old events are purged.
ALTER TABLE audit_events ADD COLUMN user_id TEXT;
ALTER TABLE audit_events ADD COLUMN event_type TEXT;
ALTER TABLE audit_events ADD COLUMN seq INTEGER;
CREATE UNIQUE INDEX audit_events_feed ON audit_events (seq) WHERE event_type IS NOT NULL;
CREATE TABLE event_sequence (n INTEGER NOT NULL);
INSERT INTO event_sequence (n) VALUES (0);

-- +goose Down
DROP TABLE event_sequence;
DROP INDEX audit_events_feed;
ALTER TABLE audit_events DROP COLUMN seq;
ALTER TABLE audit_events DROP COLUMN event_type;
ALTER TABLE audit_events DROP COLUMN user_id;
