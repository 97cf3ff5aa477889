package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/versionbatch"
)

// Roles, folders, groups and grants (R-A1…R-A5), and the account's authz
// version that lets check caches know when they are out of date.

func (r reader) AuthzVersion(ctx context.Context, accountID string) (gatehouse.AuthzVersion, error) {
	return r.AuthzVersionAsked(ctx, accountID, "")
}

// AuthzVersionAsked is AuthzVersion for a check asked with a check token
// the node trusted from memory: checkTokenID, when set, must still be live,
// else EUNAUTHENTICATED (before ENOTFOUND for an unknown account). On
// PostgreSQL both come from one query, shared with concurrent checks
// (versionbatch); on SQLite the version is in memory and the token is read.
func (r reader) AuthzVersionAsked(ctx context.Context, accountID, checkTokenID string) (gatehouse.AuthzVersion, error) {
	if r.sharedVersions != nil {
		return r.sharedVersions.Get(ctx, accountID, checkTokenID)
	}
	if checkTokenID != "" {
		if err := r.ConfirmCheckToken(ctx, checkTokenID); err != nil {
			return gatehouse.AuthzVersion{}, err
		}
	}
	if r.versions != nil {
		if v, ok := r.versions.Get(accountID); ok {
			return v, nil
		}
	}
	v, integratorID, err := r.readAuthzVersion(ctx, accountID)
	if err != nil || r.versions == nil {
		return v, err
	}
	r.versions.Learn(accountID, integratorID)
	v, _ = r.versions.Get(accountID)
	return v, nil
}

// readAuthzVersion reads one account's version, with its integrator's, from
// the database.
func (r reader) readAuthzVersion(ctx context.Context, accountID string) (gatehouse.AuthzVersion, string, error) {
	var (
		v            gatehouse.AuthzVersion
		integratorID sql.NullString
	)
	err := r.q.QueryRowContext(ctx, `SELECT a.authz_version, a.integrator_id, COALESCE(i.authz_version, 0)
		FROM accounts a LEFT JOIN accounts i ON i.id = a.integrator_id WHERE a.id = $1`, accountID).Scan(&v.Own, &integratorID, &v.Integrator)
	if err == sql.ErrNoRows {
		return v, "", gatehouse.NotFound("account")
	}
	return v, integratorID.String, mapErr(err)
}

// authzVersions reads the versions of several accounts and the liveness of
// several check tokens in one query (PostgreSQL, for versionbatch): an
// account missing from the answer does not exist.
func (r reader) authzVersions(ctx context.Context, accountIDs, checkTokenIDs []string) (versionbatch.Answer, error) {
	answer := versionbatch.Answer{Versions: make(map[string]gatehouse.AuthzVersion, len(accountIDs)), LiveCheckTokens: map[string]bool{}}
	if len(accountIDs) == 1 && len(checkTokenIDs) <= 1 {
		// One check alone, as most reads are at a light load: a one-row
		// query, cheaper for the server than array parameters.
		return answer, r.readOneAuthzVersion(ctx, accountIDs[0], checkTokenIDs, answer)
	}
	// The accounts' rows, then one row a live token with a version of -1.
	rows, err := r.q.QueryContext(ctx, `SELECT a.id, a.authz_version, COALESCE(i.authz_version, 0)
		FROM accounts a LEFT JOIN accounts i ON i.id = a.integrator_id WHERE a.id = ANY($1)
		UNION ALL SELECT id, -1, -1 FROM check_tokens WHERE id = ANY($2) AND revoked_at IS NULL`, accountIDs, checkTokenIDs)
	if err != nil {
		return answer, mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			v  gatehouse.AuthzVersion
		)
		if err := rows.Scan(&id, &v.Own, &v.Integrator); err != nil {
			return answer, mapErr(err)
		}
		if v.Own < 0 {
			answer.LiveCheckTokens[id] = true
		} else {
			answer.Versions[id] = v
		}
	}
	return answer, mapErr(rows.Err())
}

