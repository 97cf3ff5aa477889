-- +goose Up
-- A person's live tokens are revoked together when their password changes,
-- their second factor is reset, their sessions are ended or they leave an
-- account: the partial index finds them without reading the revoked ones.
CREATE INDEX oidc_tokens_live_by_user ON oidc_tokens (user_id) WHERE revoked_at IS NULL;

-- +goose Down
DROP INDEX oidc_tokens_live_by_user;
