-- +goose Up
-- A bulk invitation file may give each line's first and last name, for the
-- identity a confirm creates (an existing identity keeps its own); '' when
-- the file gives none, as for every line stored before this.
ALTER TABLE bulk_rows ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE bulk_rows ADD COLUMN last_name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE bulk_rows DROP COLUMN last_name;
ALTER TABLE bulk_rows DROP COLUMN first_name;
