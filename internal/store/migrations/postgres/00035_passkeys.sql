-- +goose Up
-- Passkeys (WebAuthn credentials). A person has any number; each is named,
-- keeps its public key (COSE), the authenticator's model (AAGUID), the
-- signature counter (which must move forward at each use; 0 when the
-- authenticator keeps none) and its backup flags (eligibility never changes).
CREATE TABLE passkeys (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id),
    credential_id      BYTEA NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    public_key         BYTEA NOT NULL,
    attestation_type   TEXT NOT NULL DEFAULT '',
    attestation_format TEXT NOT NULL DEFAULT '',
    transports         TEXT NOT NULL DEFAULT '',
    aaguid             BYTEA,
    sign_count         BIGINT NOT NULL DEFAULT 0,
    user_verified      BOOLEAN NOT NULL DEFAULT false,
    backup_eligible    BOOLEAN NOT NULL DEFAULT false,
    backup_state       BOOLEAN NOT NULL DEFAULT false,
    created_at         BIGINT NOT NULL,
    last_used_at       BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- A ceremony in progress: the challenge and what the library must see again
-- at the answer, kept server-side so any node can finish it; found by the
-- hash of the secret given to the browser, used once, five minutes.
-- purpose: register (signed in), sign_in (passwordless), second_factor (after
-- a password; challenge_id is the sign-in's challenge) or activate (an
-- invitation; invitation_hash is the link's).
CREATE TABLE passkey_ceremonies (
    id              TEXT PRIMARY KEY,
    token_hash      BYTEA NOT NULL UNIQUE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('register', 'sign_in', 'second_factor', 'activate')),
    user_id         TEXT REFERENCES users (id),
    challenge_id    TEXT,
    invitation_hash BYTEA,
    session_data    TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies (expires_at);

-- How a session was opened, when a passkey took part: the methods the
-- OpenID Provider reports (amr), space-separated; '' for the others, whose
-- methods follow from second_factor.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';

-- Second-factor challenges may now ask for a passkey: the table is made
-- again (challenges live five minutes), as when SMS came.
DROP TABLE mfa_challenges;
CREATE TABLE mfa_challenges (
    id           TEXT PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL CHECK (kind IN ('verify', 'enroll')),
    method       TEXT NOT NULL CHECK (method IN ('totp', 'sms', 'passkey')),
    totp_secret  TEXT NOT NULL DEFAULT '',
    code_hash    BYTEA,
    phone        TEXT NOT NULL DEFAULT '',
    sends        BIGINT NOT NULL DEFAULT 0,
    last_sent_at BIGINT,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);

-- +goose Down
DROP TABLE mfa_challenges;
CREATE TABLE mfa_challenges (
    id           TEXT PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL CHECK (kind IN ('verify', 'enroll')),
    method       TEXT NOT NULL CHECK (method IN ('totp', 'sms')),
    totp_secret  TEXT NOT NULL DEFAULT '',
    code_hash    BYTEA,
    phone        TEXT NOT NULL DEFAULT '',
    sends        BIGINT NOT NULL DEFAULT 0,
    last_sent_at BIGINT,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);
ALTER TABLE sessions DROP COLUMN amr;
DROP TABLE passkey_ceremonies;
DROP TABLE passkeys;
