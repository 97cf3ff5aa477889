-- +goose Up
-- Access that ends by itself: a membership or a folder grant may carry the
-- instant it ends, in Unix microseconds like every time here; NULL for
-- access without an end, as for every row written before this. From that
-- instant the membership or grant counts for nothing (the checks and the API
-- compare it with their clock), and a sweeper removes it soon after; the
-- partial indexes let the sweeper find the few rows that end.
ALTER TABLE memberships ADD COLUMN expires_at BIGINT;
ALTER TABLE folder_grants ADD COLUMN expires_at BIGINT;
CREATE INDEX memberships_by_expiry ON memberships (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX folder_grants_by_expiry ON folder_grants (expires_at) WHERE expires_at IS NOT NULL;

-- +goose Down
DROP INDEX folder_grants_by_expiry;
DROP INDEX memberships_by_expiry;
ALTER TABLE folder_grants DROP COLUMN expires_at;
ALTER TABLE memberships DROP COLUMN expires_at;