// readOneAuthzVersion fills answer for one account and at most one check
// token. The query always returns its one row, so that the token is
// confirmed even when the account does not exist.
func (r reader) readOneAuthzVersion(ctx context.Context, accountID string, checkTokenIDs []string, answer versionbatch.Answer) error {
	if len(checkTokenIDs) == 0 {
		v, _, err := r.readAuthzVersion(ctx, accountID)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil
		} else if err == nil {
			answer.Versions[accountID] = v
		}
		return err
	}
	var (
		own, integrator sql.NullInt64
		live            bool
	)
	err := r.q.QueryRowContext(ctx, `SELECT v.own, v.integrator,
			EXISTS (SELECT 1 FROM check_tokens WHERE id = $2 AND revoked_at IS NULL)
		FROM (SELECT 1) one LEFT JOIN (SELECT a.authz_version own, COALESCE(i.authz_version, 0) integrator
			FROM accounts a LEFT JOIN accounts i ON i.id = a.integrator_id WHERE a.id = $1) v ON true`,
		accountID, checkTokenIDs[0]).Scan(&own, &integrator, &live)
	if err != nil {
		return mapErr(err)
	}
	if own.Valid {
		answer.Versions[accountID] = gatehouse.AuthzVersion{Own: own.Int64, Integrator: integrator.Int64}
	}
	answer.LiveCheckTokens[checkTokenIDs[0]] = live
	return nil
}

// BumpAuthzVersion raises the account's version once per transaction. On
// PostgreSQL the UPDATE also locks the account row until the transaction
// ends, which serialises every change of one account's access rules; on
// SQLite the one writer does that, and the version rises in the book when
// the transaction commits.
func (t *tx) BumpAuthzVersion(ctx context.Context, accountID string) error {
	if _, done := t.bumped[accountID]; done {
		return nil
	}
	if t.bumped == nil {
		t.bumped = map[string]int64{}
	}
	if t.dialect == SQLite {
		t.bumped[accountID] = 0
		return nil
	}
	var v int64
	err := t.q.QueryRowContext(ctx, `UPDATE accounts SET authz_version = authz_version + 1 WHERE id = $1 RETURNING authz_version`,
		accountID).Scan(&v)
	if err == sql.ErrNoRows {
		return gatehouse.NotFound("account")
	} else if err != nil {
		return mapErr(err)
	}
	t.bumped[accountID] = v
	return nil
}

// AccessSnapshot reads the version first: rows read after it are at least as
// new, so a snapshot may be newer than its version says (then the next check
// reloads it) but never older.
func (r reader) AccessSnapshot(ctx context.Context, accountID string) (gatehouse.AccessSnapshot, error) {
	var snap gatehouse.AccessSnapshot
	version, err := r.AuthzVersion(ctx, accountID)
	if err != nil {
		return snap, err
	}
	account, err := r.Account(ctx, accountID)
	if err != nil {
		return snap, err
	}
	snap.Account, snap.Version = account, version
	if account.IntegratorID != "" {
		err = r.each(ctx, `SELECT id, user_id, level, status, expires_at, suspended_at IS NOT NULL FROM memberships
			WHERE account_id = $1 AND status = 'active' AND level IN ('integrator_admin', 'integrator_user') ORDER BY id`,
			[]any{account.IntegratorID}, func(rows *sql.Rows) error {
				var (
					m         gatehouse.MemberAccess
					expiresAt sql.NullInt64
				)
				err := rows.Scan(&m.MembershipID, &m.UserID, &m.Level, &m.Status, &expiresAt, &m.Suspended)
				m.ExpiresAt = fromNullMicros(expiresAt)
				snap.Staff = append(snap.Staff, m)
				return err
			})
		if err != nil {
			return snap, err
		}
	}

	memberIndex := map[string]int{}
	err = r.each(ctx, `SELECT id, user_id, level, status, home_folder_id, expires_at, suspended_at IS NOT NULL FROM memberships WHERE account_id = $1 ORDER BY id`,
		[]any{accountID}, func(rows *sql.Rows) error {
			var (
				m         gatehouse.MemberAccess
				home      sql.NullString
				expiresAt sql.NullInt64
			)
			if err := rows.Scan(&m.MembershipID, &m.UserID, &m.Level, &m.Status, &home, &expiresAt, &m.Suspended); err != nil {
				return err
			}
			m.HomeFolderID, m.ExpiresAt = home.String, fromNullMicros(expiresAt)
			memberIndex[m.MembershipID] = len(snap.Members)
			snap.Members = append(snap.Members, m)
			return nil
		})
	if err != nil {
		return snap, err
	}
	err = r.each(ctx, `SELECT mr.membership_id, mr.role FROM membership_roles mr JOIN memberships m ON m.id = mr.membership_id
		WHERE m.account_id = $1 ORDER BY mr.membership_id, mr.role`, []any{accountID}, func(rows *sql.Rows) error {
		var membershipID, role string
		if err := rows.Scan(&membershipID, &role); err != nil {
			return err
		}
		if i, ok := memberIndex[membershipID]; ok {
			snap.Members[i].RoleIDs = append(snap.Members[i].RoleIDs, role)
		}
		return nil
	})
	if err != nil {
		return snap, err
	}
	if snap.CustomRoles, err = r.ListRoles(ctx, accountID); err != nil {
		return snap, err
	}
	err = r.each(ctx, `SELECT `+folderColumns+` FROM folders f WHERE f.account_id = $1 ORDER BY f.id`, []any{accountID}, func(rows *sql.Rows) error {
		f, err := scanFolder(rows)
		snap.Folders = append(snap.Folders, f)
		return err
	})
	if err != nil {
		return snap, err
	}
	if snap.Groups, err = r.groups(ctx, accountID, nil, 0); err != nil {
		return snap, err
	}
	snap.GroupMembers = map[string][]string{}
	err = r.each(ctx, `SELECT group_id, user_id FROM user_group_members WHERE account_id = $1 ORDER BY group_id, user_id`,
		[]any{accountID}, func(rows *sql.Rows) error {
			var groupID, userID string
			if err := rows.Scan(&groupID, &userID); err != nil {
				return err
			}
			snap.GroupMembers[groupID] = append(snap.GroupMembers[groupID], userID)
			return nil
		})
	if err != nil {
		return snap, err
	}
	snap.Grants, err = r.grants(ctx, `g.account_id = $1`, accountID)
	return snap, err
}

