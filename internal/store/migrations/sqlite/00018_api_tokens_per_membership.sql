-- +goose Up
-- A personal API token belongs to one membership and dies with it: removing
-- the member sets membership_id to NULL for good, and a token without one
-- authenticates nothing, so adding the same person again revives no token.
ALTER TABLE api_tokens ADD COLUMN membership_id TEXT REFERENCES memberships (id) ON DELETE SET NULL;
-- Tokens made before this: bound to their owner's membership of the account
-- when it is older than the token; a token older than the membership it
-- would now reach was made through a membership that was removed since.
UPDATE api_tokens SET membership_id = (
    SELECT m.id FROM memberships m
    WHERE m.account_id = api_tokens.account_id AND m.user_id = api_tokens.user_id AND m.created_at <= api_tokens.created_at);
CREATE INDEX api_tokens_by_membership ON api_tokens (membership_id);

-- +goose Down
-- SQLite cannot drop a column that a foreign key names: the column stays,
-- and the code before this migration never reads it.
DROP INDEX api_tokens_by_membership;
