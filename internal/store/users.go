package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

func (r reader) User(ctx context.Context, id string) (gatehouse.User, error) {
	u, err := scanUser(r.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	if err == sql.ErrNoRows {
		return u, gatehouse.NotFound("user")
	}
	return u, mapErr(err)
}

func (t *tx) InsertUser(ctx context.Context, u gatehouse.User) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO users (id, username, username_key, first_name, last_name, language, phone,
		user_type, identity_provider_id, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.ID, u.Username, gatehouse.UsernameKey(u.Username), u.FirstName, u.LastName, u.Language, u.Phone,
		u.UserType, nullString(u.IdentityProviderID), string(u.Status), micros(u.CreatedAt))
	return mapErr(err)
}

// AccessTo reads the principal's levels straight from the database, so a
// removed membership stops working at the next request on every node
// (R-M7), and one that ended by itself at now holds nothing.
func (r reader) AccessTo(ctx context.Context, p gatehouse.Principal, account gatehouse.Account, now time.Time) (gatehouse.Access, error) {
	if p.Operator {
		return gatehouse.Access{Operator: true}, nil
	}
	var access gatehouse.Access
	if p.SCIMTokenID != "" {
		// A directory's token holds what it was made with, in its own
		// account alone.
		if account.ID == p.ScopeAccountID {
			access = gatehouse.SCIMAccess(account.Kind, p.SCIMActsAs)
		}
		return access, nil
	}
	if p.UserID == "" {
		return access, nil
	}
	rows, err := r.q.QueryContext(ctx, `SELECT m.account_id, m.level FROM memberships m
		WHERE m.user_id = $1 AND `+heldAt("m", "$4")+` AND m.account_id IN ($2, $3)`,
		p.UserID, account.ID, account.IntegratorID, micros(now))
	if err != nil {
		return access, mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			accountID string
			level     gatehouse.Level
		)
		if err := rows.Scan(&accountID, &level); err != nil {
			return access, err
		}
		if p.ScopeAccountID != "" && accountID != p.ScopeAccountID {
			continue
		}
		switch accountID {
		case account.ID:
			access.Level = level
		case account.IntegratorID:
			access.IntegratorLevel = level
		}
	}
	return access, mapErr(rows.Err())
}

const apiTokenColumns = `id, user_id, account_id, name, token_hash, scopes, created_at, expires_at, revoked_at, last_used_at`

func scanAPIToken(row scanner) (gatehouse.APIToken, error) {
	var (
		t                              gatehouse.APIToken
		scopes                         string
		createdAt                      int64
		expiresAt, revokedAt, lastUsed sql.NullInt64
	)
	err := row.Scan(&t.ID, &t.UserID, &t.AccountID, &t.Name, &t.Hash, &scopes, &createdAt, &expiresAt, &revokedAt, &lastUsed)
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt = fromMicros(createdAt), fromNullMicros(expiresAt), fromNullMicros(revokedAt), fromNullMicros(lastUsed)
	return t, err
}

func (r reader) APITokenByHash(ctx context.Context, hash []byte, now time.Time) (gatehouse.APIToken, error) {
	// A token acts through its membership: one that ended by itself at now
	// ends the token's use as its removal would.
	t, err := scanAPIToken(r.q.QueryRowContext(ctx, `SELECT `+apiTokenColumns+`
		FROM api_tokens WHERE token_hash = $1 AND membership_id IS NOT NULL AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > $2)
		AND EXISTS (SELECT 1 FROM memberships m WHERE m.id = api_tokens.membership_id AND m.suspended_at IS NULL AND `+notEnded("m", "$2")+`)`, hash, micros(now)))
	if err == sql.ErrNoRows {
		return t, gatehouse.NotFound("token")
	}
	return t, mapErr(err)
}

// APITokensOf lists a user's live tokens for an account, newest first.
func (r reader) APITokensOf(ctx context.Context, userID, accountID string, now time.Time) ([]gatehouse.APIToken, error) {
	var tokens []gatehouse.APIToken
	err := r.each(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE user_id = $1 AND account_id = $2
		AND membership_id IS NOT NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3) ORDER BY id DESC`, []any{userID, accountID, micros(now)},
		func(rows *sql.Rows) error {
			t, err := scanAPIToken(rows)
			tokens = append(tokens, t)
			return err
		})
	return tokens, err
}

// RevokeAPIToken ends a user's token for an account, or ENOTFOUND.
func (t *tx) RevokeAPIToken(ctx context.Context, userID, accountID, id string, now time.Time) error {
	return t.guarded(ctx, "token", `UPDATE api_tokens SET revoked_at = $4 WHERE id = $1 AND user_id = $2 AND account_id = $3
		AND revoked_at IS NULL`, id, userID, accountID, micros(now))
}

// TouchAPIToken records a use, at most once a minute a token.
func (t *tx) TouchAPIToken(ctx context.Context, id string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)`,
		id, micros(now), micros(now.Add(-time.Minute)))
	return mapErr(err)
}

// InsertAPIToken stores a token bound to its owner's active membership of
// the account, which the database reads in the same statement: the foreign
// key then ends the token with the membership, even one removed by a
// transaction running beside this one. No such membership is ENOTFOUND.
func (t *tx) InsertAPIToken(ctx context.Context, tok gatehouse.APIToken) error {
	res, err := t.q.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, account_id, name, token_hash, created_at, expires_at, revoked_at, scopes, membership_id)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, m.id FROM memberships m
		WHERE m.account_id = $3 AND m.user_id = $2 AND `+heldAt("m", "$6")+``,
		tok.ID, tok.UserID, tok.AccountID, tok.Name, tok.Hash, micros(tok.CreatedAt), nullMicros(tok.ExpiresAt), nullMicros(tok.RevokedAt),
		strings.Join(tok.Scopes, " "))
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gatehouse.NotFound("membership")
	}
	return nil
}

func (r reader) UserPhoto(ctx context.Context, userID string) ([]byte, error) {
	var image []byte
	err := r.q.QueryRowContext(ctx, `SELECT image FROM user_photos WHERE user_id = $1`, userID).Scan(&image)
	if err == sql.ErrNoRows {
		return nil, gatehouse.NotFound("photo")
	}
	return image, mapErr(err)
}

func (t *tx) SetUserPhoto(ctx context.Context, userID string, image []byte, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO user_photos (user_id, image, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET image = excluded.image, updated_at = excluded.updated_at`, userID, image, micros(now))
	return mapErr(err)
}
