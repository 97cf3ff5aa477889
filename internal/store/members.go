package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

const userColumns = `u.id, u.username, u.first_name, u.last_name, u.language, u.phone, u.user_type, u.identity_provider_id, u.status, u.created_at`

func scanUser(row scanner) (gatehouse.User, error) {
	var (
		u         gatehouse.User
		provider  sql.NullString
		createdAt int64
	)
	err := row.Scan(&u.ID, &u.Username, &u.FirstName, &u.LastName, &u.Language, &u.Phone, &u.UserType, &provider, &u.Status, &createdAt)
	u.IdentityProviderID, u.CreatedAt = provider.String, fromMicros(createdAt)
	return u, err
}

func (r reader) UserByUsername(ctx context.Context, username string) (gatehouse.User, error) {
	u, err := scanUser(r.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.username_key = $1`,
		gatehouse.UsernameKey(username)))
	if err == sql.ErrNoRows {
		return u, gatehouse.NotFound("user")
	}
	return u, mapErr(err)
}

const memberColumns = `m.id, m.account_id, m.user_id, m.level, m.status, m.email, m.description, m.home_folder_id,
	m.notify, m.notify_email, m.notify_sms, m.added_by, m.created_at, m.expires_at, m.external_id, m.suspended_at,
	u.username, u.first_name, u.last_name, u.language`

func scanMember(row scanner) (gatehouse.Member, error) {
	var (
		m          gatehouse.Member
		homeFolder sql.NullString
		createdAt  int64
		expiresAt  sql.NullInt64
		externalID sql.NullString
		suspended  sql.NullInt64
	)
	err := row.Scan(&m.ID, &m.AccountID, &m.UserID, &m.Level, &m.Status, &m.Email, &m.Description, &homeFolder,
		&m.Notifications.Enabled, &m.Notifications.Email, &m.Notifications.SMS, &m.AddedBy, &createdAt, &expiresAt,
		&externalID, &suspended, &m.Username, &m.FirstName, &m.LastName, &m.Language)
	m.HomeFolderID, m.CreatedAt, m.ExpiresAt = homeFolder.String, fromMicros(createdAt), fromNullMicros(expiresAt)
	m.ExternalID, m.SuspendedAt = externalID.String, fromNullMicros(suspended)
	return m, err
}

// heldAt is the one test, in SQL, of a membership that holds access at a
// time: active, not suspended, and not ended by itself. alias names the
// memberships table, now the placeholder of the time (Unix
// microseconds). The access model applies the same rule in memory
// (gatehouse.MemberAccess.Holds).
func heldAt(alias, now string) string {
	return alias + ".status = 'active' AND " + alias + ".suspended_at IS NULL AND " + notEnded(alias, now)
}

// notEnded tells, in SQL, that a membership has not ended by itself at
// now, whatever its status.
func notEnded(alias, now string) string {
	return "(" + alias + ".expires_at IS NULL OR " + alias + ".expires_at > " + now + ")"
}

func (r reader) Member(ctx context.Context, accountID, membershipID string) (gatehouse.Member, error) {
	return r.memberWhere(ctx, `m.id = $2`, accountID, membershipID)
}

// MemberByUser returns the user's membership of the account, whatever its
// status, or ENOTFOUND.
func (r reader) MemberByUser(ctx context.Context, accountID, userID string) (gatehouse.Member, error) {
	return r.memberWhere(ctx, `m.user_id = $2`, accountID, userID)
}

// memberWhere reads the one membership of the account ($1) that where
// selects, with its identity and roles.
func (r reader) memberWhere(ctx context.Context, where, accountID, value string) (gatehouse.Member, error) {
	m, err := scanMember(r.q.QueryRowContext(ctx, `SELECT `+memberColumns+`
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND `+where, accountID, value))
	if err == sql.ErrNoRows {
		return m, gatehouse.NotFound("user")
	}
	if err != nil {
		return m, mapErr(err)
	}
	roles, err := r.rolesOf(ctx, []string{m.ID})
	m.Roles = roles[m.ID]
	return m, err
}

func (r reader) ListMembers(ctx context.Context, accountID string, pr gatehouse.PageRequest) (gatehouse.Page[gatehouse.Member], error) {
	return r.FindMembers(ctx, accountID, gatehouse.MemberFilter{Page: pr})
}

// UserTypes lists the user types the members of an account have, in
// order: the choices of the add-user form's pull-down.
func (r reader) UserTypes(ctx context.Context, accountID string) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT DISTINCT u.user_type FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND u.user_type <> '' ORDER BY u.user_type LIMIT 200`, accountID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// FindMembers lists the members of an account the filter keeps, in id
// order. An account has thousands of members at most, so the search scans
// them; the username key is folded already, and the names are matched both
// folded and as typed, since SQLite folds ASCII letters only.
func (r reader) FindMembers(ctx context.Context, accountID string, f gatehouse.MemberFilter) (gatehouse.Page[gatehouse.Member], error) {
	pr := f.Page
	after, err := decodeCursor(pr.Cursor, 1)
	if err != nil {
		return gatehouse.Page[gatehouse.Member]{}, err
	}
	limit := pageLimit(pr.Limit)
	args := argList{accountID}
	query := `SELECT ` + memberColumns + ` FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.account_id = $1`
	if q := strings.TrimSpace(f.Query); q != "" {
		folded, typed := args.add("%"+escapeLike(strings.ToLower(q))+"%"), args.add("%"+escapeLike(q)+"%")
		names := `(u.first_name || ' ' || u.last_name)`
		query += ` AND (u.username_key LIKE ` + folded + ` ESCAPE '\' OR LOWER(` + names + `) LIKE ` + folded + ` ESCAPE '\'
			OR ` + names + ` LIKE ` + typed + ` ESCAPE '\')`
	}
	if f.Status != "" {
		query += " AND m.status = " + args.add(string(f.Status))
	}
	if f.Level != "" {
		query += " AND m.level = " + args.add(string(f.Level))
	}
	if after != nil {
		query += " AND m.id > " + args.add(after[0])
	}
	query += " ORDER BY m.id LIMIT " + args.add(limit+1)
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return gatehouse.Page[gatehouse.Member]{}, mapErr(err)
	}
	page, err := readPage(rows, limit, func(rows *sql.Rows) (gatehouse.Member, []string, error) {
		m, err := scanMember(rows)
		return m, []string{m.ID}, err
	})
	if err != nil || len(page.Items) == 0 {
		return page, err
	}
	ids := make([]string, len(page.Items))
	for i, m := range page.Items {
		ids[i] = m.ID
	}
	roles, err := r.rolesOf(ctx, ids)
	for i := range page.Items {
		page.Items[i].Roles = roles[page.Items[i].ID]
	}
	return page, err
}

// rolesOf reads the roles of several memberships in one query.
func (r reader) rolesOf(ctx context.Context, membershipIDs []string) (map[string][]string, error) {
	var args argList
	in := make([]string, len(membershipIDs))
	for i, id := range membershipIDs {
		in[i] = args.add(id)
	}
	// Roles are stored by id; a custom role is shown by its current name.
	rows, err := r.q.QueryContext(ctx, `SELECT mr.membership_id, COALESCE(r.name, mr.role) FROM membership_roles mr
		LEFT JOIN roles r ON r.id = mr.role
		WHERE mr.membership_id IN (`+strings.Join(in, ", ")+`) ORDER BY mr.membership_id, 2`, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	roles := map[string][]string{}
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return nil, err
		}
		roles[id] = append(roles[id], role)
	}
	return roles, mapErr(rows.Err())
}

