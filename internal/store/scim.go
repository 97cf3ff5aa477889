package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// SCIM provisioning (docs/scim.md): an account's SCIM tokens, the
// directory's ids of its people and groups, what its groups map to, the
// log of its calls, and the lists a directory asks for, filtered in SQL.

// Memberships: suspension and the directory's id.

// SetMembershipSuspended suspends a membership of the account since at, or
// restores it when at is zero.
func (t *tx) SetMembershipSuspended(ctx context.Context, accountID, membershipID string, at time.Time) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	return t.guarded(ctx, "user", `UPDATE memberships SET suspended_at = $3 WHERE account_id = $1 AND id = $2`,
		accountID, membershipID, nullMicros(at))
}

// SetMembershipExternalID sets the directory's id of a membership of the
// account; ECONFLICT when another membership of the account has it.
func (t *tx) SetMembershipExternalID(ctx context.Context, accountID, membershipID, externalID string) error {
	return t.guarded(ctx, "user", `UPDATE memberships SET external_id = $3 WHERE account_id = $1 AND id = $2`,
		accountID, membershipID, nullString(externalID))
}

// SetMembershipEmail sets where mail about the account goes for a
// membership of the account.
func (t *tx) SetMembershipEmail(ctx context.Context, accountID, membershipID, email string) error {
	return t.guarded(ctx, "user", `UPDATE memberships SET email = $3 WHERE account_id = $1 AND id = $2`, accountID, membershipID, email)
}

// RevokeAPITokensOfMembership revokes the live personal API tokens made
// through a membership of the account.
func (t *tx) RevokeAPITokensOfMembership(ctx context.Context, accountID, membershipID string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $3 WHERE account_id = $1 AND membership_id = $2
		AND revoked_at IS NULL`, accountID, membershipID, micros(now))
	return mapErr(err)
}

// Tokens.

const scimTokenColumns = `id, account_id, name, token_hash, acts_as, identity_provider_id, created_by, created_at, last_used_at, revoked_at`

func scanSCIMToken(row scanner) (gatehouse.SCIMToken, error) {
	var (
		t                 gatehouse.SCIMToken
		provider          sql.NullString
		createdAt         int64
		lastUsed, revoked sql.NullInt64
	)
	err := row.Scan(&t.ID, &t.AccountID, &t.Name, &t.Hash, &t.ActsAs, &provider, &t.CreatedBy, &createdAt, &lastUsed, &revoked)
	t.IdentityProviderID = provider.String
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMicros(createdAt), fromNullMicros(lastUsed), fromNullMicros(revoked)
	return t, err
}

func (t *tx) InsertSCIMToken(ctx context.Context, tok gatehouse.SCIMToken) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO scim_tokens (`+scimTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		tok.ID, tok.AccountID, tok.Name, tok.Hash, string(tok.ActsAs), nullString(tok.IdentityProviderID), tok.CreatedBy,
		micros(tok.CreatedAt), nullMicros(tok.LastUsedAt), nullMicros(tok.RevokedAt))
	return mapErr(err)
}

// SCIMTokens lists an account's live SCIM tokens, newest first.
func (r reader) SCIMTokens(ctx context.Context, accountID string) ([]gatehouse.SCIMToken, error) {
	var out []gatehouse.SCIMToken
	err := r.each(ctx, `SELECT `+scimTokenColumns+` FROM scim_tokens WHERE account_id = $1 AND revoked_at IS NULL ORDER BY id DESC`,
		[]any{accountID}, func(rows *sql.Rows) error {
			tok, err := scanSCIMToken(rows)
			out = append(out, tok)
			return err
		})
	return out, err
}

// SCIMTokenByHash finds a live SCIM token by the hash of its secret.
func (r reader) SCIMTokenByHash(ctx context.Context, hash []byte) (gatehouse.SCIMToken, error) {
	tok, err := scanSCIMToken(r.q.QueryRowContext(ctx, `SELECT `+scimTokenColumns+` FROM scim_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL`, hash))
	if err == sql.ErrNoRows {
		return tok, gatehouse.NotFound("token")
	}
	return tok, mapErr(err)
}