// each runs a query and calls scan for every row.
func (r reader) each(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// Roles.

func scanRole(row scanner) (gatehouse.Role, error) {
	var (
		role        gatehouse.Role
		permissions string
		createdAt   int64
	)
	err := row.Scan(&role.ID, &role.AccountID, &role.Name, &permissions, &createdAt)
	role.Permissions = gatehouse.PermissionSetOf(strings.Fields(permissions)...)
	role.CreatedAt = fromMicros(createdAt)
	return role, err
}

const roleColumns = `id, account_id, name, permissions, created_at`

func (r reader) Role(ctx context.Context, accountID, id string) (gatehouse.Role, error) {
	role, err := scanRole(r.q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE account_id = $1 AND id = $2`, accountID, id))
	if err == sql.ErrNoRows {
		return role, gatehouse.NotFound("role")
	}
	return role, mapErr(err)
}

func (r reader) RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error) {
	role, err := scanRole(r.q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE account_id = $1 AND name_key = $2`,
		accountID, gatehouse.NameKey(name)))
	if err == sql.ErrNoRows {
		return role, gatehouse.NotFound("role")
	}
	return role, mapErr(err)
}

func (r reader) ListRoles(ctx context.Context, accountID string) ([]gatehouse.Role, error) {
	var roles []gatehouse.Role
	err := r.each(ctx, `SELECT `+roleColumns+` FROM roles WHERE account_id = $1 ORDER BY name_key, id`, []any{accountID},
		func(rows *sql.Rows) error {
			role, err := scanRole(rows)
			roles = append(roles, role)
			return err
		})
	return roles, err
}