func (t *tx) InsertMembership(ctx context.Context, m gatehouse.Membership) error {
	if err := t.BumpAuthzVersion(ctx, m.AccountID); err != nil {
		return err
	}
	homeFolder := sql.NullString{String: m.HomeFolderID, Valid: m.HomeFolderID != ""}
	_, err := t.q.ExecContext(ctx, `INSERT INTO memberships (id, account_id, user_id, level, status, email, home_folder_id,
			notify, notify_email, notify_sms, added_by, created_at, description, expires_at, external_id, suspended_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		m.ID, m.AccountID, m.UserID, string(m.Level), string(m.Status), m.Email, homeFolder,
		m.Notifications.Enabled, m.Notifications.Email, m.Notifications.SMS, m.AddedBy, micros(m.CreatedAt), m.Description,
		nullMicros(m.ExpiresAt), nullString(m.ExternalID), nullMicros(m.SuspendedAt))
	return mapErr(err)
}

// SetMembershipExpiry sets when a membership of the account ends by itself;
// a zero end makes it permanent.
func (t *tx) SetMembershipExpiry(ctx context.Context, accountID, membershipID string, end time.Time) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	return t.guarded(ctx, "user", `UPDATE memberships SET expires_at = $3 WHERE account_id = $1 AND id = $2`,
		accountID, membershipID, nullMicros(end))
}

func (t *tx) SetMembershipRoles(ctx context.Context, accountID, membershipID string, roles []string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	// The membership must be the account's: the roles of another account's
	// membership are never touched.
	var exists bool
	if err := t.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE account_id = $1 AND id = $2)`,
		accountID, membershipID).Scan(&exists); err != nil {
		return mapErr(err)
	}
	if !exists {
		return gatehouse.NotFound("user")
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM membership_roles WHERE membership_id = $1`, membershipID); err != nil {
		return mapErr(err)
	}
	return t.insertMembershipRoles(ctx, accountID, membershipID, roles)
}

func (t *tx) insertMembershipRoles(ctx context.Context, accountID, membershipID string, roleIDs []string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	for _, role := range roleIDs {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO membership_roles (membership_id, role) VALUES ($1, $2)`, membershipID, role); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

func (t *tx) DeleteMembership(ctx context.Context, accountID, membershipID string) error {
	_, err := t.deleteMembership(ctx, accountID, membershipID, "")
	return err
}

// DeleteExpiredMembership removes a membership of the account that has
// ended by itself at now, as DeleteMembership does, and returns what it
// was. The delete is guarded: a membership that is gone, or that does not
// end by now (it was extended meanwhile), is ENOTFOUND, so of two nodes
// sweeping at once only one removes it.
func (t *tx) DeleteExpiredMembership(ctx context.Context, accountID, membershipID string, now time.Time) (gatehouse.Membership, error) {
	return t.deleteMembership(ctx, accountID, membershipID, " AND expires_at IS NOT NULL AND expires_at <= $3 AND level <> 'remote_monitoring'", micros(now))
}

// deleteMembership removes a membership of the account that guard (more
// conditions, whose arguments come after the account and the membership)
// keeps, then the user's grants and group places in the account: a person
// who comes back later starts from nothing.
func (t *tx) deleteMembership(ctx context.Context, accountID, membershipID, guard string, args ...any) (gatehouse.Membership, error) {
	m := gatehouse.Membership{ID: membershipID, AccountID: accountID}
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return m, err
	}
	var expiresAt sql.NullInt64
	err := t.q.QueryRowContext(ctx, `DELETE FROM memberships WHERE account_id = $1 AND id = $2`+guard+`
		RETURNING user_id, level, status, expires_at`, append([]any{accountID, membershipID}, args...)...).
		Scan(&m.UserID, &m.Level, &m.Status, &expiresAt)
	if err == sql.ErrNoRows {
		return m, gatehouse.NotFound("user")
	} else if err != nil {
		return m, mapErr(err)
	}
	m.ExpiresAt = fromNullMicros(expiresAt)
	for _, table := range []string{"folder_grants", "user_group_members"} {
		if _, err := t.q.ExecContext(ctx, `DELETE FROM `+table+` WHERE account_id = $1 AND user_id = $2`, accountID, m.UserID); err != nil {
			return m, mapErr(err)
		}
	}
	return m, nil
}

