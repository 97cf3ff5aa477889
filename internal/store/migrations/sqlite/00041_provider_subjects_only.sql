-- +goose Up
-- Only the people who sign in through an identity provider have a subject
-- there. The unique index on (provider, subject) also held an entry for
-- every local identity, both columns NULL: an index entry and a page of the
-- log more for every person added, for no lookup (every query by subject
-- names its provider). NULLs never conflicted, so leaving them out keeps the
-- rule as it was.
DROP INDEX users_by_provider_subject;
CREATE UNIQUE INDEX users_by_provider_subject ON users (identity_provider_id, provider_subject) WHERE identity_provider_id IS NOT NULL;

-- +goose Down
DROP INDEX users_by_provider_subject;
CREATE UNIQUE INDEX users_by_provider_subject ON users (identity_provider_id, provider_subject);
