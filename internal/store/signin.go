package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// nullString stores "" as NULL (for columns whose uniqueness ignores NULLs).
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func (t *tx) ResendSMSCode(ctx context.Context, id string, codeHash []byte, now, notBefore time.Time, maxSends int) error {
	return t.guarded(ctx, "challenge", `UPDATE mfa_challenges SET code_hash = $2, sends = sends + 1, last_sent_at = $3
		WHERE id = $1 AND method = 'sms' AND used_at IS NULL AND sends < $5 AND last_sent_at <= $4`,
		id, codeHash, micros(now), micros(notBefore), maxSends)
}

func (t *tx) SetMFAMethod(ctx context.Context, userID, method, sealedTOTP, phone string) error {
	return t.guarded(ctx, "user", `UPDATE users SET mfa_method = $2, totp_secret = $3, mfa_phone = $4 WHERE id = $1`,
		userID, method, sealedTOTP, phone)
}

func (t *tx) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return mapErr(err)
	}
	rows := make([][]any, len(hashes))
	for i, h := range hashes {
		rows[i] = []any{userID, h}
	}
	return t.insertRows(ctx, "recovery_codes", []string{"user_id", "code_hash"}, "", rows)
}

func (t *tx) UseRecoveryCode(ctx context.Context, userID string, hash []byte, now time.Time) error {
	return t.guarded(ctx, "recovery code", `UPDATE recovery_codes SET used_at = $3
		WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, userID, hash, micros(now))
}

func (r reader) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID).Scan(&n)
	return n, mapErr(err)
}

const identityProviderColumns = `id, account_id, name, issuer, client_id, client_secret, created_by, created_at`

func scanIdentityProvider(row scanner) (gatehouse.IdentityProvider, error) {
	var (
		p         gatehouse.IdentityProvider
		accountID sql.NullString
		createdAt int64
	)
	err := row.Scan(&p.ID, &accountID, &p.Name, &p.Issuer, &p.ClientID, &p.ClientSecret, &p.CreatedBy, &createdAt)
	p.AccountID, p.CreatedAt = accountID.String, fromMicros(createdAt)
	return p, err
}

func (r reader) IdentityProvider(ctx context.Context, id string) (gatehouse.IdentityProvider, error) {
	p, err := scanIdentityProvider(r.q.QueryRowContext(ctx, `SELECT `+identityProviderColumns+` FROM identity_providers WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return p, gatehouse.NotFound("identity provider")
	}
	return p, mapErr(err)
}

func (r reader) IdentityProviders(ctx context.Context, owners []string) ([]gatehouse.IdentityProvider, error) {
	query := `SELECT ` + identityProviderColumns + ` FROM identity_providers`
	var args argList
	if owners != nil {
		var where []string
		var in []string
		for _, owner := range owners {
			if owner == "" {
				where = append(where, "account_id IS NULL")
			} else {
				in = append(in, r.mark(&args, owner))
			}
		}
		if len(in) > 0 {
			where = append(where, "account_id IN ("+strings.Join(in, ", ")+")")
		}
		if len(where) == 0 {
			return nil, nil
		}
		query += " WHERE " + strings.Join(where, " OR ")
	}
	var providers []gatehouse.IdentityProvider
	err := r.each(ctx, query+" ORDER BY id", args, func(rows *sql.Rows) error {
		p, err := scanIdentityProvider(rows)
		providers = append(providers, p)
		return err
	})
	return providers, err
}

func (r reader) IdentityProviderUsers(ctx context.Context, id string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE identity_provider_id = $1`, id).Scan(&n)
	return n, mapErr(err)
}

func (r reader) UserByProviderSubject(ctx context.Context, providerID, subject string) (gatehouse.User, error) {
	u, err := scanUser(r.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u
		WHERE u.identity_provider_id = $1 AND u.provider_subject = $2`, providerID, subject))
	if err == sql.ErrNoRows {
		return u, gatehouse.NotFound("user")
	}
	return u, mapErr(err)
}

