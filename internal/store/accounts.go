package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

const accountColumns = `a.id, a.kind, a.name, a.address, a.integrator_id,
	a.max_client_users, a.client_admins_can_add_remote_monitoring, a.time_zone, a.provider_access_until, a.created_at, a.updated_at`

// scanner is what *sql.Row and *sql.Rows share.
type scanner interface{ Scan(dest ...any) error }

// scanAccount reads accountColumns, then any extra columns into extra.
func scanAccount(row scanner, extra ...any) (gatehouse.Account, error) {
	var (
		a                    gatehouse.Account
		integratorID         sql.NullString
		providerUntil        sql.NullInt64
		createdAt, updatedAt int64
	)
	err := row.Scan(append([]any{&a.ID, &a.Kind, &a.Name, &a.Address, &integratorID,
		&a.Settings.MaxClientUsers, &a.Settings.ClientAdminsCanAddRemoteMonitoring, &a.TimeZone, &providerUntil, &createdAt, &updatedAt}, extra...)...)
	if err != nil {
		return gatehouse.Account{}, err
	}
	a.IntegratorID = integratorID.String
	a.ProviderAccessUntil = fromNullMicros(providerUntil)
	a.CreatedAt, a.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return a, nil
}

func (r reader) Account(ctx context.Context, id string) (gatehouse.Account, error) {
	a, err := scanAccount(r.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1`, id))
	if err == sql.ErrNoRows {
		return a, gatehouse.NotFound("account")
	}
	return a, mapErr(err)
}

// ListAccounts orders by name without regard to case, then id, so pages are
// stable while accounts are added.
func (r reader) ListAccounts(ctx context.Context, f gatehouse.AccountFilter) (gatehouse.Page[gatehouse.Account], error) {
	var page gatehouse.Page[gatehouse.Account]
	after, err := decodeCursor(f.Page.Cursor, 2)
	if err != nil {
		return page, err
	}
	limit := pageLimit(f.Page.Limit)
	var (
		args  argList
		where []string
	)
	from, sortKey, sortID := "accounts a", "a.name_key", "a.id"
	if q := gatehouse.NameKey(f.Query); q != "" {
		if usesGrams(q) {
			gram, anyMatch, err := r.rarestGram(ctx, q)
			if err != nil || !anyMatch {
				return page, err
			}
			// Read the posting list in its own order; the join fetches only
			// the accounts that pass every filter.
			from, sortKey, sortID = "account_name_grams g CROSS JOIN accounts a", "g.name_key", "g.account_id"
			where = append(where, "g.gram = "+args.add(gram), "a.id = g.account_id")
		}
		where = append(where, sortKey+` LIKE `+args.add("%"+escapeLike(q)+"%")+` ESCAPE '\'`)
	}
	if f.Kind != "" {
		where = append(where, "a.kind = "+args.add(string(f.Kind)))
	}
	if f.IntegratorID != "" {
		where = append(where, "a.integrator_id = "+args.add(f.IntegratorID))
	}
	if v := f.Visible; v != nil {
		user := args.add(v.UserID)
		scope := ""
		if v.ScopeAccountID != "" {
			scope = " AND m.account_id = " + args.add(v.ScopeAccountID)
		}
		where = append(where, fmt.Sprintf(`(a.id IN (SELECT m.account_id FROM memberships m
				WHERE m.user_id = %[1]s AND m.status = 'active'%[2]s)
			OR a.integrator_id IN (SELECT m.account_id FROM memberships m
				WHERE m.user_id = %[1]s AND m.status = 'active'
				AND m.level IN ('integrator_admin', 'integrator_user')%[2]s))`, user, scope))
	}
	if after != nil {
		where = append(where, fmt.Sprintf("(%s, %s) > (%s, %s)", sortKey, sortID, args.add(after[0]), args.add(after[1])))
	}
	query := `SELECT ` + accountColumns + `, a.name_key FROM ` + from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY %s, %s LIMIT %s", sortKey, sortID, args.add(limit+1))

	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return page, mapErr(err)
	}
	return readPage(rows, limit, func(rows *sql.Rows) (gatehouse.Account, []string, error) {
		var nameKey string
		a, err := scanAccount(rows, &nameKey)
		return a, []string{nameKey, a.ID}, err
	})
}

// escapeLike makes s match itself literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (t *tx) InsertAccount(ctx context.Context, a gatehouse.Account) error {
	integratorID := sql.NullString{String: a.IntegratorID, Valid: a.IntegratorID != ""}
	clientKey := sql.NullString{String: gatehouse.NameKey(a.Name), Valid: a.Kind == gatehouse.KindClient}
	_, err := t.q.ExecContext(ctx, `INSERT INTO accounts (id, kind, name, name_key, client_name_key, address, integrator_id,
		max_client_users, client_admins_can_add_remote_monitoring, time_zone, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		a.ID, string(a.Kind), a.Name, gatehouse.NameKey(a.Name), clientKey, a.Address, integratorID,
		a.Settings.MaxClientUsers, a.Settings.ClientAdminsCanAddRemoteMonitoring, cmp.Or(a.TimeZone, gatehouse.DefaultTimeZone),
		micros(a.CreatedAt), micros(a.UpdatedAt))
	if err != nil {
		return clientNameTaken(mapErr(err))
	}
	return t.insertNameGrams(ctx, a.ID, gatehouse.NameKey(a.Name))
}

// clientNameTaken says which field a uniqueness conflict of an account is
// about: only the client names are unique.
func clientNameTaken(err error) error {
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		return &gatehouse.Error{Code: gatehouse.ECONFLICT, Field: "name", Message: "another client account of this integrator has this name"}
	}
	return err
}

// UpdateAccount stores the name, address, time zone and settings of an
// existing account; the service provider's access has its own write
// (SetProviderAccess).
func (t *tx) UpdateAccount(ctx context.Context, a gatehouse.Account) error {
	var oldKey string
	err := t.q.QueryRowContext(ctx, `SELECT name_key FROM accounts WHERE id = $1`, a.ID).Scan(&oldKey)
	if err == sql.ErrNoRows {
		return gatehouse.NotFound("account")
	} else if err != nil {
		return mapErr(err)
	}
	// A client renamed takes its new name's key; one that shared its name
	// before names were unique keeps holding none until it is renamed.
	res, err := t.q.ExecContext(ctx, `UPDATE accounts SET name = $2, name_key = $3, address = $4,
		max_client_users = $5, client_admins_can_add_remote_monitoring = $6, updated_at = $7, time_zone = $8,
		client_name_key = CASE WHEN kind = 'client' AND (client_name_key IS NOT NULL OR name_key <> $3) THEN $3 ELSE client_name_key END
		WHERE id = $1`,
		a.ID, a.Name, gatehouse.NameKey(a.Name), a.Address,
		a.Settings.MaxClientUsers, a.Settings.ClientAdminsCanAddRemoteMonitoring, micros(a.UpdatedAt), cmp.Or(a.TimeZone, gatehouse.DefaultTimeZone))
	if err != nil {
		return clientNameTaken(mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gatehouse.NotFound("account")
	}
	if newKey := gatehouse.NameKey(a.Name); newKey != oldKey {
		if err := t.deleteNameGrams(ctx, a.ID, oldKey); err != nil {
			return err
		}
		return t.insertNameGrams(ctx, a.ID, newKey)
	}
	return nil
}
