-- +goose Up
-- Profile photos (SPEC R-U7): the 256×256 JPEG thumbnail made on upload,
-- nothing of the uploaded file.
CREATE TABLE user_photos (
    user_id    TEXT PRIMARY KEY REFERENCES users (id),
    image      BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE user_photos;
