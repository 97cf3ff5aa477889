-- +goose Up
-- Device sign-in (RFC 8628): a device client (a signage player, a
-- monitoring station) has no redirect URI; it asks for a device code and a
-- short user code, which a person types at /device to approve or deny it.
ALTER TABLE oidc_clients ADD COLUMN device INTEGER NOT NULL DEFAULT 0;

-- One row per device authorization: the device code is kept as its
-- SHA-256, the user code as shown (unique while it lives). state is
-- pending, approved or denied; used_at is set when the device got its
-- tokens, so that a device code gives tokens once.
CREATE TABLE oidc_device_codes (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES oidc_clients (id),
    device_code_hash BLOB NOT NULL UNIQUE,
    user_code        TEXT NOT NULL UNIQUE,
    scopes           TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'denied')),
    user_id          TEXT REFERENCES users (id),
    amr              TEXT NOT NULL DEFAULT '',
    auth_time        INTEGER,
    used_at          INTEGER,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
);
CREATE INDEX oidc_device_codes_by_expiry ON oidc_device_codes (expires_at);

-- Wrong user codes typed at /device, by person and by source address,
-- counted over the last minutes to refuse guessing.
CREATE TABLE oidc_device_code_failures (
    subject TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX oidc_device_code_failures_by_subject ON oidc_device_code_failures (subject, at);

-- +goose Down
DROP TABLE oidc_device_code_failures;
DROP TABLE oidc_device_codes;
ALTER TABLE oidc_clients DROP COLUMN device;
