-- +goose Up
-- An administrator may require a second factor of a user when adding them
-- (seed 003, "Multifactor Authentication"): such an identity enrolls one at
-- its next sign-in and cannot turn it off, as administrators (R-P4).
ALTER TABLE users ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN mfa_required;
