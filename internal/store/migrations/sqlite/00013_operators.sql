-- +goose Up
-- Operators as people: an identity with operator set acts as an
-- operator when signed in with a session, so support staff use the portal
-- under their own names, with a second factor, and the audit log names
-- them. The bootstrap token stays for automation and the first operator.
ALTER TABLE users ADD COLUMN operator INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN operator;