func (t *tx) InsertIdentityProvider(ctx context.Context, p gatehouse.IdentityProvider) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO identity_providers (`+identityProviderColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.ID, nullString(p.AccountID), p.Name, p.Issuer, p.ClientID, p.ClientSecret, p.CreatedBy, micros(p.CreatedAt))
	return mapErr(err)
}

func (t *tx) DeleteIdentityProvider(ctx context.Context, id string) error {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM oidc_logins WHERE provider_id = $1`, id); err != nil {
		return mapErr(err)
	}
	return t.guarded(ctx, "identity provider", `DELETE FROM identity_providers WHERE id = $1`, id)
}

func (t *tx) InsertOIDCLogin(ctx context.Context, l gatehouse.OIDCLogin) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO oidc_logins (id, state_hash, provider_id, invitation_hash, verifier, nonce, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, l.ID, l.StateHash, l.ProviderID, l.InvitationHash, l.Verifier, l.Nonce, micros(l.ExpiresAt))
	return mapErr(err)
}

func (t *tx) UseOIDCLogin(ctx context.Context, stateHash []byte, now time.Time) (gatehouse.OIDCLogin, error) {
	var (
		l         gatehouse.OIDCLogin
		expiresAt int64
	)
	err := t.q.QueryRowContext(ctx, `UPDATE oidc_logins SET used_at = $2
		WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2
		RETURNING id, state_hash, provider_id, invitation_hash, verifier, nonce, expires_at`, stateHash, micros(now)).
		Scan(&l.ID, &l.StateHash, &l.ProviderID, &l.InvitationHash, &l.Verifier, &l.Nonce, &expiresAt)
	if err == sql.ErrNoRows {
		return l, gatehouse.NotFound("sign-in")
	}
	l.ExpiresAt = fromMicros(expiresAt)
	return l, mapErr(err)
}

func (t *tx) BindProviderSubject(ctx context.Context, userID, providerID, subject string) error {
	return t.guarded(ctx, "user", `UPDATE users SET provider_subject = $3
		WHERE id = $1 AND identity_provider_id = $2 AND (provider_subject IS NULL OR provider_subject = $3)`, userID, providerID, subject)
}

func (t *tx) InsertUsernameChange(ctx context.Context, c gatehouse.UsernameChange) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO username_changes (id, user_id, new_username, token_hash, requested_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, c.UserID, c.NewUsername, c.TokenHash, c.RequestedBy, micros(c.CreatedAt), micros(c.ExpiresAt))
	return mapErr(err)
}

