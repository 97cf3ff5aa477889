-- +goose Up
-- An e-mail's HTML part is drawn when it is sent; the outbox keeps what it
-- is drawn from (an HTML part queued whole before this is sent as it is).
ALTER TABLE outbox RENAME COLUMN html_body TO html_layout;

-- +goose Down
ALTER TABLE outbox RENAME COLUMN html_layout TO html_body;