func (r reader) RoleInUse(ctx context.Context, accountID, roleID string) (bool, error) {
	var inUse bool
	err := r.q.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM membership_roles mr JOIN memberships m ON m.id = mr.membership_id WHERE mr.role = $2 AND m.account_id = $1)
		OR EXISTS (SELECT 1 FROM user_group_roles gr JOIN user_groups g ON g.id = gr.group_id WHERE gr.role_id = $2 AND g.account_id = $1)
		OR EXISTS (SELECT 1 FROM folder_grants WHERE account_id = $1 AND role_id = $2)`, accountID, roleID).Scan(&inUse)
	return inUse, mapErr(err)
}

func (t *tx) InsertRole(ctx context.Context, role gatehouse.Role) error {
	if err := t.BumpAuthzVersion(ctx, role.AccountID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO roles (id, account_id, name, name_key, permissions, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		role.ID, role.AccountID, role.Name, gatehouse.NameKey(role.Name), strings.Join(role.Permissions.Names(), " "), micros(role.CreatedAt))
	return mapErr(err)
}

func (t *tx) UpdateRole(ctx context.Context, role gatehouse.Role) error {
	if err := t.BumpAuthzVersion(ctx, role.AccountID); err != nil {
		return err
	}
	return t.guarded(ctx, "role", `UPDATE roles SET name = $3, name_key = $4, permissions = $5 WHERE account_id = $1 AND id = $2`,
		role.AccountID, role.ID, role.Name, gatehouse.NameKey(role.Name), strings.Join(role.Permissions.Names(), " "))
}

func (t *tx) DeleteRole(ctx context.Context, accountID, id string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	return t.guarded(ctx, "role", `DELETE FROM roles WHERE account_id = $1 AND id = $2`, accountID, id)
}

// Folders.

const folderColumns = `f.id, f.account_id, f.parent_id, f.name, f.created_at`

func scanFolder(row scanner) (gatehouse.Folder, error) {
	var (
		f         gatehouse.Folder
		parent    sql.NullString
		createdAt int64
	)
	err := row.Scan(&f.ID, &f.AccountID, &parent, &f.Name, &createdAt)
	f.ParentID, f.CreatedAt = parent.String, fromMicros(createdAt)
	return f, err
}

func (r reader) Folder(ctx context.Context, accountID, id string) (gatehouse.Folder, error) {
	f, err := scanFolder(r.q.QueryRowContext(ctx, `SELECT `+folderColumns+` FROM folders f WHERE f.account_id = $1 AND f.id = $2`, accountID, id))
	if err == sql.ErrNoRows {
		return f, gatehouse.NotFound("folder")
	}
	return f, mapErr(err)
}

// FolderLineage returns the folder and its ancestors, the folder first. The
// walk stops after MaxFolderDepth+1 steps, so even a corrupt tree cannot make
// it loop.
func (r reader) FolderLineage(ctx context.Context, accountID, id string) ([]gatehouse.Folder, error) {
	var lineage []gatehouse.Folder
	err := r.each(ctx, `WITH RECURSIVE lineage (id, parent_id, steps) AS (
			SELECT id, parent_id, 0 FROM folders WHERE account_id = $1 AND id = $2
			UNION ALL
			SELECT f.id, f.parent_id, l.steps + 1 FROM folders f JOIN lineage l ON f.id = l.parent_id
			WHERE f.account_id = $1 AND l.steps <= $3)
		SELECT `+folderColumns+` FROM lineage l JOIN folders f ON f.id = l.id ORDER BY l.steps`,
		[]any{accountID, id, gatehouse.MaxFolderDepth}, func(rows *sql.Rows) error {
			f, err := scanFolder(rows)
			lineage = append(lineage, f)
			return err
		})
	if err == nil && len(lineage) == 0 {
		err = gatehouse.NotFound("folder")
	}
	return lineage, err
}

// FolderHeight counts the levels of the subtree under a folder, the folder
// included (1 for a folder without subfolders).
func (r reader) FolderHeight(ctx context.Context, accountID, id string) (int, error) {
	var height int
	err := r.q.QueryRowContext(ctx, `WITH RECURSIVE subtree (id, level) AS (
			SELECT id, 1 FROM folders WHERE account_id = $1 AND id = $2
			UNION ALL
			SELECT f.id, s.level + 1 FROM folders f JOIN subtree s ON f.parent_key = s.id
			WHERE f.account_id = $1 AND s.level <= $3)
		SELECT COALESCE(MAX(level), 0) FROM subtree`, accountID, id, gatehouse.MaxFolderDepth).Scan(&height)
	return height, mapErr(err)
}

func (r reader) FolderHasChildren(ctx context.Context, accountID, id string) (bool, error) {
	var has bool
	err := r.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM folders WHERE account_id = $1 AND parent_key = $2)`, accountID, id).Scan(&has)
	return has, mapErr(err)
}