// ExpiredMemberships lists, soonest ended first, at most limit memberships
// that have ended by themselves at now.
func (r reader) ExpiredMemberships(ctx context.Context, now time.Time, limit int) ([]gatehouse.Membership, error) {
	var out []gatehouse.Membership
	err := r.each(ctx, `SELECT id, account_id, user_id, level, status, expires_at FROM memberships
		WHERE expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`, []any{micros(now), limit},
		func(rows *sql.Rows) error {
			var (
				m         gatehouse.Membership
				expiresAt int64
			)
			err := rows.Scan(&m.ID, &m.AccountID, &m.UserID, &m.Level, &m.Status, &expiresAt)
			m.ExpiresAt = fromMicros(expiresAt)
			out = append(out, m)
			return err
		})
	return out, err
}

// ReserveClientUserSlot is a guarded counter: the UPDATE re-reads the row
// under its lock, so concurrent reservations on every node see each other.
func (t *tx) ReserveClientUserSlot(ctx context.Context, accountID string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE accounts SET client_users = client_users + 1
		WHERE id = $1 AND client_users < max_client_users`, accountID)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gatehouse.Errorf(gatehouse.EUSERLIMIT, "the account has reached its limit of client users")
	}
	return nil
}

func (t *tx) ReleaseClientUserSlot(ctx context.Context, accountID string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE accounts SET client_users = client_users - 1 WHERE id = $1 AND client_users > 0`, accountID)
	return mapErr(err)
}