func (t *tx) UseUsernameChange(ctx context.Context, hash []byte, now time.Time) (gatehouse.UsernameChange, error) {
	var (
		c                    gatehouse.UsernameChange
		createdAt, expiresAt int64
	)
	err := t.q.QueryRowContext(ctx, `UPDATE username_changes SET used_at = $2
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
		RETURNING id, user_id, new_username, token_hash, requested_by, created_at, expires_at`, hash, micros(now)).
		Scan(&c.ID, &c.UserID, &c.NewUsername, &c.TokenHash, &c.RequestedBy, &createdAt, &expiresAt)
	if err == sql.ErrNoRows {
		return c, gatehouse.NotFound("username change")
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(createdAt), fromMicros(expiresAt)
	return c, mapErr(err)
}

func (t *tx) SetMembershipNotifications(ctx context.Context, accountID, membershipID string, n gatehouse.Notifications) error {
	return t.guarded(ctx, "membership", `UPDATE memberships SET notify = $3, notify_email = $4, notify_sms = $5
		WHERE id = $1 AND account_id = $2`, membershipID, accountID, n.Enabled, n.Email, n.SMS)
}

func (r reader) NotificationRecipients(ctx context.Context, accountID string, now time.Time) ([]gatehouse.NotificationRecipient, error) {
	var out []gatehouse.NotificationRecipient
	err := r.each(ctx, `SELECT m.id, m.user_id, u.language, u.first_name, m.email, u.phone, m.notify, m.notify_email, m.notify_sms
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND `+heldAt("m", "$3")+` AND m.notify = $2 ORDER BY m.id`, []any{accountID, true, micros(now)},
		func(rows *sql.Rows) error {
			var n gatehouse.NotificationRecipient
			err := rows.Scan(&n.MembershipID, &n.UserID, &n.Language, &n.FirstName, &n.Address, &n.Phone, &n.Enabled, &n.Notifications.Email, &n.SMS)
			out = append(out, n)
			return err
		})
	return out, err
}

func (r reader) AccountNotificationByKey(ctx context.Context, accountID, key string) (gatehouse.AccountNotification, error) {
	var (
		n         gatehouse.AccountNotification
		createdAt int64
	)
	err := r.q.QueryRowContext(ctx, `SELECT id, account_id, idempotency_key, emails, sms, created_by, created_at
		FROM account_notifications WHERE account_id = $1 AND idempotency_key = $2`, accountID, key).
		Scan(&n.ID, &n.AccountID, &n.IdempotencyKey, &n.Emails, &n.SMS, &n.CreatedBy, &createdAt)
	if err == sql.ErrNoRows {
		return n, gatehouse.NotFound("notification")
	}
	n.CreatedAt = fromMicros(createdAt)
	return n, mapErr(err)
}

func (t *tx) InsertAccountNotification(ctx context.Context, n gatehouse.AccountNotification) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO account_notifications (id, account_id, idempotency_key, emails, sms, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, n.ID, n.AccountID, n.IdempotencyKey, n.Emails, n.SMS, n.CreatedBy, micros(n.CreatedAt))
	return mapErr(err)
}

func (t *tx) PurgeExpired(ctx context.Context, before time.Time) error {
	at := micros(before)
	for _, query := range []string{
		`DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`,
		`DELETE FROM mfa_challenges WHERE expires_at < $1`,
		`DELETE FROM passkey_ceremonies WHERE expires_at < $1`,
		`DELETE FROM oidc_logins WHERE expires_at < $1`,
		`DELETE FROM username_changes WHERE expires_at < $1`,
		`DELETE FROM password_resets WHERE expires_at < $1`,
		`DELETE FROM signin_limits WHERE (locked_until IS NULL OR locked_until < $1) AND window_start < $1
			AND (subject LIKE 'source:%' OR subject LIKE 'reset:%' OR failures = 0)`,
	} {
		if _, err := t.q.ExecContext(ctx, query, at); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

func (t *tx) InsertPasswordReset(ctx context.Context, id, userID string, hash []byte, createdAt, expiresAt time.Time) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		id, userID, hash, micros(createdAt), micros(expiresAt))
	return mapErr(err)
}

func (t *tx) UsePasswordReset(ctx context.Context, hash []byte, now time.Time) (string, error) {
	var userID string
	err := t.q.QueryRowContext(ctx, `UPDATE password_resets SET used_at = $2
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id`, hash, micros(now)).Scan(&userID)
	if err == sql.ErrNoRows {
		return "", gatehouse.NotFound("password reset")
	} else if err != nil {
		return "", mapErr(err)
	}
	_, err = t.q.ExecContext(ctx, `UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, userID, micros(now))
	return userID, mapErr(err)
}

func (t *tx) SetPassword(ctx context.Context, userID, passwordHash string) error {
	return t.guarded(ctx, "user", `UPDATE users SET password_hash = $2 WHERE id = $1 AND status = 'active'`, userID, passwordHash)
}

func (r reader) PasswordResetUserID(ctx context.Context, hash []byte, now time.Time) (string, error) {
	var userID string
	err := r.q.QueryRowContext(ctx, `SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		hash, micros(now)).Scan(&userID)
	if err == sql.ErrNoRows {
		return "", gatehouse.NotFound("password reset")
	}
	return userID, mapErr(err)
}
