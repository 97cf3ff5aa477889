-- +goose Up
-- Signing out of the platform's applications (docs/openid-provider.md). A
-- client may register where Gatehouse tells it that a person's sign-in to
-- it ended (back-channel logout: a signed logout token, POSTed by the
-- outbox worker), and where the browser may return after signing out at
-- /oauth2/end_session (one address a line, matched exactly).
ALTER TABLE oidc_clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';

-- The outbox carries back-channel logouts too: recipient is then the
-- application's back-channel logout URI, body the client and the person.
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'sms', 'backchannel_logout'));

-- The hourly purge deletes the tokens that are over by their expiry.
CREATE INDEX oidc_tokens_by_expiry ON oidc_tokens (expires_at);

-- +goose Down
DROP INDEX oidc_tokens_by_expiry;
DELETE FROM outbox WHERE channel = 'backchannel_logout';
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'sms'));
ALTER TABLE oidc_clients DROP COLUMN post_logout_redirect_uris;
ALTER TABLE oidc_clients DROP COLUMN backchannel_logout_uri;