func (t *tx) InsertFolder(ctx context.Context, f gatehouse.Folder) error {
	if err := t.BumpAuthzVersion(ctx, f.AccountID); err != nil {
		return err
	}
	parent := sql.NullString{String: f.ParentID, Valid: f.ParentID != ""}
	_, err := t.q.ExecContext(ctx, `INSERT INTO folders (id, account_id, parent_id, parent_key, name, name_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, f.ID, f.AccountID, parent, f.ParentID, f.Name, gatehouse.NameKey(f.Name), micros(f.CreatedAt))
	return mapErr(err)
}

func (t *tx) UpdateFolder(ctx context.Context, f gatehouse.Folder) error {
	if err := t.BumpAuthzVersion(ctx, f.AccountID); err != nil {
		return err
	}
	parent := sql.NullString{String: f.ParentID, Valid: f.ParentID != ""}
	return t.guarded(ctx, "folder", `UPDATE folders SET parent_id = $3, parent_key = $4, name = $5, name_key = $6
		WHERE account_id = $1 AND id = $2`, f.AccountID, f.ID, parent, f.ParentID, f.Name, gatehouse.NameKey(f.Name))
}

// DeleteFolder removes a folder, the grants on it, and the home folder
// choices that named it.
func (t *tx) DeleteFolder(ctx context.Context, accountID, id string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM folder_grants WHERE account_id = $1 AND folder_id = $2`, accountID, id); err != nil {
		return mapErr(err)
	}
	if _, err := t.q.ExecContext(ctx, `UPDATE memberships SET home_folder_id = NULL WHERE account_id = $1 AND home_folder_id = $2`, accountID, id); err != nil {
		return mapErr(err)
	}
	return t.guarded(ctx, "folder", `DELETE FROM folders WHERE account_id = $1 AND id = $2`, accountID, id)
}

// ReachesFolder tells whether the user holds any role on the folder through
// a grant to them or to one of their groups on it or above it, or holds any
// role account-wide through a group. (Membership roles and levels, which
// reach every folder, are the caller's to consider.)
func (r reader) ReachesFolder(ctx context.Context, accountID, userID, folderID string) (bool, error) {
	var reaches bool
	err := r.q.QueryRowContext(ctx, `WITH RECURSIVE lineage (id, parent_id, steps) AS (
			SELECT id, parent_id, 0 FROM folders WHERE account_id = $1 AND id = $3
			UNION ALL
			SELECT f.id, f.parent_id, l.steps + 1 FROM folders f JOIN lineage l ON f.id = l.parent_id
			WHERE f.account_id = $1 AND l.steps <= $4),
		my_groups (group_id) AS (SELECT group_id FROM user_group_members WHERE account_id = $1 AND user_id = $2)
		SELECT EXISTS (SELECT 1 FROM folder_grants g WHERE g.account_id = $1 AND g.folder_id IN (SELECT id FROM lineage)
				AND (g.user_id = $2 OR g.group_id IN (SELECT group_id FROM my_groups)))
			OR EXISTS (SELECT 1 FROM user_group_roles gr WHERE gr.group_id IN (SELECT group_id FROM my_groups))`,
		accountID, userID, folderID, gatehouse.MaxFolderDepth).Scan(&reaches)
	return reaches, mapErr(err)
}

func (t *tx) SetMembershipLevel(ctx context.Context, accountID, membershipID string, level gatehouse.Level) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	return t.guarded(ctx, "user", `UPDATE memberships SET level = $3 WHERE account_id = $1 AND id = $2`, accountID, membershipID, string(level))
}

func (t *tx) SetMembershipHomeFolder(ctx context.Context, accountID, membershipID, folderID string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	home := sql.NullString{String: folderID, Valid: folderID != ""}
	return t.guarded(ctx, "user", `UPDATE memberships SET home_folder_id = $3 WHERE account_id = $1 AND id = $2`, accountID, membershipID, home)
}

// Groups.

