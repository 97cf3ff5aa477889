package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// UsernameKeyCollision is two identities whose usernames have one key since
// the key rules changed: the other identity holds the key (it had it
// already, or is the older), this one keeps its old key, which nobody types
// any more. A person has to merge them.
type UsernameKeyCollision struct {
	UserID, Username           string // the identity left with its old key
	OtherUserID, OtherUsername string // the identity that holds the key
	Key                        string
	FoundAt                    time.Time
}

// rekeyLock is the PostgreSQL advisory lock that makes nodes starting
// together re-key one after the other (the second finds the work done).
const rekeyLock int64 = 0x67617465686b6579 // "gatehkey" in ASCII

// rekeyUsernames gives every identity the key that gatehouse.UsernameKey
// computes today. The full scan runs once per UsernameKeyVersion; every
// start looks again at the collisions recorded, a small table, since an
// identity renamed meanwhile may have freed a key.
func RekeyUsernames(ctx context.Context, db *sql.DB, postgres bool) error {
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("re-key usernames: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	if err := rekeyUsernames(ctx, rekeyTx{sqlTx}, postgres); err != nil {
		return err
	}
	return sqlTx.Commit()
}

// rekeyTx runs the re-keying's statements in its transaction.
type rekeyTx struct{ q *sql.Tx }

func rekeyUsernames(ctx context.Context, t rekeyTx, postgres bool) error {
	{
		if postgres {
			if _, err := t.q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, rekeyLock); err != nil {
				return fmt.Errorf("re-key usernames: %w", err)
			}
		}
		var done int
		if err := t.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM username_key_versions`).Scan(&done); err != nil {
			return fmt.Errorf("re-key usernames: %w", err)
		}
		if done < gatehouse.UsernameKeyVersion {
			if err := t.rekeyAll(ctx); err != nil {
				return fmt.Errorf("re-key usernames: %w", err)
			}
			if _, err := t.q.ExecContext(ctx, `INSERT INTO username_key_versions (version, applied_at) VALUES ($1, $2)`,
				gatehouse.UsernameKeyVersion, time.Now().UnixMicro()); err != nil {
				return fmt.Errorf("re-key usernames: %w", err)
			}
		}
		if err := t.retryCollisions(ctx); err != nil {
			return fmt.Errorf("re-key usernames: %w", err)
		}
		return nil
	}
}

// rekey is one identity whose stored key is not its username's key.
type rekey struct {
	userID, key string
}

// rekeyAll re-keys every identity whose key changed. The oldest identity
// wanting a key gets it when nobody holds it; one that finds the key held
// is recorded as a collision, after other passes have let identities whose
// old key was wanted move away first.
func (t rekeyTx) rekeyAll(ctx context.Context) error {
	var pending []rekey
	// Read to the end before writing: a connection runs one statement at a
	// time.
	err := each(ctx, t.q, `SELECT id, username, username_key FROM users ORDER BY created_at, id`, func(rows *sql.Rows) error {
		var id, username, stored string
		if err := rows.Scan(&id, &username, &stored); err != nil {
			return err
		}
		if key := gatehouse.UsernameKey(username); key != stored {
			pending = append(pending, rekey{userID: id, key: key})
		}
		return nil
	})
	if err != nil {
		return err
	}
	holders := map[string]string{}
	for {
		var stuck []rekey
		for _, r := range pending {
			holder, err := t.takeKey(ctx, r)
			if err != nil {
				return err
			}
			if holder != "" {
				holders[r.userID] = holder
				stuck = append(stuck, r)
			}
		}
		if len(stuck) == len(pending) {
			break
		}
		pending = stuck
	}
	now := time.Now().UnixMicro()
	for _, r := range pending {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO username_key_collisions (user_id, other_user_id, username_key, found_at)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id) DO UPDATE SET other_user_id = excluded.other_user_id, username_key = excluded.username_key`,
			r.userID, holders[r.userID], r.key, now); err != nil {
			return err
		}
	}
	return nil
}

// takeKey gives r its key unless another identity holds it, whose id it
// answers then.
func (t rekeyTx) takeKey(ctx context.Context, r rekey) (holder string, err error) {
	err = t.q.QueryRowContext(ctx, `SELECT id FROM users WHERE username_key = $1`, r.key).Scan(&holder)
	switch {
	case err == nil && holder != r.userID:
		return holder, nil
	case err == nil:
		return "", nil
	case err != sql.ErrNoRows:
		return "", err
	}
	_, err = t.q.ExecContext(ctx, `UPDATE users SET username_key = $2 WHERE id = $1`, r.userID, r.key)
	return "", err
}

// retryCollisions drops the collisions that ended (the identity's username
// changed, or it got its key once the holder's username changed) and
// follows a key that changed hands.
func (t rekeyTx) retryCollisions(ctx context.Context) error {
	type recorded struct {
		rekey
		stored, other, recordedKey string
	}
	var all []recorded
	err := each(ctx, t.q, `SELECT c.user_id, c.other_user_id, c.username_key, u.username, u.username_key
		FROM username_key_collisions c JOIN users u ON u.id = c.user_id`, func(rows *sql.Rows) error {
		var c recorded
		var username string
		if err := rows.Scan(&c.userID, &c.other, &c.recordedKey, &username, &c.stored); err != nil {
			return err
		}
		c.key = gatehouse.UsernameKey(username)
		all = append(all, c)
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range all {
		holder := ""
		if c.stored != c.key {
			if holder, err = t.takeKey(ctx, c.rekey); err != nil {
				return err
			}
		}
		switch {
		case holder == "":
			_, err = t.q.ExecContext(ctx, `DELETE FROM username_key_collisions WHERE user_id = $1`, c.userID)
		case holder != c.other || c.key != c.recordedKey:
			_, err = t.q.ExecContext(ctx, `UPDATE username_key_collisions SET other_user_id = $2, username_key = $3 WHERE user_id = $1`,
				c.userID, holder, c.key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// UsernameKeyCollisions lists the identities left with their old key
// because another holds their username's key, oldest first.
func UsernameKeyCollisions(ctx context.Context, db *sql.DB) ([]UsernameKeyCollision, error) {
	var list []UsernameKeyCollision
	err := each(ctx, db, `SELECT c.user_id, u.username, c.other_user_id, o.username, c.username_key, c.found_at
		FROM username_key_collisions c JOIN users u ON u.id = c.user_id JOIN users o ON o.id = c.other_user_id
		ORDER BY c.found_at, c.user_id`, func(rows *sql.Rows) error {
		var c UsernameKeyCollision
		var foundAt int64
		if err := rows.Scan(&c.UserID, &c.Username, &c.OtherUserID, &c.OtherUsername, &c.Key, &foundAt); err != nil {
			return err
		}
		c.FoundAt = time.UnixMicro(foundAt).UTC()
		list = append(list, c)
		return nil
	})
	return list, err
}

// each runs a query and calls fn for every row.
func each(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, query string, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
