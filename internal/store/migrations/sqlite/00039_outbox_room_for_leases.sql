-- +goose Up
-- PostgreSQL leaves room in the outbox's pages for the senders' leases;
-- SQLite rewrites a page whatever it holds, so there is nothing to do here,
-- and the version stays the same on both databases.
SELECT 1;

-- +goose Down
SELECT 1;