// groups reads an account's groups with their roles, in name order, after
// the (name key, id) position given if any: limit of them, or all when limit
// is 0.
func (r reader) groups(ctx context.Context, accountID string, after []string, limit int) ([]gatehouse.Group, error) {
	args := argList{accountID}
	query := `SELECT id, account_id, name, created_at FROM user_groups WHERE account_id = $1`
	if len(after) == 2 {
		query += " AND (name_key, id) > (" + args.add(after[0]) + ", " + args.add(after[1]) + ")"
	}
	query += " ORDER BY name_key, id"
	if limit > 0 {
		query += " LIMIT " + args.add(limit)
	}
	var groups []gatehouse.Group
	index := map[string]int{}
	err := r.each(ctx, query, args, func(rows *sql.Rows) error {
		var (
			g         gatehouse.Group
			createdAt int64
		)
		err := rows.Scan(&g.ID, &g.AccountID, &g.Name, &createdAt)
		g.CreatedAt = fromMicros(createdAt)
		index[g.ID] = len(groups)
		groups = append(groups, g)
		return err
	})
	if err != nil || len(groups) == 0 {
		return groups, err
	}
	err = r.each(ctx, `SELECT gr.group_id, gr.role_id FROM user_group_roles gr JOIN user_groups g ON g.id = gr.group_id
		WHERE g.account_id = $1 ORDER BY gr.group_id, gr.role_id`, []any{accountID}, func(rows *sql.Rows) error {
		var groupID, roleID string
		if err := rows.Scan(&groupID, &roleID); err != nil {
			return err
		}
		if i, ok := index[groupID]; ok {
			groups[i].RoleIDs = append(groups[i].RoleIDs, roleID)
		}
		return nil
	})
	return groups, err
}

func (r reader) Group(ctx context.Context, accountID, id string) (gatehouse.Group, error) {
	var (
		g         gatehouse.Group
		createdAt int64
	)
	err := r.q.QueryRowContext(ctx, `SELECT id, account_id, name, created_at FROM user_groups WHERE account_id = $1 AND id = $2`,
		accountID, id).Scan(&g.ID, &g.AccountID, &g.Name, &createdAt)
	if err == sql.ErrNoRows {
		return g, gatehouse.NotFound("group")
	} else if err != nil {
		return g, mapErr(err)
	}
	g.CreatedAt = fromMicros(createdAt)
	err = r.each(ctx, `SELECT role_id FROM user_group_roles WHERE group_id = $1 ORDER BY role_id`, []any{id}, func(rows *sql.Rows) error {
		var roleID string
		err := rows.Scan(&roleID)
		g.RoleIDs = append(g.RoleIDs, roleID)
		return err
	})
	return g, err
}

func (r reader) ListGroups(ctx context.Context, accountID string, pr gatehouse.PageRequest) (gatehouse.Page[gatehouse.Group], error) {
	var page gatehouse.Page[gatehouse.Group]
	after, err := decodeCursor(pr.Cursor, 2)
	if err != nil {
		return page, err
	}
	limit := pageLimit(pr.Limit)
	groups, err := r.groups(ctx, accountID, after, limit+1)
	if err != nil {
		return page, err
	}
	if len(groups) > limit {
		groups = groups[:limit]
		last := groups[limit-1]
		page.NextCursor = encodeCursor(gatehouse.NameKey(last.Name), last.ID)
	}
	page.Items = groups
	return page, nil
}

func (r reader) GroupMemberIDs(ctx context.Context, accountID, groupID string) ([]string, error) {
	var ids []string
	err := r.each(ctx, `SELECT user_id FROM user_group_members WHERE account_id = $1 AND group_id = $2 ORDER BY user_id`,
		[]any{accountID, groupID}, func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			ids = append(ids, id)
			return err
		})
	return ids, err
}

