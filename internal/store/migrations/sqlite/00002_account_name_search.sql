-- +goose Up
-- Substring search of account names (SPEC R-T4) through a trigram index, so
-- that "?q=lyon" does not scan every account. The index holds name_key (the
-- lower-cased name) and is kept in step by triggers; queries still check
-- name_key LIKE, so the index only has to find a superset.
CREATE VIRTUAL TABLE account_name_search USING fts5(
    name_key, content = 'accounts', content_rowid = 'seq', tokenize = 'trigram'
);
INSERT INTO account_name_search (rowid, name_key) SELECT seq, name_key FROM accounts;

-- +goose StatementBegin
CREATE TRIGGER account_name_search_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO account_name_search (rowid, name_key) VALUES (new.seq, new.name_key);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER account_name_search_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO account_name_search (account_name_search, rowid, name_key) VALUES ('delete', old.seq, old.name_key);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER account_name_search_update AFTER UPDATE OF name_key ON accounts BEGIN
    INSERT INTO account_name_search (account_name_search, rowid, name_key) VALUES ('delete', old.seq, old.name_key);
    INSERT INTO account_name_search (rowid, name_key) VALUES (new.seq, new.name_key);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER account_name_search_update;
DROP TRIGGER account_name_search_delete;
DROP TRIGGER account_name_search_insert;
DROP TABLE account_name_search;
