package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

const accountColumns = `a.id, a.kind, a.name, a.address, a.integrator_id,
	a.max_client_users, a.client_admins_can_add_remote_monitoring, a.time_zone, a.provider_access_until, a.created_at, a.updated_at,
	a.status, a.purge_after, COALESCE((SELECT i.status FROM accounts i WHERE i.id = a.integrator_id), '')`

// scanner is what *sql.Row and *sql.Rows share.
type scanner interface{ Scan(dest ...any) error }

// scanAccount reads accountColumns, then any extra columns into extra.
func scanAccount(row scanner, extra ...any) (gatehouse.Account, error) {
	var (
		a                    gatehouse.Account
		integratorID         sql.NullString
		providerUntil        sql.NullInt64
		createdAt, updatedAt int64
		purgeAfter           sql.NullInt64
	)
	err := row.Scan(append([]any{&a.ID, &a.Kind, &a.Name, &a.Address, &integratorID,
		&a.Settings.MaxClientUsers, &a.Settings.ClientAdminsCanAddRemoteMonitoring, &a.TimeZone, &providerUntil, &createdAt, &updatedAt,
		&a.Status, &purgeAfter, &a.IntegratorStatus}, extra...)...)
	if err != nil {
		return gatehouse.Account{}, err
	}
	a.IntegratorID = integratorID.String
	a.ProviderAccessUntil = fromNullMicros(providerUntil)
	a.CreatedAt, a.UpdatedAt, a.PurgeAfter = fromMicros(createdAt), fromMicros(updatedAt), fromNullMicros(purgeAfter)
	return a, nil
}