const invitationColumns = `i.id, i.account_id, i.membership_id, i.user_id, i.email, i.status, i.token_hash,
	i.invited_by, i.sent_at, i.expires_at, i.ended_at`

func scanInvitation(row scanner) (gatehouse.Invitation, error) {
	var (
		inv              gatehouse.Invitation
		sentAt, expireAt int64
		endedAt          sql.NullInt64
	)
	err := row.Scan(&inv.ID, &inv.AccountID, &inv.MembershipID, &inv.UserID, &inv.Email, &inv.Status, &inv.TokenHash,
		&inv.InvitedBy, &sentAt, &expireAt, &endedAt)
	inv.SentAt, inv.ExpiresAt, inv.EndedAt = fromMicros(sentAt), fromMicros(expireAt), fromNullMicros(endedAt)
	return inv, err
}

func (r reader) Invitation(ctx context.Context, id string) (gatehouse.Invitation, error) {
	inv, err := scanInvitation(r.q.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE i.id = $1`, id))
	if err == sql.ErrNoRows {
		return inv, gatehouse.NotFound("invitation")
	}
	return inv, mapErr(err)
}

func (r reader) ListInvitations(ctx context.Context, accountID string, status gatehouse.InvitationStatus, now time.Time, pr gatehouse.PageRequest) (gatehouse.Page[gatehouse.Invitation], error) {
	return r.FindInvitations(ctx, accountID, gatehouse.InvitationFilter{Status: status, Page: pr}, now)
}

// FindInvitations lists the invitations of an account the filter keeps,
// newest first; pending and expired are told apart at now.
func (r reader) FindInvitations(ctx context.Context, accountID string, f gatehouse.InvitationFilter, now time.Time) (gatehouse.Page[gatehouse.Invitation], error) {
	status, pr := f.Status, f.Page
	after, err := decodeCursor(pr.Cursor, 1)
	if err != nil {
		return gatehouse.Page[gatehouse.Invitation]{}, err
	}
	limit := pageLimit(pr.Limit)
	args := argList{accountID}
	query := `SELECT ` + invitationColumns + ` FROM invitations i WHERE i.account_id = $1`
	switch status {
	case gatehouse.InvitationPending:
		query += " AND i.status = 'pending' AND i.expires_at > " + args.add(micros(now))
	case gatehouse.InvitationExpired:
		query += " AND i.status = 'pending' AND i.expires_at <= " + args.add(micros(now))
	case gatehouse.InvitationAccepted, gatehouse.InvitationCancelled:
		query += " AND i.status = " + args.add(string(status))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		query += ` AND LOWER(i.email) LIKE ` + args.add("%"+escapeLike(strings.ToLower(q))+"%") + ` ESCAPE '\'`
	}
	if after != nil {
		query += " AND i.id < " + args.add(after[0])
	}
	query += " ORDER BY i.id DESC LIMIT " + args.add(limit+1)
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return gatehouse.Page[gatehouse.Invitation]{}, mapErr(err)
	}
	return readPage(rows, limit, func(rows *sql.Rows) (gatehouse.Invitation, []string, error) {
		inv, err := scanInvitation(rows)
		return inv, []string{inv.ID}, err
	})
}

