package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

const passkeyColumns = `id, user_id, credential_id, name, public_key, attestation_type, attestation_format, transports, aaguid,
	sign_count, user_verified, backup_eligible, backup_state, created_at, last_used_at`

func scanPasskey(row scanner) (gatehouse.Passkey, error) {
	var (
		p          gatehouse.Passkey
		transports string
		signCount  int64
		createdAt  int64
		lastUsedAt sql.NullInt64
	)
	err := row.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.Name, &p.PublicKey, &p.AttestationType, &p.AttestationFormat, &transports,
		&p.AAGUID, &signCount, &p.UserVerified, &p.BackupEligible, &p.BackupState, &createdAt, &lastUsedAt)
	p.Transports, p.SignCount = strings.Fields(transports), uint32(signCount)
	p.CreatedAt, p.LastUsedAt = fromMicros(createdAt), fromNullMicros(lastUsedAt)
	return p, err
}

// PasskeysOf lists an identity's passkeys, oldest first.
func (r reader) PasskeysOf(ctx context.Context, userID string) ([]gatehouse.Passkey, error) {
	out := []gatehouse.Passkey{}
	err := r.each(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = $1 ORDER BY id`, []any{userID},
		func(rows *sql.Rows) error {
			p, err := scanPasskey(rows)
			out = append(out, p)
			return err
		})
	return out, err
}

// PasskeyByCredentialID finds a passkey by the id its authenticator gave it,
// or ENOTFOUND.
func (r reader) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (gatehouse.Passkey, error) {
	p, err := scanPasskey(r.q.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = $1`, credentialID))
	if err == sql.ErrNoRows {
		return p, gatehouse.NotFound("passkey")
	}
	return p, mapErr(err)
}

func (t *tx) InsertPasskey(ctx context.Context, p gatehouse.Passkey) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO passkeys (`+passkeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		p.ID, p.UserID, p.CredentialID, p.Name, p.PublicKey, p.AttestationType, p.AttestationFormat, strings.Join(p.Transports, " "),
		p.AAGUID, int64(p.SignCount), p.UserVerified, p.BackupEligible, p.BackupState, micros(p.CreatedAt), nullMicros(p.LastUsedAt))
	return mapErr(err)
}

// DeletePasskey removes one passkey of the identity, or ENOTFOUND.
func (t *tx) DeletePasskey(ctx context.Context, userID, id string) error {
	return t.guarded(ctx, "passkey", `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, id, userID)
}

// DeletePasskeysOf removes every passkey of an identity (its second factor
// reset).
func (t *tx) DeletePasskeysOf(ctx context.Context, userID string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM passkeys WHERE user_id = $1`, userID)
	return mapErr(err)
}

// UsePasskey records a use of a passkey with the authenticator's counter
// and backup state. The rule is in the WHERE, so two nodes checking the
// same counter cannot both accept it: the counter must move forward, or
// stay 0 for an authenticator that keeps none. ENOTFOUND otherwise.
func (t *tx) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, now time.Time) error {
	return t.guarded(ctx, "passkey", `UPDATE passkeys SET sign_count = $2, backup_state = $3, last_used_at = $4
		WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`, id, int64(signCount), backupState, micros(now))
}

const ceremonyColumns = `id, token_hash, purpose, user_id, challenge_id, invitation_hash, session_data, expires_at, used_at`

// UsePasskeyCeremony uses up the live, unused ceremony of this purpose
// with this hash, in one statement, and returns it: ENOTFOUND when there is
// none, so one challenge is answered once even when two nodes race.
func (t *tx) UsePasskeyCeremony(ctx context.Context, hash []byte, purpose string, now time.Time) (gatehouse.PasskeyCeremony, error) {
	var (
		c                   gatehouse.PasskeyCeremony
		userID, challengeID sql.NullString
		expiresAt           int64
		usedAt              sql.NullInt64
	)
	err := t.q.QueryRowContext(ctx, `UPDATE passkey_ceremonies SET used_at = $3
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
		RETURNING `+ceremonyColumns, hash, purpose, micros(now)).
		Scan(&c.ID, &c.Hash, &c.Purpose, &userID, &challengeID, &c.InvitationHash, &c.SessionData, &expiresAt, &usedAt)
	if err == sql.ErrNoRows {
		return c, gatehouse.NotFound("ceremony")
	}
	c.UserID, c.ChallengeID, c.ExpiresAt, c.UsedAt = userID.String, challengeID.String, fromMicros(expiresAt), fromNullMicros(usedAt)
	return c, mapErr(err)
}

func (t *tx) InsertPasskeyCeremony(ctx context.Context, c gatehouse.PasskeyCeremony) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO passkey_ceremonies (`+ceremonyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.Hash, c.Purpose, nullString(c.UserID), nullString(c.ChallengeID), c.InvitationHash, c.SessionData, micros(c.ExpiresAt), nullMicros(c.UsedAt))
	return mapErr(err)
}