func (t *tx) InsertGroup(ctx context.Context, g gatehouse.Group) error {
	if err := t.BumpAuthzVersion(ctx, g.AccountID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO user_groups (id, account_id, name, name_key, created_at) VALUES ($1, $2, $3, $4, $5)`,
		g.ID, g.AccountID, g.Name, gatehouse.NameKey(g.Name), micros(g.CreatedAt))
	if err != nil {
		return mapErr(err)
	}
	return t.setGroupRoles(ctx, g.ID, g.RoleIDs)
}

// UpdateGroup stores a group's name and roles.
func (t *tx) UpdateGroup(ctx context.Context, g gatehouse.Group) error {
	if err := t.BumpAuthzVersion(ctx, g.AccountID); err != nil {
		return err
	}
	err := t.guarded(ctx, "group", `UPDATE user_groups SET name = $3, name_key = $4 WHERE account_id = $1 AND id = $2`,
		g.AccountID, g.ID, g.Name, gatehouse.NameKey(g.Name))
	if err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM user_group_roles WHERE group_id = $1`, g.ID); err != nil {
		return mapErr(err)
	}
	return t.setGroupRoles(ctx, g.ID, g.RoleIDs)
}

func (t *tx) setGroupRoles(ctx context.Context, groupID string, roleIDs []string) error {
	for _, roleID := range roleIDs {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO user_group_roles (group_id, role_id) VALUES ($1, $2)`, groupID, roleID); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// DeleteGroup removes a group with its members, roles and grants.
func (t *tx) DeleteGroup(ctx context.Context, accountID, id string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM folder_grants WHERE account_id = $1 AND group_id = $2`, accountID, id); err != nil {
		return mapErr(err)
	}
	return t.guarded(ctx, "group", `DELETE FROM user_groups WHERE account_id = $1 AND id = $2`, accountID, id)
}

// AddGroupMember returns ECONFLICT when the user is in the group already.
func (t *tx) AddGroupMember(ctx context.Context, accountID, groupID, userID string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO user_group_members (group_id, user_id, account_id) VALUES ($1, $2, $3)`, groupID, userID, accountID)
	return mapErr(err)
}

func (t *tx) RemoveGroupMember(ctx context.Context, accountID, groupID, userID string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	return t.guarded(ctx, "group member", `DELETE FROM user_group_members WHERE account_id = $1 AND group_id = $2 AND user_id = $3`,
		accountID, groupID, userID)
}

// Grants.

const grantColumns = `g.id, g.account_id, g.folder_id, g.user_id, g.group_id, g.role_id, g.created_at, g.expires_at`

func (r reader) grants(ctx context.Context, where string, args ...any) ([]gatehouse.Grant, error) {
	var grants []gatehouse.Grant
	err := r.each(ctx, `SELECT `+grantColumns+` FROM folder_grants g WHERE `+where+` ORDER BY g.id`, args, func(rows *sql.Rows) error {
		g, err := scanGrant(rows)
		grants = append(grants, g)
		return err
	})
	return grants, err
}

func scanGrant(row scanner) (gatehouse.Grant, error) {
	var (
		g               gatehouse.Grant
		userID, groupID sql.NullString
		createdAt       int64
		expiresAt       sql.NullInt64
	)
	err := row.Scan(&g.ID, &g.AccountID, &g.FolderID, &userID, &groupID, &g.RoleID, &createdAt, &expiresAt)
	g.UserID, g.GroupID, g.CreatedAt, g.ExpiresAt = userID.String, groupID.String, fromMicros(createdAt), fromNullMicros(expiresAt)
	return g, err
}

func (r reader) Grant(ctx context.Context, accountID, id string) (gatehouse.Grant, error) {
	g, err := scanGrant(r.q.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM folder_grants g WHERE g.account_id = $1 AND g.id = $2`, accountID, id))
	if err == sql.ErrNoRows {
		return g, gatehouse.NotFound("grant")
	}
	return g, mapErr(err)
}

// FolderGrants lists the grants on one folder, oldest first.
func (r reader) FolderGrants(ctx context.Context, accountID, folderID string) ([]gatehouse.Grant, error) {
	return r.grants(ctx, `g.account_id = $1 AND g.folder_id = $2`, accountID, folderID)
}

