-- +goose Up
-- Brute-force protection (SPEC R-S3): failed sign-ins counted per username
-- (in a row, until a success) and per source address (per minute window),
-- in the database so that every node sees the same counts. A subject past
-- its limit is locked until locked_until.
CREATE TABLE signin_limits (
    subject      TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE signin_limits;