// RevokeSCIMToken ends a live SCIM token of the account, or ENOTFOUND.
func (t *tx) RevokeSCIMToken(ctx context.Context, accountID, id string, now time.Time) error {
	return t.guarded(ctx, "token", `UPDATE scim_tokens SET revoked_at = $3 WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL`,
		accountID, id, micros(now))
}

// TouchSCIMToken records a use, at most once a minute a token.
func (t *tx) TouchSCIMToken(ctx context.Context, id string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)`,
		id, micros(now), micros(now.Add(-time.Minute)))
	return mapErr(err)
}

// The call log.

func (t *tx) InsertSCIMCall(ctx context.Context, c gatehouse.SCIMCall) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO scim_calls (id, account_id, token_id, at, method, path, status, outcome, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.AccountID, c.TokenID, micros(c.At), c.Method, c.Path, c.Status, c.Outcome, c.Detail)
	return mapErr(err)
}

// SCIMCalls lists an account's provisioning calls, newest first.
func (r reader) SCIMCalls(ctx context.Context, accountID string, pr gatehouse.PageRequest) (gatehouse.Page[gatehouse.SCIMCall], error) {
	after, err := decodeCursor(pr.Cursor, 1)
	if err != nil {
		return gatehouse.Page[gatehouse.SCIMCall]{}, err
	}
	limit := pageLimit(pr.Limit)
	args := argList{accountID}
	query := `SELECT id, account_id, token_id, at, method, path, status, outcome, detail FROM scim_calls WHERE account_id = $1`
	if after != nil {
		query += " AND id < " + args.add(after[0])
	}
	query += " ORDER BY id DESC LIMIT " + args.add(limit+1)
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return gatehouse.Page[gatehouse.SCIMCall]{}, mapErr(err)
	}
	return readPage(rows, limit, func(rows *sql.Rows) (gatehouse.SCIMCall, []string, error) {
		var (
			c  gatehouse.SCIMCall
			at int64
		)
		err := rows.Scan(&c.ID, &c.AccountID, &c.TokenID, &at, &c.Method, &c.Path, &c.Status, &c.Outcome, &c.Detail)
		c.At = fromMicros(at)
		return c, []string{c.ID}, err
	})
}

// DeleteSCIMCallsBefore removes the calls made before the given time and
// tells how many.
func (t *tx) DeleteSCIMCallsBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM scim_calls WHERE at < $1`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Users: the account's people a directory may see (every level but the
// remote monitoring user, which no directory owns).