// InsertGrant returns ECONFLICT when the same role is granted to the same
// subject on the same folder already.
func (t *tx) InsertGrant(ctx context.Context, g gatehouse.Grant) error {
	if err := t.BumpAuthzVersion(ctx, g.AccountID); err != nil {
		return err
	}
	userID := sql.NullString{String: g.UserID, Valid: g.UserID != ""}
	groupID := sql.NullString{String: g.GroupID, Valid: g.GroupID != ""}
	_, err := t.q.ExecContext(ctx, `INSERT INTO folder_grants (id, account_id, folder_id, user_id, group_id, role_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, g.ID, g.AccountID, g.FolderID, userID, groupID, g.RoleID, micros(g.CreatedAt),
		nullMicros(g.ExpiresAt))
	return mapErr(err)
}

// ExpiredGrants lists, soonest ended first, at most limit grants that have
// ended by themselves at now.
func (r reader) ExpiredGrants(ctx context.Context, now time.Time, limit int) ([]gatehouse.Grant, error) {
	var grants []gatehouse.Grant
	err := r.each(ctx, `SELECT `+grantColumns+` FROM folder_grants g WHERE g.expires_at IS NOT NULL AND g.expires_at <= $1
		ORDER BY g.expires_at, g.id LIMIT $2`, []any{micros(now), limit}, func(rows *sql.Rows) error {
		g, err := scanGrant(rows)
		grants = append(grants, g)
		return err
	})
	return grants, err
}

// DeleteExpiredGrant removes a grant of the account that has ended by
// itself at now. The delete is guarded: a grant that is gone, or that does
// not end by now, is ENOTFOUND, so of two nodes sweeping at once only one
// removes it.
func (t *tx) DeleteExpiredGrant(ctx context.Context, accountID, id string, now time.Time) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	return t.guarded(ctx, "grant", `DELETE FROM folder_grants WHERE account_id = $1 AND id = $2
		AND expires_at IS NOT NULL AND expires_at <= $3`, accountID, id, micros(now))
}

func (t *tx) DeleteGrant(ctx context.Context, accountID, id string) error {
	if err := t.BumpAuthzVersion(ctx, accountID); err != nil {
		return err
	}
	return t.guarded(ctx, "grant", `DELETE FROM folder_grants WHERE account_id = $1 AND id = $2`, accountID, id)
}

// Check tokens.

func (r reader) CheckTokenByHash(ctx context.Context, hash []byte) (gatehouse.CheckToken, error) {
	tok, err := scanCheckToken(r.q.QueryRowContext(ctx, `SELECT `+checkTokenColumns+` FROM check_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, hash))
	if err == sql.ErrNoRows {
		return tok, gatehouse.NotFound("check token")
	}
	return tok, mapErr(err)
}

const checkTokenColumns = `id, name, created_by, created_at, revoked_at`

func scanCheckToken(row scanner) (gatehouse.CheckToken, error) {
	var (
		tok       gatehouse.CheckToken
		createdAt int64
		revokedAt sql.NullInt64
	)
	err := row.Scan(&tok.ID, &tok.Name, &tok.CreatedBy, &createdAt, &revokedAt)
	tok.CreatedAt, tok.RevokedAt = fromMicros(createdAt), fromNullMicros(revokedAt)
	return tok, err
}

// ConfirmCheckToken is nil while the check token is live, EUNAUTHENTICATED
// once it is revoked or when there is none by that id.
func (r reader) ConfirmCheckToken(ctx context.Context, id string) error {
	var live bool
	if err := r.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM check_tokens WHERE id = $1 AND revoked_at IS NULL)`, id).Scan(&live); err != nil {
		return mapErr(err)
	}
	if !live {
		return gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "missing or invalid token")
	}
	return nil
}

// ListCheckTokens lists the live check tokens, newest first.
func (r reader) ListCheckTokens(ctx context.Context) ([]gatehouse.CheckToken, error) {
	var tokens []gatehouse.CheckToken
	err := r.each(ctx, `SELECT `+checkTokenColumns+` FROM check_tokens WHERE revoked_at IS NULL ORDER BY id DESC`, nil, func(rows *sql.Rows) error {
		tok, err := scanCheckToken(rows)
		tokens = append(tokens, tok)
		return err
	})
	return tokens, err
}

func (t *tx) InsertCheckToken(ctx context.Context, tok gatehouse.CheckToken, hash []byte) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO check_tokens (id, name, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5)`,
		tok.ID, tok.Name, hash, tok.CreatedBy, micros(tok.CreatedAt))
	return mapErr(err)
}

func (t *tx) RevokeCheckToken(ctx context.Context, id string, now time.Time) error {
	return t.guarded(ctx, "check token", `UPDATE check_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, micros(now))
}
