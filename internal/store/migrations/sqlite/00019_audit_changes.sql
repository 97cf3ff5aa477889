-- +goose Up
-- The before and after of each field a change moved, as a JSON array of
-- {"field","before","after"}; NULL for events that changed no field and for
-- every event written before this, whose values were not kept.
ALTER TABLE audit_events ADD COLUMN changes TEXT;

-- +goose Down
ALTER TABLE audit_events DROP COLUMN changes;
