package store

import (
	"context"
	"database/sql"
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
	_, err := t.q.ExecContext(ctx, `INSERT INTO users (id, username, username_key, first_name, last_name, language, phone, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Username, gatehouse.UsernameKey(u.Username), u.FirstName, u.LastName, u.Language, u.Phone, string(u.Status), micros(u.CreatedAt))
	return mapErr(err)
}

// AccessTo reads the principal's levels straight from the database, so a
// removed membership stops working at the next request on every node
// (SPEC R-M7).
func (r reader) AccessTo(ctx context.Context, p gatehouse.Principal, account gatehouse.Account) (gatehouse.Access, error) {
	if p.Operator {
		return gatehouse.Access{Operator: true}, nil
	}
	var access gatehouse.Access
	if p.UserID == "" {
		return access, nil
	}
	rows, err := r.q.QueryContext(ctx, `SELECT account_id, level FROM memberships
		WHERE user_id = $1 AND status = 'active' AND account_id IN ($2, $3)`,
		p.UserID, account.ID, account.IntegratorID)
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

func (r reader) APITokenByHash(ctx context.Context, hash []byte, now time.Time) (gatehouse.APIToken, error) {
	var (
		t                    gatehouse.APIToken
		createdAt            int64
		expiresAt, revokedAt sql.NullInt64
	)
	err := r.q.QueryRowContext(ctx, `SELECT id, user_id, account_id, name, token_hash, created_at, expires_at, revoked_at
		FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`,
		hash, micros(now)).
		Scan(&t.ID, &t.UserID, &t.AccountID, &t.Name, &t.Hash, &createdAt, &expiresAt, &revokedAt)
	if err == sql.ErrNoRows {
		return t, gatehouse.NotFound("token")
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(createdAt), fromNullMicros(expiresAt), fromNullMicros(revokedAt)
	return t, mapErr(err)
}

func (t *tx) InsertAPIToken(ctx context.Context, tok gatehouse.APIToken) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, account_id, name, token_hash, created_at, expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		tok.ID, tok.UserID, tok.AccountID, tok.Name, tok.Hash, micros(tok.CreatedAt), nullMicros(tok.ExpiresAt), nullMicros(tok.RevokedAt))
	return mapErr(err)
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