func (r reader) InvitationByTokenHash(ctx context.Context, hash []byte) (gatehouse.Invitation, error) {
	inv, err := scanInvitation(r.q.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE i.token_hash = $1`, hash))
	if err == sql.ErrNoRows {
		return inv, gatehouse.NotFound("invitation")
	}
	return inv, mapErr(err)
}

func (r reader) PendingInvitationsOf(ctx context.Context, userID string) ([]gatehouse.Invitation, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+invitationColumns+` FROM invitations i
		WHERE i.user_id = $1 AND i.status = 'pending' ORDER BY i.id`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []gatehouse.Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, mapErr(rows.Err())
}

func (t *tx) EndInvitation(ctx context.Context, accountID, id string, status gatehouse.InvitationStatus, now time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE invitations SET status = $2, ended_at = $3
		WHERE id = $1 AND account_id = $4 AND status = 'pending'`, id, string(status), micros(now), accountID)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gatehouse.NotFound("pending invitation")
	}
	return nil
}

func (t *tx) ActivateUser(ctx context.Context, userID, passwordHash string, now time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE users SET status = 'active', password_hash = $2, activated_at = $3
		WHERE id = $1 AND status = 'pending'`, userID, passwordHash, micros(now))
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gatehouse.NotFound("pending user")
	}
	return nil
}

func (t *tx) SetMembershipStatus(ctx context.Context, accountID, membershipID string, status gatehouse.MembershipStatus) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE memberships SET status = $2 WHERE id = $1 AND account_id = $3`, membershipID, string(status), accountID)
	return mapErr(err)
}

func (t *tx) RenewInvitation(ctx context.Context, accountID, id string, hash []byte, sentBy string, sentAt, expiresAt time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE invitations SET token_hash = $2, invited_by = $3, sent_at = $4, expires_at = $5
		WHERE id = $1 AND account_id = $6 AND status = 'pending'`, id, hash, sentBy, micros(sentAt), micros(expiresAt), accountID)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return gatehouse.NotFound("pending invitation")
	}
	return nil
}

func (t *tx) UpdateUser(ctx context.Context, u gatehouse.User) error {
	return t.guarded(ctx, "user", `UPDATE users SET username = $2, username_key = $3, first_name = $4, last_name = $5,
		language = $6, phone = $7, user_type = $8 WHERE id = $1`,
		u.ID, u.Username, gatehouse.UsernameKey(u.Username), u.FirstName, u.LastName, u.Language, u.Phone, u.UserType)
}

func (t *tx) CancelInvitationsOf(ctx context.Context, accountID, membershipID string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE invitations SET status = 'cancelled', ended_at = $2
		WHERE membership_id = $1 AND account_id = $3 AND status = 'pending'`, membershipID, micros(now), accountID)
	return mapErr(err)
}

func (r reader) RemoteMonitoringUser(ctx context.Context, accountID string) (gatehouse.Member, error) {
	m, err := scanMember(r.q.QueryRowContext(ctx, `SELECT `+memberColumns+`
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND m.level = 'remote_monitoring'`, accountID))
	if err == sql.ErrNoRows {
		return m, gatehouse.NotFound("remote monitoring user")
	}
	return m, mapErr(err)
}

func (r reader) SealedPassword(ctx context.Context, userID string) (string, error) {
	var sealed string
	err := r.q.QueryRowContext(ctx, `SELECT password_sealed FROM users WHERE id = $1`, userID).Scan(&sealed)
	if err == sql.ErrNoRows {
		return "", gatehouse.NotFound("user")
	}
	return sealed, mapErr(err)
}

func (t *tx) InsertServiceUser(ctx context.Context, u gatehouse.User, passwordHash, passwordSealed string) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO users (id, username, username_key, first_name, last_name, language, status,
			created_at, password_hash, password_sealed, activated_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $7)`,
		u.ID, u.Username, gatehouse.UsernameKey(u.Username), u.FirstName, u.LastName, u.Language, micros(u.CreatedAt), passwordHash, passwordSealed)
	return mapErr(err)
}

func (t *tx) SetServicePassword(ctx context.Context, userID, passwordHash, passwordSealed string) error {
	return t.guarded(ctx, "user", `UPDATE users SET password_hash = $2, password_sealed = $3 WHERE id = $1`, userID, passwordHash, passwordSealed)
}

func (t *tx) RevokeSessionsOf(ctx context.Context, userID string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, micros(now))
	return mapErr(err)
}
