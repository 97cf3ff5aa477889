package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The client's privacy (R-PV1…R-PV3): when the service provider's access to a
// client's cameras and media ends, and the requests for it.

// SetProviderAccess stores when the service provider's access to the
// account's cameras and media ends (the zero time: closed now). It raises
// the account's authz version, so that every node's checks see it.
func (t *tx) SetProviderAccess(ctx context.Context, accountID string, until time.Time) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `UPDATE accounts SET provider_access_until = $2 WHERE id = $1`, accountID, nullMicros(until))
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gatehouse.NotFound("account")
	}
	return nil
}

const providerRequestColumns = `id, account_id, requested_by, reason, status, created_at, decided_by, decided_at, access_until`

func scanProviderRequest(row scanner) (gatehouse.ProviderAccessRequest, error) {
	var (
		r                      gatehouse.ProviderAccessRequest
		createdAt              int64
		decidedBy              sql.NullString
		decidedAt, accessUntil sql.NullInt64
	)
	err := row.Scan(&r.ID, &r.AccountID, &r.RequestedBy, &r.Reason, &r.Status, &createdAt, &decidedBy, &decidedAt, &accessUntil)
	r.CreatedAt, r.DecidedBy = fromMicros(createdAt), decidedBy.String
	r.DecidedAt, r.Until = fromNullMicros(decidedAt), fromNullMicros(accessUntil)
	return r, err
}

// InsertProviderAccessRequest stores a pending request; ECONFLICT when one
// waits for the account already.
func (t *tx) InsertProviderAccessRequest(ctx context.Context, r gatehouse.ProviderAccessRequest) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO provider_access_requests (id, account_id, requested_by, reason, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, r.AccountID, r.RequestedBy, r.Reason, string(gatehouse.ProviderAccessPending), micros(r.CreatedAt))
	if err = mapErr(err); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "a request for access waits for the client's answer already"}
	}
	return err
}

// DecideProviderAccessRequest records the answer to a pending request: its
// status, who answered and when, and the end an approval chose. ENOTFOUND
// for no such request of the account; ECONFLICT for one answered already.
func (t *tx) DecideProviderAccessRequest(ctx context.Context, r gatehouse.ProviderAccessRequest) error {
	res, err := t.q.ExecContext(ctx, `UPDATE provider_access_requests SET status = $3, decided_by = $4, decided_at = $5, access_until = $6
		WHERE account_id = $1 AND id = $2 AND status = 'pending'`,
		r.AccountID, r.ID, string(r.Status), r.DecidedBy, micros(r.DecidedAt), nullMicros(r.Until))
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, err := t.ProviderAccessRequest(ctx, r.AccountID, r.ID); err != nil {
		return err
	}
	return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "this request was answered already"}
}

// ProviderAccessRequest returns a request of the account, or ENOTFOUND.
func (r reader) ProviderAccessRequest(ctx context.Context, accountID, id string) (gatehouse.ProviderAccessRequest, error) {
	req, err := scanProviderRequest(r.q.QueryRowContext(ctx, `SELECT `+providerRequestColumns+`
		FROM provider_access_requests WHERE account_id = $1 AND id = $2`, accountID, id))
	if err == sql.ErrNoRows {
		return req, gatehouse.NotFound("request")
	}
	return req, mapErr(err)
}

// ProviderAccessRequests lists the account's requests newest first (ids
// are time-ordered), of one status when the filter names one.
func (r reader) ProviderAccessRequests(ctx context.Context, accountID string, f gatehouse.ProviderAccessRequestFilter) (gatehouse.Page[gatehouse.ProviderAccessRequest], error) {
	var page gatehouse.Page[gatehouse.ProviderAccessRequest]
	after, err := decodeCursor(f.Page.Cursor, 1)
	if err != nil {
		return page, err
	}
	limit := pageLimit(f.Page.Limit)
	var args argList
	where := []string{"account_id = " + args.add(accountID)}
	if f.Status != "" {
		where = append(where, "status = "+args.add(string(f.Status)))
	}
	if after != nil {
		where = append(where, "id < "+args.add(after[0]))
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+providerRequestColumns+` FROM provider_access_requests
		WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT `+args.add(limit+1), args...)
	if err != nil {
		return page, mapErr(err)
	}
	return readPage(rows, limit, func(rows *sql.Rows) (gatehouse.ProviderAccessRequest, []string, error) {
		req, err := scanProviderRequest(rows)
		return req, []string{req.ID}, err
	})
}

// AdminRecipients lists the active administrators of a client account with
// the address and language their mail goes to.
func (r reader) AdminRecipients(ctx context.Context, accountID string) ([]gatehouse.NotificationRecipient, error) {
	var out []gatehouse.NotificationRecipient
	err := r.each(ctx, `SELECT m.id, m.user_id, u.language, u.first_name, m.email
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND m.status = 'active' AND m.suspended_at IS NULL AND m.level = 'client_admin' ORDER BY m.id`, []any{accountID},
		func(rows *sql.Rows) error {
			var n gatehouse.NotificationRecipient
			err := rows.Scan(&n.MembershipID, &n.UserID, &n.Language, &n.FirstName, &n.Address)
			out = append(out, n)
			return err
		})
	return out, err
}

// IntegratorStaff lists the people who are (or are invited to be)
// integrator administrators or users of the client account's integrator,
// by username: the service provider's staff, who act in the client.
func (r reader) IntegratorStaff(ctx context.Context, accountID string) ([]gatehouse.User, error) {
	var out []gatehouse.User
	err := r.each(ctx, `SELECT u.id, u.username, u.first_name, u.last_name
		FROM accounts a JOIN memberships m ON m.account_id = a.integrator_id JOIN users u ON u.id = m.user_id
		WHERE a.id = $1 AND m.level IN ('integrator_admin', 'integrator_user') ORDER BY u.username_key, u.id`, []any{accountID},
		func(rows *sql.Rows) error {
			var u gatehouse.User
			err := rows.Scan(&u.ID, &u.Username, &u.FirstName, &u.LastName)
			out = append(out, u)
			return err
		})
	return out, err
}
