-- +goose Up
-- Substring search of account names (SPEC R-T4). Each account has one row
-- per distinct trigram of its name_key; a search reads the posting list of
-- the query's rarest trigram, already in name order, and checks the whole
-- query against name_key in the index itself, so it stops after one page.
-- See docs/decisions.md.
CREATE TABLE account_name_grams (
    gram       TEXT COLLATE "C" NOT NULL,
    name_key   TEXT COLLATE "C" NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (gram, name_key, account_id)
);

-- +goose Down
DROP TABLE account_name_grams;
