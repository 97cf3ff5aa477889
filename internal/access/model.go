// Package access answers "may this user do that, here?" (R-A1…R-A5)
// from an in-memory model of one account's rules: its members with their
// levels and roles, its custom roles, its folder tree, its groups and its
// grants. A Model is built from a store snapshot and never changes; a Cache
// keeps one per account and replaces it when the account's authz version
// moves, which every change of those rules does in its own transaction.
//
// Access that ends by itself is in the model with its end: a question
// asked at or after a membership's or a grant's end finds it holding
// nothing, however old the model, so nothing waits for a rebuild or for
// the sweeper that removes it later.
package access

import (
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Model is one account's access rules at one authz version.
type Model struct {
	Account gatehouse.Account
	// Version is the authz version the snapshot was read at.
	Version gatehouse.AuthzVersion

	members map[string]*member // by user id
	// staff are the active integrator staff of a client account's
	// integrator, by user id, with their level there.
	staff map[string]gatehouse.MemberAccess
	// providerUntil is when the service provider's access to cameras and
	// media ends (R-PV1): staff hold them until then, never at it.
	providerUntil time.Time
	byMembership  map[string]*member
	roles         map[string]gatehouse.Role // built-in and custom, by id
	customRoles   []gatehouse.Role          // by name
	groups        []group
	groupIndex    map[string]int32
	folders       []folder
	folderIndex   map[string]int32
	// grantsOn holds the grants on each folder, by folder index.
	grantsOn [][]grant
	// byPath lists folder indexes in path order (case-insensitive).
	byPath []int32
}

type member struct {
	gatehouse.MemberAccess
	index int32
	// groups are the indexes of the member's groups, sorted.
	groups []int32
	// accountWide is what the member holds everywhere in the account: their
	// level's permissions, their roles' and their groups' roles'.
	accountWide gatehouse.PermissionSet
}

type group struct {
	gatehouse.Group
	permissions gatehouse.PermissionSet
}

type folder struct {
	gatehouse.Folder
	parent int32 // -1 at the top
	path   string
	// sortKey orders folders by path without regard to case, each folder
	// right before its subfolders (see pathSortKey).
	sortKey string
	depth   int
}

// grant is a gatehouse.Grant with its subject and permissions resolved.
type grant struct {
	id          string
	folder      int32
	user        int32 // member index, or -1 for a group grant
	group       int32 // group index, or -1 for a user grant
	roleID      string
	permissions gatehouse.PermissionSet
	expiresAt   time.Time // zero: never
}

// NewModel builds the model of a snapshot. Rows that point at nothing (a
// grant whose role was deleted under it, say) are left out rather than
// trusted.
func NewModel(snap gatehouse.AccessSnapshot) *Model {
	m := &Model{
		Account: snap.Account, Version: snap.Version,
		members:      make(map[string]*member, len(snap.Members)),
		byMembership: make(map[string]*member, len(snap.Members)),
		roles:        make(map[string]gatehouse.Role, len(gatehouse.BuiltinRoles)+len(snap.CustomRoles)),
		customRoles:  snap.CustomRoles,
		folderIndex:  make(map[string]int32, len(snap.Folders)),
	}
	for _, id := range gatehouse.BuiltinRoles {
		m.roles[id], _ = gatehouse.BuiltinRole(id)
	}
	m.staff = make(map[string]gatehouse.MemberAccess, len(snap.Staff))
	for _, st := range snap.Staff {
		if st.Status == gatehouse.MembershipActive && st.Level.IsIntegratorStaff() {
			m.staff[st.UserID] = st
		}
	}
	m.providerUntil = snap.Account.ProviderAccessUntil
	for _, r := range snap.CustomRoles {
		m.roles[r.ID] = r
	}
	for i, ma := range snap.Members {
		mem := &member{MemberAccess: ma, index: int32(i), accountWide: gatehouse.LevelPermissions(ma.Level) | m.rolePermissions(ma.RoleIDs)}
		m.members[ma.UserID] = mem
		m.byMembership[ma.MembershipID] = mem
	}
	groupIndex := make(map[string]int32, len(snap.Groups))
	m.groupIndex = groupIndex
	for i, g := range snap.Groups {
		groupIndex[g.ID] = int32(i)
		perms := m.rolePermissions(g.RoleIDs)
		m.groups = append(m.groups, group{Group: g, permissions: perms})
		for _, userID := range snap.GroupMembers[g.ID] {
			if mem := m.members[userID]; mem != nil {
				mem.groups = append(mem.groups, int32(i))
				mem.accountWide |= perms
			}
		}
	}
	for _, mem := range m.members {
		slices.Sort(mem.groups)
	}
	m.buildFolders(snap.Folders)
	m.grantsOn = make([][]grant, len(m.folders))
	for _, g := range snap.Grants {
		fi, ok := m.folderIndex[g.FolderID]
		role, roleOK := m.roles[g.RoleID]
		if !ok || !roleOK {
			continue
		}
		resolved := grant{id: g.ID, folder: fi, user: -1, group: -1, roleID: g.RoleID, permissions: role.Permissions, expiresAt: g.ExpiresAt}
		if g.UserID != "" {
			mem := m.members[g.UserID]
			if mem == nil {
				continue
			}
			resolved.user = mem.index
		} else if gi, ok := groupIndex[g.GroupID]; ok {
			resolved.group = gi
		} else {
			continue
		}
		m.grantsOn[fi] = append(m.grantsOn[fi], resolved)
	}
	return m
}

func (m *Model) rolePermissions(roleIDs []string) gatehouse.PermissionSet {
	var perms gatehouse.PermissionSet
	for _, id := range roleIDs {
		perms |= m.roles[id].Permissions
	}
	return perms
}

// buildFolders indexes the tree and works out each folder's path. A folder
// whose parent is missing, or which sits in a cycle or deeper than the
// limit, is left out: the store refuses to make such trees, and a model
// must never loop.
func (m *Model) buildFolders(folders []gatehouse.Folder) {
	byID := make(map[string]int, len(folders))
	for i, f := range folders {
		byID[f.ID] = i
	}
	const unvisited, visiting, dropped = -2, -3, -4
	index := make([]int32, len(folders))
	for i := range index {
		index[i] = unvisited
	}
	var place func(i int, depth int) int32
	place = func(i int, depth int) int32 {
		switch index[i] {
		case unvisited:
		case visiting:
			return dropped // a cycle
		default:
			return index[i]
		}
		if depth > gatehouse.MaxFolderDepth {
			return dropped
		}
		index[i] = visiting
		f := folders[i]
		parent, parentDepth, parentPath := int32(-1), 0, ""
		if f.ParentID != "" {
			pi, ok := byID[f.ParentID]
			if !ok {
				index[i] = dropped
				return dropped
			}
			if parent = place(pi, depth+1); parent == dropped {
				index[i] = dropped
				return dropped
			}
			parentDepth, parentPath = m.folders[parent].depth, m.folders[parent].path
		}
		path := parentPath + "/" + f.Name
		index[i] = int32(len(m.folders))
		m.folderIndex[f.ID] = index[i]
		m.folders = append(m.folders, folder{Folder: f, parent: parent, path: path, sortKey: pathSortKey(path), depth: parentDepth + 1})
		return index[i]
	}
	for i := range folders {
		place(i, 1)
	}
	m.byPath = make([]int32, len(m.folders))
	for i := range m.byPath {
		m.byPath[i] = int32(i)
	}
	slices.SortFunc(m.byPath, func(a, b int32) int {
		if c := strings.Compare(m.folders[a].sortKey, m.folders[b].sortKey); c != 0 {
			return c
		}
		return strings.Compare(m.folders[a].ID, m.folders[b].ID)
	})
}

// pathSortKey is a path lower-cased, with each slash made the smallest
// character, so that "/a" and everything under it sort before "/a b".
// Folder names hold no control characters (gatehouse.ValidateLabel).
func pathSortKey(path string) string {
	return strings.ReplaceAll(strings.ToLower(path), "/", "\x00")
}

// Allowed answers a check (R-A5): whether the user, through an active
// membership of this account or as active staff of its integrator, holds
// permission everywhere in the account or, when folderID is set, on that
// folder. A folder of another account, or none, is never allowed. Staff
// hold the cameras and media of a client only while the client allows
// its service provider in (R-PV1). now is the instant of the question:
// what ends at a time ends exactly then, whatever the model's age — a
// membership (of the account, or of the integrator for its staff) ended at
// now holds nothing, and a grant ended at now counts for nothing.
func (m *Model) Allowed(userID string, permission gatehouse.PermissionSet, folderID string, now time.Time) bool {
	fi := int32(-1)
	if folderID != "" {
		var ok bool
		if fi, ok = m.folderIndex[folderID]; !ok {
			return false
		}
	}
	// A deleted account allows nothing; a suspended one nothing to its own
	// members but its remote monitoring user (recording goes on), and a
	// suspended integrator nothing to its staff (R-T5).
	if m.Account.Status == gatehouse.AccountDeleted {
		return false
	}
	if st, ok := m.staff[userID]; ok && st.Holds(now) && m.Account.IntegratorStatus != gatehouse.AccountSuspended {
		perms := gatehouse.LevelPermissions(st.Level)
		if !now.Before(m.providerUntil) {
			perms &^= gatehouse.ProviderPrivatePermissions
		}
		if perms.Has(permission) {
			return true
		}
	}
	mem := m.members[userID]
	if mem == nil || !mem.Holds(now) ||
		(m.Account.Status == gatehouse.AccountSuspended && mem.Level != gatehouse.LevelRemoteMonitoring) {
		return false
	}
	if fi < 0 {
		return mem.accountWide.Has(permission)
	}
	return m.permissionsOn(mem, fi, now).Has(permission)
}

// permissionsOn is what a member holds on one folder: everything they hold
// account-wide, and every grant to them or to one of their groups on the
// folder or above it that has not ended at now.
func (m *Model) permissionsOn(mem *member, fi int32, now time.Time) gatehouse.PermissionSet {
	perms := mem.accountWide
	for f := fi; f >= 0; f = m.folders[f].parent {
		for _, g := range m.grantsOn[f] {
			if (g.user == mem.index || (g.group >= 0 && inSorted(mem.groups, g.group))) && !gatehouse.Expired(g.expiresAt, now) {
				perms |= g.permissions
			}
		}
	}
	return perms
}

func inSorted(s []int32, v int32) bool {
	_, found := slices.BinarySearch(s, v)
	return found
}

// HasFolder tells whether the folder is in this account.
func (m *Model) HasFolder(id string) bool {
	_, ok := m.folderIndex[id]
	return ok
}

// Folder returns a folder of the account with its path, such as
// "/Stores/East".
func (m *Model) Folder(id string) (FolderView, bool) {
	fi, ok := m.folderIndex[id]
	if !ok {
		return FolderView{}, false
	}
	return FolderView{Folder: m.folders[fi].Folder, Path: m.folders[fi].path}, true
}

// FolderByPath finds a folder by its path without regard to case.
func (m *Model) FolderByPath(path string) (gatehouse.Folder, bool) {
	key := pathSortKey(strings.TrimRight(strings.TrimSpace(path), "/"))
	i, _ := slices.BinarySearchFunc(m.byPath, key, func(fi int32, key string) int {
		return strings.Compare(m.folders[fi].sortKey, key)
	})
	if i == len(m.byPath) || m.folders[m.byPath[i]].sortKey != key {
		return gatehouse.Folder{}, false
	}
	return m.folders[m.byPath[i]].Folder, true
}

// Everything tells whether the member sees every folder: they hold some
// permission account-wide. Members are looked up whatever their status.
func (m *Model) Everything(userID string) bool {
	mem := m.members[userID]
	return mem != nil && mem.accountWide != 0
}

// FolderView is a folder as lists show it.
type FolderView struct {
	gatehouse.Folder
	Path string
}

// VisibleFolders lists, in path order, the folders the user sees (R-A2):
// every folder when all is true (an administrator, an operator, or a member
// holding a role account-wide), else the folders under the user's grants
// that have not ended at now. It starts after the folder with the given path
// key and id, and stops after limit folders (0: no limit); more tells
// whether any are left.
func (m *Model) VisibleFolders(userID string, all bool, parentID string, afterKey, afterID string, limit int, now time.Time) (views []FolderView, more bool) {
	var visible func(int32) bool
	if !all && !m.Everything(userID) {
		mem := m.members[userID]
		if mem == nil {
			return nil, false
		}
		visible = func(fi int32) bool { return m.permissionsOn(mem, fi, now) != 0 }
	}
	start := 0
	if afterID != "" {
		start, _ = slices.BinarySearchFunc(m.byPath, afterKey, func(fi int32, key string) int {
			return strings.Compare(m.folders[fi].sortKey, key)
		})
		for start < len(m.byPath) && m.folders[m.byPath[start]].sortKey == afterKey && m.folders[m.byPath[start]].ID <= afterID {
			start++
		}
	}
	for _, fi := range m.byPath[start:] {
		f := m.folders[fi]
		if parentID != "" && f.ParentID != parentID {
			continue
		}
		if visible != nil && !visible(fi) {
			continue
		}
		if limit > 0 && len(views) == limit {
			return views, true
		}
		views = append(views, FolderView{Folder: f.Folder, Path: f.path})
	}
	return views, false
}

// SortKey is the sort key of a folder in VisibleFolders, for cursors.
func (m *Model) SortKey(id string) string {
	if fi, ok := m.folderIndex[id]; ok {
		return m.folders[fi].sortKey
	}
	return ""
}

// Reaches tells whether the member (whatever their status) holds anything
// on the folder, through grants that have not ended at now.
func (m *Model) Reaches(userID, folderID string, now time.Time) bool {
	mem := m.members[userID]
	fi, ok := m.folderIndex[folderID]
	return mem != nil && ok && m.permissionsOn(mem, fi, now) != 0
}

// HomeFolder is where the member lands (R-A3): the home folder chosen for
// them while they can still reach it; otherwise, the documented fallback,
// the first folder they can reach in path order (the top of their first
// grant); otherwise none. A choice they lost access to is kept, so it comes
// back if the access does. Grants that ended at now count for nothing.
func (m *Model) HomeFolder(membershipID string, now time.Time) string {
	mem := m.byMembership[membershipID]
	if mem == nil || mem.HomeFolderID == "" {
		return ""
	}
	if m.Reaches(mem.UserID, mem.HomeFolderID, now) {
		return mem.HomeFolderID
	}
	views, _ := m.VisibleFolders(mem.UserID, false, "", "", "", 1, now)
	if len(views) == 0 {
		return ""
	}
	return views[0].ID
}

// Source is one reason a member holds one permission (what the portal shows
// as "effective permissions").
type Source struct {
	Permission string
	// FolderID is where a grant was made (it covers everything under it);
	// empty for what is held account-wide.
	FolderID   string
	FolderPath string
	// Via is "level", "role", "group_role", "grant" or "group_grant".
	Via       string
	Level     gatehouse.Level
	RoleID    string
	RoleName  string
	GroupID   string
	GroupName string
	GrantID   string
}

// Explain lists every permission the membership holds and where each comes
// from, account-wide sources first, then grants in path order of their
// folders. It describes the rules whatever the membership's status or end;
// checks answer no while it is not active or once it ended. Grants that
// ended at now are left out: they give nothing any more.
func (m *Model) Explain(membershipID string, now time.Time) ([]Source, bool) {
	mem := m.byMembership[membershipID]
	if mem == nil {
		return nil, false
	}
	var out []Source
	add := func(perms gatehouse.PermissionSet, s Source) {
		s.RoleName = m.roles[s.RoleID].Name
		if gi, ok := m.groupIndex[s.GroupID]; ok {
			s.GroupName = m.groups[gi].Name
		}
		if fi, ok := m.folderIndex[s.FolderID]; ok {
			s.FolderPath = m.folders[fi].path
		}
		for _, p := range perms.Names() {
			s.Permission = p
			out = append(out, s)
		}
	}
	add(gatehouse.LevelPermissions(mem.Level), Source{Via: "level", Level: mem.Level})
	for _, id := range mem.RoleIDs {
		add(m.roles[id].Permissions, Source{Via: "role", RoleID: id})
	}
	for _, gi := range mem.groups {
		for _, id := range m.groups[gi].RoleIDs {
			add(m.roles[id].Permissions, Source{Via: "group_role", RoleID: id, GroupID: m.groups[gi].ID})
		}
	}
	for _, fi := range m.byPath {
		for _, g := range m.grantsOn[fi] {
			switch {
			case gatehouse.Expired(g.expiresAt, now):
			case g.user == mem.index:
				add(g.permissions, Source{Via: "grant", RoleID: g.roleID, FolderID: m.folders[fi].ID, GrantID: g.id})
			case g.group >= 0 && inSorted(mem.groups, g.group):
				add(g.permissions, Source{Via: "group_grant", RoleID: g.roleID, FolderID: m.folders[fi].ID, GrantID: g.id, GroupID: m.groups[g.group].ID})
			}
		}
	}
	return out, true
}

// RoleByName finds a built-in or custom role by name without regard to
// case, or by id.
func (m *Model) RoleByName(name string) (gatehouse.Role, bool) {
	if r, ok := m.roles[name]; ok {
		return r, true
	}
	key := gatehouse.NameKey(name)
	if r, ok := m.roles[key]; ok && r.Builtin {
		return r, true
	}
	for _, r := range m.customRoles {
		if gatehouse.NameKey(r.Name) == key {
			return r, true
		}
	}
	return gatehouse.Role{}, false
}
