-- +goose Up
-- The client's privacy (R-PV1…R-PV3). time_zone is the IANA name of the site's
-- time zone, where its pages show times and the service provider's access
-- ends by default. provider_access_until is when the service provider's
-- access to the client's cameras and media ends; NULL while it is closed,
-- as every account starts.
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE accounts ADD COLUMN provider_access_until BIGINT;

-- The integrator's staff asking a client for that access, and the client's
-- answer: approved until a time, or refused. One request per account waits
-- at a time.
CREATE TABLE provider_access_requests (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    requested_by TEXT NOT NULL REFERENCES users (id),
    reason       TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    created_at   BIGINT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT,
    access_until BIGINT
);
CREATE INDEX provider_access_requests_by_account ON provider_access_requests (account_id, id);
CREATE UNIQUE INDEX provider_access_requests_one_pending ON provider_access_requests (account_id) WHERE status = 'pending';

-- +goose Down
DROP TABLE provider_access_requests;
ALTER TABLE accounts DROP COLUMN provider_access_until;
ALTER TABLE accounts DROP COLUMN time_zone;
