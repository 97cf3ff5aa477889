package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

func (r reader) Credentials(ctx context.Context, username string) (gatehouse.Credentials, error) {
	var c gatehouse.Credentials
	var provider sql.NullString
	err := r.q.QueryRowContext(ctx, `SELECT id, username, status, password_hash, totp_secret, totp_last_step, mfa_method, mfa_phone,
		identity_provider_id FROM users WHERE username_key = $1`, gatehouse.UsernameKey(username)).
		Scan(&c.UserID, &c.Username, &c.Status, &c.PasswordHash, &c.TOTPSecret, &c.TOTPLastStep, &c.MFAMethod, &c.MFAPhone, &provider)
	if err == sql.ErrNoRows {
		return c, gatehouse.NotFound("user")
	}
	c.IdentityProviderID = provider.String
	return c, mapErr(err)
}

func (r reader) HasActiveAdminMembership(ctx context.Context, userID string) (bool, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM memberships WHERE user_id = $1 AND status = 'active'
		AND suspended_at IS NULL AND level IN ('integrator_admin', 'client_admin')) + (SELECT count(*) FROM users WHERE id = $1 AND (operator = $2 OR mfa_required = $2))`,
		userID, true).Scan(&n)
	return n > 0, mapErr(err)
}

// MembershipsOf lists an identity's memberships, whatever their status,
// leaving out those that ended by themselves at now.
func (r reader) MembershipsOf(ctx context.Context, userID string, now time.Time) ([]gatehouse.MembershipSummary, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT m.id, m.account_id, a.name, a.kind, COALESCE(i.name, ''), a.address,
		(a.status = 'suspended' AND m.level <> 'remote_monitoring') OR m.suspended_at IS NOT NULL, m.level, m.status, m.notify, m.notify_email, m.notify_sms, m.expires_at
		FROM memberships m JOIN accounts a ON a.id = m.account_id LEFT JOIN accounts i ON i.id = a.integrator_id
		WHERE m.user_id = $1 AND a.status <> 'deleted' AND `+notEnded("m", "$2")+` ORDER BY a.name_key, a.id`, userID, micros(now))
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []gatehouse.MembershipSummary
	for rows.Next() {
		var (
			m         gatehouse.MembershipSummary
			expiresAt sql.NullInt64
		)
		if err := rows.Scan(&m.ID, &m.AccountID, &m.AccountName, &m.AccountKind, &m.IntegratorName, &m.AccountAddress, &m.Suspended, &m.Level, &m.Status,
			&m.Notifications.Enabled, &m.Notifications.Email, &m.Notifications.SMS, &expiresAt); err != nil {
			return nil, err
		}
		m.ExpiresAt = fromNullMicros(expiresAt)
		out = append(out, m)
	}
	return out, mapErr(rows.Err())
}

func (r reader) MFAChallengeByHash(ctx context.Context, hash []byte) (gatehouse.MFAChallenge, error) {
	var (
		c                  gatehouse.MFAChallenge
		expiresAt          int64
		usedAt, lastSentAt sql.NullInt64
	)
	err := r.q.QueryRowContext(ctx, `SELECT id, token_hash, user_id, kind, method, totp_secret, code_hash, phone, sends,
		last_sent_at, expires_at, used_at FROM mfa_challenges WHERE token_hash = $1`, hash).
		Scan(&c.ID, &c.Hash, &c.UserID, &c.Kind, &c.Method, &c.TOTPSecret, &c.CodeHash, &c.Phone, &c.Sends, &lastSentAt, &expiresAt, &usedAt)
	if err == sql.ErrNoRows {
		return c, gatehouse.NotFound("challenge")
	}
	c.ExpiresAt, c.UsedAt, c.LastSentAt = fromMicros(expiresAt), fromNullMicros(usedAt), fromNullMicros(lastSentAt)
	return c, mapErr(err)
}

func (r reader) SessionByHash(ctx context.Context, hash []byte) (gatehouse.Session, error) {
	var (
		s                              gatehouse.Session
		createdAt, expiresAt, lastSeen int64
		revokedAt                      sql.NullInt64
	)
	err := r.q.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.token_hash, s.created_at, s.expires_at, s.last_seen_at, s.revoked_at, u.operator
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, hash).
		Scan(&s.ID, &s.UserID, &s.Hash, &createdAt, &expiresAt, &lastSeen, &revokedAt, &s.Operator)
	if err == sql.ErrNoRows {
		return s, gatehouse.NotFound("session")
	}
	s.CreatedAt, s.ExpiresAt, s.LastSeenAt, s.RevokedAt = fromMicros(createdAt), fromMicros(expiresAt), fromMicros(lastSeen), fromNullMicros(revokedAt)
	return s, mapErr(err)
}