// SCIMMembers lists the members of an account the query keeps, and how
// many it keeps in all.
func (r reader) SCIMMembers(ctx context.Context, accountID string, q gatehouse.SCIMMemberQuery) ([]gatehouse.Member, int, error) {
	args := argList{accountID}
	where := `m.account_id = $1 AND m.level <> 'remote_monitoring'`
	if q.Filter != nil {
		cond, err := scimFilterSQL(q.Filter, &args, scimUserColumns)
		if err != nil {
			return nil, 0, err
		}
		where += " AND (" + cond + ")"
	}
	from := ` FROM memberships m JOIN users u ON u.id = m.user_id WHERE ` + where
	var total int
	if err := r.q.QueryRowContext(ctx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	if q.Count <= 0 || q.Offset >= total {
		return nil, total, nil
	}
	query := `SELECT ` + memberColumns + from + ` ORDER BY m.id LIMIT ` + args.add(q.Count) + ` OFFSET ` + args.add(q.Offset)
	var out []gatehouse.Member
	err := r.each(ctx, query, args, func(rows *sql.Rows) error {
		m, err := scanMember(rows)
		out = append(out, m)
		return err
	})
	return out, total, err
}

// Groups.

// SCIMGroup returns a group of the account with the directory's id for it
// and its members.
func (r reader) SCIMGroup(ctx context.Context, accountID, groupID string) (gatehouse.SCIMGroup, error) {
	g, err := r.Group(ctx, accountID, groupID)
	if err != nil {
		return gatehouse.SCIMGroup{}, err
	}
	out := gatehouse.SCIMGroup{Group: g}
	var externalID sql.NullString
	err = r.q.QueryRowContext(ctx, `SELECT external_id FROM scim_groups WHERE account_id = $1 AND group_id = $2`, accountID, groupID).
		Scan(&externalID)
	if err != nil && err != sql.ErrNoRows {
		return out, mapErr(err)
	}
	out.ExternalID = externalID.String
	out.Members, err = r.scimGroupMembers(ctx, accountID, groupID)
	return out, err
}

func (r reader) scimGroupMembers(ctx context.Context, accountID, groupID string) ([]gatehouse.SCIMGroupMember, error) {
	members := []gatehouse.SCIMGroupMember{}
	err := r.each(ctx, `SELECT m.id, u.username FROM user_group_members gm
		JOIN memberships m ON m.account_id = gm.account_id AND m.user_id = gm.user_id JOIN users u ON u.id = m.user_id
		WHERE gm.account_id = $1 AND gm.group_id = $2 ORDER BY m.id`, []any{accountID, groupID}, func(rows *sql.Rows) error {
		var m gatehouse.SCIMGroupMember
		err := rows.Scan(&m.MembershipID, &m.Username)
		members = append(members, m)
		return err
	})
	return members, err
}

// SCIMGroups lists the groups of an account the filter keeps (nil: all),
// by id, count from offset, and how many it keeps in all; withMembers
// reads each one's members too.
func (r reader) SCIMGroups(ctx context.Context, accountID string, filter *gatehouse.SCIMFilter, offset, count int, withMembers bool) ([]gatehouse.SCIMGroup, int, error) {
	args := argList{accountID}
	where := `g.account_id = $1`
	if filter != nil {
		cond, err := scimFilterSQL(filter, &args, scimGroupColumns)
		if err != nil {
			return nil, 0, err
		}
		where += " AND (" + cond + ")"
	}
	from := ` FROM user_groups g LEFT JOIN scim_groups sg ON sg.group_id = g.id WHERE ` + where
	var total int
	if err := r.q.QueryRowContext(ctx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	if count <= 0 || offset >= total {
		return nil, total, nil
	}
	var ids []string
	err := r.each(ctx, `SELECT g.id`+from+` ORDER BY g.id LIMIT `+args.add(count)+` OFFSET `+args.add(offset), args,
		func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			ids = append(ids, id)
			return err
		})
	if err != nil {
		return nil, total, err
	}
	out := make([]gatehouse.SCIMGroup, 0, len(ids))
	for _, id := range ids {
		g, err := r.SCIMGroup(ctx, accountID, id)
		if err != nil {
			return nil, total, err
		}
		if !withMembers {
			g.Members = nil
		}
		out = append(out, g)
	}
	return out, total, nil
}

// SetSCIMGroupExternalID records the directory's id for a group of the
// account ("" for none); ECONFLICT when another group of the account has
// it.
func (t *tx) SetSCIMGroupExternalID(ctx context.Context, accountID, groupID, externalID string) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO scim_groups (group_id, account_id, external_id) VALUES ($1, $2, $3)
		ON CONFLICT (group_id) DO UPDATE SET external_id = excluded.external_id`, groupID, accountID, nullString(externalID))
	return mapErr(err)
}

// Group mappings.

const scimMappingColumns = `p.id, p.account_id, p.group_name, COALESCE(p.role_id, ''), COALESCE(r.name, p.role_id, ''),
	COALESCE(p.level, ''), p.created_by, p.created_at`

func scanSCIMMapping(row scanner) (gatehouse.SCIMGroupMapping, error) {
	var (
		m         gatehouse.SCIMGroupMapping
		createdAt int64
	)
	err := row.Scan(&m.ID, &m.AccountID, &m.GroupName, &m.RoleID, &m.Role, &m.Level, &m.CreatedBy, &createdAt)
	m.CreatedAt = fromMicros(createdAt)
	return m, err
}

// InsertSCIMGroupMapping stores a mapping; ECONFLICT when the account maps
// the group already.
func (t *tx) InsertSCIMGroupMapping(ctx context.Context, m gatehouse.SCIMGroupMapping) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO scim_group_mappings (id, account_id, group_name, group_key, role_id, level, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, m.ID, m.AccountID, m.GroupName, gatehouse.NameKey(m.GroupName),
		nullString(m.RoleID), nullString(string(m.Level)), m.CreatedBy, micros(m.CreatedAt))
	return mapErr(err)
}

// DeleteSCIMGroupMapping removes a mapping of the account, or ENOTFOUND.
func (t *tx) DeleteSCIMGroupMapping(ctx context.Context, accountID, id string) error {
	return t.guarded(ctx, "mapping", `DELETE FROM scim_group_mappings WHERE account_id = $1 AND id = $2`, accountID, id)
}

// SCIMGroupMappings lists an account's mappings by group name.
func (r reader) SCIMGroupMappings(ctx context.Context, accountID string) ([]gatehouse.SCIMGroupMapping, error) {
	var out []gatehouse.SCIMGroupMapping
	err := r.each(ctx, `SELECT `+scimMappingColumns+` FROM scim_group_mappings p LEFT JOIN roles r ON r.id = p.role_id
		WHERE p.account_id = $1 ORDER BY p.group_key, p.id`, []any{accountID}, func(rows *sql.Rows) error {
		m, err := scanSCIMMapping(rows)
		out = append(out, m)
		return err
	})
	return out, err
}

// SCIMGroupMapping returns a mapping of the account, or ENOTFOUND.
func (r reader) SCIMGroupMapping(ctx context.Context, accountID, id string) (gatehouse.SCIMGroupMapping, error) {
	m, err := scanSCIMMapping(r.q.QueryRowContext(ctx, `SELECT `+scimMappingColumns+` FROM scim_group_mappings p
		LEFT JOIN roles r ON r.id = p.role_id WHERE p.account_id = $1 AND p.id = $2`, accountID, id))
	if err == sql.ErrNoRows {
		return m, gatehouse.NotFound("mapping")
	}
	return m, mapErr(err)
}

// Filters.

// scimColumn is an attribute a filter compares, as SQL: expr is its
// value; folded tells that it compares without regard to case (the value
// is folded as fold does); boolean that it is true or false.
type scimColumn struct {
	expr    string
	fold    func(string) string
	boolean bool
	// nullable tells that a missing value is NULL rather than ''.
	nullable bool
	// member compares the membership id of one of a group's members.
	member bool
}

var (
	scimUserColumns = map[string]scimColumn{
		gatehouse.SCIMAttrUserName:   {expr: "u.username_key", fold: gatehouse.UsernameKey},
		gatehouse.SCIMAttrExternalID: {expr: "m.external_id", nullable: true},
		gatehouse.SCIMAttrID:         {expr: "m.id"},
		gatehouse.SCIMAttrEmail:      {expr: "LOWER(m.email)", fold: strings.ToLower},
		gatehouse.SCIMAttrGivenName:  {expr: "LOWER(u.first_name)", fold: strings.ToLower},
		gatehouse.SCIMAttrFamilyName: {expr: "LOWER(u.last_name)", fold: strings.ToLower},
		gatehouse.SCIMAttrActive:     {expr: "m.suspended_at IS NULL", boolean: true},
	}
	scimGroupColumns = map[string]scimColumn{
		gatehouse.SCIMAttrDisplayName: {expr: "g.name_key", fold: gatehouse.NameKey},
		gatehouse.SCIMAttrExternalID:  {expr: "sg.external_id", nullable: true},
		gatehouse.SCIMAttrID:          {expr: "g.id"},
		gatehouse.SCIMAttrMember:      {member: true},
	}
)

// scimFilterSQL turns a parsed filter into a condition on columns, its
// values bound as arguments. An attribute or operator the columns cannot
// compare is 400 at filter.
func scimFilterSQL(f *gatehouse.SCIMFilter, args *argList, columns map[string]scimColumn) (string, error) {
	switch f.Op {
	case "true":
		return "TRUE", nil
	case "false":
		return "FALSE", nil
	case "and", "or":
		if f.Left == nil || f.Right == nil {
			return "", gatehouse.Invalid("filter", "%s needs two sides", f.Op)
		}
		left, err := scimFilterSQL(f.Left, args, columns)
		if err != nil {
			return "", err
		}
		right, err := scimFilterSQL(f.Right, args, columns)
		if err != nil {
			return "", err
		}
		return "(" + left + ") " + strings.ToUpper(f.Op) + " (" + right + ")", nil
	case "not":
		if f.Left == nil {
			return "", gatehouse.Invalid("filter", "not needs a filter")
		}
		inner, err := scimFilterSQL(f.Left, args, columns)
		if err != nil {
			return "", err
		}
		// A comparison with a missing value is false, and so is its
		// negation's inner part: COALESCE keeps NOT from turning NULL into
		// NULL.
		return "NOT COALESCE((" + inner + "), FALSE)", nil
	}
	col, ok := columns[f.Attribute]
	if !ok {
		return "", gatehouse.Invalid("filter", "%s cannot be filtered on here", f.Attribute)
	}
	if col.member {
		if f.Op != "eq" {
			return "", gatehouse.Invalid("filter", "%s is compared with eq", f.Attribute)
		}
		return `EXISTS (SELECT 1 FROM user_group_members gm JOIN memberships gmm ON gmm.account_id = gm.account_id
			AND gmm.user_id = gm.user_id WHERE gm.group_id = g.id AND gmm.id = ` + args.add(f.Value) + `)`, nil
	}
	if col.boolean {
		var want bool
		switch {
		case f.Op == "pr":
			return "TRUE", nil
		case f.Op != "eq" && f.Op != "ne":
			return "", gatehouse.Invalid("filter", "%s is compared with eq or ne", f.Attribute)
		case f.Value == "true":
			want = true
		case f.Value == "false":
		default:
			return "", gatehouse.Invalid("filter", "%s is true or false", f.Attribute)
		}
		if f.Op == "ne" {
			want = !want
		}
		if want {
			return col.expr, nil
		}
		return "NOT (" + col.expr + ")", nil
	}
	value := f.Value
	if col.fold != nil {
		value = col.fold(value)
	}
	switch f.Op {
	case "pr":
		if col.nullable {
			return col.expr + " IS NOT NULL", nil
		}
		return col.expr + " <> ''", nil
	case "eq":
		return col.expr + " = " + args.add(value), nil
	case "ne":
		return "COALESCE(" + col.expr + ", '') <> " + args.add(value), nil
	case "co":
		return col.expr + " LIKE " + args.add("%"+escapeLike(value)+"%") + ` ESCAPE '\'`, nil
	case "sw":
		return col.expr + " LIKE " + args.add(escapeLike(value)+"%") + ` ESCAPE '\'`, nil
	case "ew":
		return col.expr + " LIKE " + args.add("%"+escapeLike(value)) + ` ESCAPE '\'`, nil
	}
	return "", gatehouse.Invalid("filter", "the operator %s is not supported; use eq, ne, co, sw, ew or pr", strconv.Quote(f.Op))
}