func (r reader) Account(ctx context.Context, id string) (gatehouse.Account, error) {
	a, err := scanAccount(r.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1`, id))
	if err == sql.ErrNoRows {
		return a, gatehouse.NotFound("account")
	}
	return a, mapErr(err)
}

// AccountsByID reads several accounts at once, keyed by id; an id it does
// not find is left out.
func (r reader) AccountsByID(ctx context.Context, ids []string) (map[string]gatehouse.Account, error) {
	accounts := make(map[string]gatehouse.Account, len(ids))
	if len(ids) == 0 {
		return accounts, nil
	}
	var args argList
	err := r.each(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id `+r.oneOf(&args, ids), args, func(rows *sql.Rows) error {
		a, err := scanAccount(rows)
		accounts[a.ID] = a
		return err
	})
	return accounts, err
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
		user, held := args.add(v.UserID), heldAt("m", args.add(micros(v.At)))
		scope := ""
		if v.ScopeAccountID != "" {
			scope = " AND m.account_id = " + args.add(v.ScopeAccountID)
		}
		where = append(where, fmt.Sprintf(`(a.id IN (SELECT m.account_id FROM memberships m
				WHERE m.user_id = %[1]s AND %[3]s%[2]s)
			OR a.integrator_id IN (SELECT m.account_id FROM memberships m
				WHERE m.user_id = %[1]s AND %[3]s
				AND m.level IN ('integrator_admin', 'integrator_user')%[2]s))`, user, scope, held),
			// A deleted account is seen by operators alone.
			"a.status <> 'deleted'")
	}
	if f.Status != "" {
		where = append(where, "a.status = "+args.add(string(f.Status)))
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
	status := a.Status
	if status == "" {
		status = gatehouse.AccountActive
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO accounts (id, kind, name, name_key, client_name_key, address, integrator_id,
		max_client_users, client_admins_can_add_remote_monitoring, time_zone, created_at, updated_at, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.ID, string(a.Kind), a.Name, gatehouse.NameKey(a.Name), clientKey, a.Address, integratorID,
		a.Settings.MaxClientUsers, a.Settings.ClientAdminsCanAddRemoteMonitoring, cmp.Or(a.TimeZone, gatehouse.DefaultTimeZone),
		micros(a.CreatedAt), micros(a.UpdatedAt), string(status))
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

// SetAccountStatus moves an account to status, with the instant a deleted
// one is purged (zero for none). Its authz version moves, so that checks
// see the change at once; an integrator's moves its clients' models too,
// whose versions carry their integrator's.
func (t *tx) SetAccountStatus(ctx context.Context, accountID string, status gatehouse.AccountStatus, purgeAfter time.Time) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	purge := sql.NullInt64{Int64: micros(purgeAfter), Valid: !purgeAfter.IsZero()}
	// A deleted client frees its name; one restored takes it back, or the
	// restore fails with ECONFLICT when another client has it meanwhile.
	return clientNameTaken(t.guarded(ctx, "account", `UPDATE accounts SET status = $2, purge_after = $3,
		client_name_key = CASE WHEN kind <> 'client' THEN NULL WHEN $2 = 'deleted' THEN NULL ELSE name_key END
		WHERE id = $1`, accountID, string(status), purge))
}

// EndAccountPeople ends everything people hold in an account at once: its
// pending invitations are cancelled, its memberships (the remote
// monitoring user's included) go with their roles, grants and group
// places, its API tokens are revoked, and the sessions of the people who
// belong nowhere else end, as do the tokens the platform's applications
// hold for the account. It returns the identities whose membership ended.
func (t *tx) EndAccountPeople(ctx context.Context, accountID string, now time.Time) ([]string, error) {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return nil, err
	}
	rows, err := t.q.QueryContext(ctx, `SELECT user_id FROM memberships WHERE account_id = $1 ORDER BY user_id`, accountID)
	if err != nil {
		return nil, mapErr(err)
	}
	var people []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, mapErr(err)
		}
		people = append(people, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	statements := []struct {
		query string
		args  []any
	}{
		{`UPDATE invitations SET status = 'cancelled', ended_at = $2 WHERE account_id = $1 AND status = 'pending'`, []any{accountID, micros(now)}},
		{`UPDATE api_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`, []any{accountID, micros(now)}},
		// Its directory provisions nobody into an account without people.
		{`UPDATE scim_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`, []any{accountID, micros(now)}},
		{`DELETE FROM folder_grants WHERE account_id = $1 AND user_id IS NOT NULL`, []any{accountID}},
		{`DELETE FROM user_group_members WHERE account_id = $1`, []any{accountID}},
		{`DELETE FROM memberships WHERE account_id = $1`, []any{accountID}},
		// The service provider's access closes with the people gone, and a
		// request that waited has nobody left to answer it.
		{`UPDATE accounts SET client_users = 0, provider_access_until = NULL WHERE id = $1`, []any{accountID}},
		{`DELETE FROM provider_access_requests WHERE account_id = $1 AND status = 'pending'`, []any{accountID}},
	}
	for _, st := range statements {
		if _, err := t.q.ExecContext(ctx, st.query, st.args...); err != nil {
			return nil, mapErr(err)
		}
	}
	// The platform's applications lose the account too, and are told.
	if err := t.RevokeOIDCAccountTokens(ctx, accountID, "", now); err != nil {
		return nil, err
	}
	for _, userID := range people {
		if _, err := t.q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2
			WHERE user_id = $1 AND revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1)`,
			userID, micros(now)); err != nil {
			return nil, mapErr(err)
		}
	}
	return people, nil
}

// AccountsToPurge lists deleted accounts whose purge_after has come, at
// most limit of them, oldest first.
func (r reader) AccountsToPurge(ctx context.Context, now time.Time, limit int) ([]gatehouse.Account, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts a
		WHERE a.status = 'deleted' AND a.purge_after <= $1 ORDER BY a.purge_after, a.id LIMIT $2`, micros(now), limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []gatehouse.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// PurgeAccount removes a deleted account and everything that was its: its
// roles, folders, groups, grants, bulk previews, invitations, tokens,
// notices and audit events. It fails with ENOTFOUND when the account is no
// longer deleted (restored meanwhile) or already gone, so that two nodes
// purging at once purge it once.
func (t *tx) PurgeAccount(ctx context.Context, accountID string) error {
	var status string
	lock := " FOR UPDATE"
	if t.dialect == SQLite {
		lock = "" // one writer at a time already
	}
	err := t.q.QueryRowContext(ctx, `SELECT status FROM accounts WHERE id = $1`+lock, accountID).Scan(&status)
	if err == sql.ErrNoRows || (err == nil && status != string(gatehouse.AccountDeleted)) {
		return gatehouse.NotFound("account")
	} else if err != nil {
		return mapErr(err)
	}
	t.subscriptionsChanged()
	if t.dialect == SQLite {
		// The account's events leave; the feed's numbers must not go back.
		if err := t.recordEventNumbers(ctx); err != nil {
			return err
		}
	}
	statements := []string{
		`DELETE FROM folder_grants WHERE account_id = $1`,
		`DELETE FROM user_group_members WHERE account_id = $1`,
		`DELETE FROM scim_groups WHERE account_id = $1`,
		`DELETE FROM scim_group_mappings WHERE account_id = $1`,
		`DELETE FROM scim_calls WHERE account_id = $1`,
		`DELETE FROM scim_tokens WHERE account_id = $1`,
		`DELETE FROM user_groups WHERE account_id = $1`,
		`DELETE FROM memberships WHERE account_id = $1`,
		`DELETE FROM folders WHERE account_id = $1`,
		`DELETE FROM roles WHERE account_id = $1`,
		`DELETE FROM bulk_previews WHERE account_id = $1`,
		`DELETE FROM invitations WHERE account_id = $1`,
		`DELETE FROM api_tokens WHERE account_id = $1`,
		`DELETE FROM account_notifications WHERE account_id = $1`,
		`DELETE FROM provider_access_requests WHERE account_id = $1`,
		`DELETE FROM account_name_grams WHERE account_id = $1`,
		`DELETE FROM audit_events WHERE account_id = $1`,
		`DELETE FROM brand_messages WHERE owner_id = $1`,
		`DELETE FROM brands WHERE owner_id = $1`,
		`DELETE FROM outbox WHERE channel = 'webhook' AND recipient IN (SELECT id FROM webhook_subscriptions WHERE account_id = $1)`,
		`DELETE FROM webhook_deliveries WHERE subscription_id IN (SELECT id FROM webhook_subscriptions WHERE account_id = $1)`,
		`DELETE FROM webhook_subscriptions WHERE account_id = $1`,
		`DELETE FROM accounts WHERE id = $1`,
	}
	for _, q := range statements {
		if _, err := t.q.ExecContext(ctx, q, accountID); err != nil {
			return fmt.Errorf("purge %s: %w", strings.Fields(q)[2], mapErr(err))
		}
	}
	return nil
}