func (t *tx) InsertMFAChallenge(ctx context.Context, c gatehouse.MFAChallenge) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO mfa_challenges (id, token_hash, user_id, kind, method, totp_secret, code_hash,
		phone, sends, last_sent_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.Hash, c.UserID, c.Kind, c.Method, c.TOTPSecret, c.CodeHash, c.Phone, c.Sends, nullMicros(c.LastSentAt), micros(c.ExpiresAt))
	return mapErr(err)
}

func (t *tx) UseMFAChallenge(ctx context.Context, id string, now time.Time) error {
	return t.guarded(ctx, "challenge", `UPDATE mfa_challenges SET used_at = $2 WHERE id = $1 AND used_at IS NULL`, id, micros(now))
}

func (t *tx) UseTOTPStep(ctx context.Context, userID string, step int64, secret string) error {
	if secret != "" {
		return t.guarded(ctx, "code", `UPDATE users SET totp_secret = $3, totp_last_step = $2, mfa_method = 'totp' WHERE id = $1`,
			userID, step, secret)
	}
	return t.guarded(ctx, "code", `UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, userID, step)
}

func (t *tx) InsertSession(ctx context.Context, s gatehouse.Session) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, last_seen_at, second_factor, amr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, s.ID, s.UserID, s.Hash, micros(s.CreatedAt), micros(s.ExpiresAt), micros(s.LastSeenAt), s.SecondFactor, strings.Join(s.AMR, " "))
	return mapErr(err)
}

func (t *tx) TouchSession(ctx context.Context, id string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, id, micros(now))
	return mapErr(err)
}

func (t *tx) RevokeSession(ctx context.Context, id string, now time.Time) error {
	return t.guarded(ctx, "session", `UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, micros(now))
}

// guarded runs an UPDATE whose WHERE is the rule, and answers ENOTFOUND
// when it changed nothing.
func (t *tx) guarded(ctx context.Context, what, query string, args ...any) error {
	res, err := t.q.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gatehouse.NotFound(what)
	}
	return nil
}

func (t *tx) SetOperator(ctx context.Context, userID string, operator bool) error {
	return t.guarded(ctx, "user", `UPDATE users SET operator = $2 WHERE id = $1`, userID, operator)
}

// IsOperator tells whether the identity is an operator.
func (r reader) IsOperator(ctx context.Context, userID string) (bool, error) {
	var operator bool
	err := r.q.QueryRowContext(ctx, `SELECT operator FROM users WHERE id = $1`, userID).Scan(&operator)
	if err == sql.ErrNoRows {
		return false, gatehouse.NotFound("user")
	}
	return operator, mapErr(err)
}

func (r reader) Operators(ctx context.Context) ([]gatehouse.User, error) {
	var out []gatehouse.User
	err := r.each(ctx, `SELECT `+userColumns+` FROM users u WHERE u.operator = $1 ORDER BY u.username_key`, []any{true},
		func(rows *sql.Rows) error {
			u, err := scanUser(rows)
			out = append(out, u)
			return err
		})
	return out, err
}

func (t *tx) RequireMFA(ctx context.Context, userID string) error {
	return t.guarded(ctx, "user", `UPDATE users SET mfa_required = $2 WHERE id = $1`, userID, true)
}

func (r reader) SessionsOf(ctx context.Context, userID string, now time.Time) ([]gatehouse.Session, error) {
	var out []gatehouse.Session
	err := r.each(ctx, `SELECT id, user_id, created_at, expires_at, last_seen_at FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC`, []any{userID, micros(now)},
		func(rows *sql.Rows) error {
			var (
				s                              gatehouse.Session
				createdAt, expiresAt, lastSeen int64
			)
			err := rows.Scan(&s.ID, &s.UserID, &createdAt, &expiresAt, &lastSeen)
			s.CreatedAt, s.ExpiresAt, s.LastSeenAt = fromMicros(createdAt), fromMicros(expiresAt), fromMicros(lastSeen)
			out = append(out, s)
			return err
		})
	return out, err
}

func (t *tx) RevokeUserSession(ctx context.Context, userID, id string, now time.Time) error {
	return t.guarded(ctx, "session", `UPDATE sessions SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
		id, userID, micros(now))
}

func (t *tx) RevokeOtherSessions(ctx context.Context, userID, keepID string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`,
		userID, keepID, micros(now))
	return mapErr(err)
}

// MarkSessionSecondFactor records that a session proved a second factor.
func (t *tx) MarkSessionSecondFactor(ctx context.Context, sessionID string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE sessions SET second_factor = $2 WHERE id = $1`, sessionID, true)
	return mapErr(err)
}
