package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SealedKind names one column of secrets sealed with the server key
// (internal/secretbox). `gatehouse keys reseal` walks every kind to move
// them to a new key; a column added to hold a sealed secret belongs here.
type SealedKind string

const (
	SealedTOTP                  SealedKind = "totp"                    // users: authenticator keys
	SealedChallengeTOTP         SealedKind = "challenge_totp"          // sign-in challenges: a key being enrolled
	SealedRemoteMonitoring      SealedKind = "remote_monitoring"       // users: remote monitoring passwords
	SealedProviderSecret        SealedKind = "identity_provider"       // identity providers' client secrets
	SealedLoginVerifier         SealedKind = "oidc_login_verifier"     // trips to a provider: the PKCE verifier
	SealedLoginNonce            SealedKind = "oidc_login_nonce"        // trips to a provider: the nonce
	SealedWebhookSecret         SealedKind = "webhook_secret"          // webhook subscriptions' signing secrets
	SealedWebhookPreviousSecret SealedKind = "webhook_previous_secret" // the secret a rotation replaced
	SealedSigningKey            SealedKind = "oidc_signing_key"        // OpenID signing keys (ES256)
	SealedSigningKeyRSA         SealedKind = "oidc_signing_key_rsa"    // their RS256 twins
)

// sealedColumn is where a kind is kept. owner is the column whose value
// the seal's context names (a user, a provider, the row itself). A
// short-lived row (a challenge, a trip to a provider) counts only while it
// can still be used: one expired or used is never opened again, and may
// be older than the previous key.
type sealedColumn struct {
	table, column, owner string
	shortLived           bool
}

var sealedColumns = map[SealedKind]sealedColumn{
	SealedTOTP:                  {table: "users", column: "totp_secret", owner: "id"},
	SealedChallengeTOTP:         {table: "mfa_challenges", column: "totp_secret", owner: "user_id", shortLived: true},
	SealedRemoteMonitoring:      {table: "users", column: "password_sealed", owner: "id"},
	SealedProviderSecret:        {table: "identity_providers", column: "client_secret", owner: "id"},
	SealedLoginVerifier:         {table: "oidc_logins", column: "verifier", owner: "provider_id", shortLived: true},
	SealedLoginNonce:            {table: "oidc_logins", column: "nonce", owner: "provider_id", shortLived: true},
	SealedWebhookSecret:         {table: "webhook_subscriptions", column: "secret_sealed", owner: "id"},
	SealedWebhookPreviousSecret: {table: "webhook_subscriptions", column: "previous_secret_sealed", owner: "id"},
	SealedSigningKey:            {table: "oidc_signing_keys", column: "private_key", owner: "id"},
	SealedSigningKeyRSA:         {table: "oidc_signing_keys", column: "rsa_private_key", owner: "id"},
}

// SealedKinds are every kind, in the order reseal walks them.
func SealedKinds() []SealedKind {
	return []SealedKind{SealedTOTP, SealedChallengeTOTP, SealedRemoteMonitoring, SealedProviderSecret,
		SealedLoginVerifier, SealedLoginNonce, SealedWebhookSecret, SealedWebhookPreviousSecret,
		SealedSigningKey, SealedSigningKeyRSA}
}

// SealedValue is one sealed secret and where it is kept.
type SealedValue struct {
	Kind SealedKind
	// RowID is the id of the row that holds it.
	RowID string
	// Owner is the id its seal's context names (see SealedKind's owners).
	Owner  string
	Sealed string
}

// SealedValues lists up to limit values of kind, by row id after the row
// id after ("" for the first page); empty columns hold nothing and are left
// out, and so are short-lived rows expired or used by now.
func (r reader) SealedValues(ctx context.Context, kind SealedKind, after string, limit int, now time.Time) ([]SealedValue, error) {
	c, ok := sealedColumns[kind]
	if !ok {
		return nil, fmt.Errorf("store: no sealed secrets of kind %q", kind)
	}
	query := `SELECT id, ` + c.owner + `, ` + c.column + ` FROM ` + c.table + `
		WHERE id > $1 AND ` + c.column + ` IS NOT NULL AND ` + c.column + ` <> ''`
	args := []any{after, limit}
	if c.shortLived {
		query += ` AND used_at IS NULL AND expires_at > $3`
		args = append(args, micros(now))
	}
	query += ` ORDER BY id LIMIT $2`
	var out []SealedValue
	err := r.each(ctx, query, args, func(rows *sql.Rows) error {
		v := SealedValue{Kind: kind}
		err := rows.Scan(&v.RowID, &v.Owner, &v.Sealed)
		out = append(out, v)
		return err
	})
	return out, err
}

// ResealValue replaces v's sealed secret with resealed, if the row still
// holds what v read: false when it changed (or went) meanwhile, for a node
// that rotated a webhook's secret or enrolled a new authenticator has
// sealed the new one itself.
func (t *tx) ResealValue(ctx context.Context, v SealedValue, resealed string) (bool, error) {
	c, ok := sealedColumns[v.Kind]
	if !ok {
		return false, fmt.Errorf("store: no sealed secrets of kind %q", v.Kind)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE `+c.table+` SET `+c.column+` = $1 WHERE id = $2 AND `+c.column+` = $3`,
		resealed, v.RowID, v.Sealed)
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}
