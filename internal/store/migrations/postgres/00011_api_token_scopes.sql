-- +goose Up
-- Personal API tokens: the actions a token may take (space-
-- separated; '' for the tokens made before scopes, which act with all of
-- their owner's rights in their account) and when it was last used.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
CREATE INDEX api_tokens_by_owner ON api_tokens (user_id, account_id, id);

-- +goose Down
DROP INDEX api_tokens_by_owner;
ALTER TABLE api_tokens DROP COLUMN last_used_at;
ALTER TABLE api_tokens DROP COLUMN scopes;
