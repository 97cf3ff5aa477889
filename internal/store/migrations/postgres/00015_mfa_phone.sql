-- +goose Up
-- The number SMS codes go to is the one a code proved: changing
-- the profile's phone does not move the codes; choosing SMS again with the
-- new number, and typing back the code sent there, does.
ALTER TABLE users ADD COLUMN mfa_phone TEXT NOT NULL DEFAULT '';
UPDATE users SET mfa_phone = phone WHERE mfa_method = 'sms';

-- +goose Down
ALTER TABLE users DROP COLUMN mfa_phone;
