-- +goose Up
-- Brands: how an integrator's clients see the platform (docs/branding.md).
-- owner_id is the integrator account's id, or '' for the platform's
-- default brand. An empty text is inherited from the default. host is the
-- host name the portal answers on with the brand, unique across brands.
CREATE TABLE brands (
    owner_id       TEXT PRIMARY KEY,
    product_name   TEXT NOT NULL DEFAULT '',
    primary_colour TEXT NOT NULL DEFAULT '',
    accent_colour  TEXT NOT NULL DEFAULT '',
    support_email  TEXT NOT NULL DEFAULT '',
    support_phone  TEXT NOT NULL DEFAULT '',
    sender_name    TEXT NOT NULL DEFAULT '',
    sender_address TEXT NOT NULL DEFAULT '',
    host           TEXT,
    logo_file      TEXT NOT NULL DEFAULT '',
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX brands_by_host ON brands (host);

-- A brand's subject and opening paragraph of one kind of e-mail in one
-- language, plain text with placeholders.
CREATE TABLE brand_messages (
    owner_id TEXT NOT NULL REFERENCES brands (owner_id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    language TEXT NOT NULL,
    subject  TEXT NOT NULL DEFAULT '',
    intro    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (owner_id, kind, language)
);

-- Logos by the SHA-256 of their bytes: an address never changes what it
-- serves, so pages and mail readers cache it for good.
CREATE TABLE brand_logos (
    file         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    data         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);

-- Mail wears its brand: an HTML part beside the text, and the brand's sender.
ALTER TABLE outbox ADD COLUMN html_body TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN from_name TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN from_address TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN from_address;
ALTER TABLE outbox DROP COLUMN from_name;
ALTER TABLE outbox DROP COLUMN html_body;
DROP TABLE brand_logos;
DROP TABLE brand_messages;
DROP TABLE brands;
