-- +goose Up
-- Bulk invitations (SPEC R-B1…R-B4). A preview keeps every line of
-- the uploaded file with its outcome; a confirm applies the lines to invite
-- in chunks, each chunk committed with next_line, the position reached, so a
-- job that stops (a crash, a restart) resumes after the last chunk and
-- invites nobody twice. claimed_by/claimed_until lease the job to one node.
CREATE TABLE bulk_previews (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    created_by    TEXT NOT NULL,
    level         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('building', 'previewed', 'confirming', 'done')),
    rows_total    BIGINT NOT NULL DEFAULT 0,
    to_invite     BIGINT NOT NULL DEFAULT 0,
    totals        TEXT NOT NULL DEFAULT '',
    next_line     BIGINT NOT NULL DEFAULT 0,
    processed     BIGINT NOT NULL DEFAULT 0,
    invited       BIGINT NOT NULL DEFAULT 0,
    failed        BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    claimed_by    TEXT NOT NULL DEFAULT '',
    claimed_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX bulk_previews_by_status ON bulk_previews (status, claimed_until);

CREATE TABLE bulk_rows (
    preview_id  TEXT NOT NULL REFERENCES bulk_previews (id) ON DELETE CASCADE,
    line        BIGINT NOT NULL,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    home_folder TEXT NOT NULL,
    role_id     TEXT NOT NULL,
    folder_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    message     TEXT NOT NULL,
    -- What the confirm did with the line: invited, registered (an active
    -- identity, told by mail), or skipped when the account changed under
    -- the job; '' before.
    result      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (preview_id, line)
);

-- +goose Down
DROP TABLE bulk_rows;
DROP TABLE bulk_previews;
