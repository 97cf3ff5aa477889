package gatehouse

import (
	"math/bits"
	"slices"
	"strings"
	"time"
)

// Permissions is the fixed catalogue of what roles may grant (R-A1). See
// docs/permissions.md. The order is the bit order of PermissionSet; append
// only.
var Permissions = []string{
	"cameras.view", "cameras.control",
	"media.view", "media.edit",
	"screens.view", "screens.manage",
	"folders.manage",
	"users.view",
}

// ValidPermission tells whether p is in the catalogue.
func ValidPermission(p string) bool { return slices.Contains(Permissions, p) }

// PermissionSet is a set of catalogue permissions, one bit each, so that a
// check is a few AND operations.
type PermissionSet uint64

// AllPermissions holds the whole catalogue.
var AllPermissions = PermissionSetOf(Permissions...)

// PermissionBit returns the set holding p alone, or 0 when p is not in the
// catalogue.
func PermissionBit(p string) PermissionSet {
	if i := slices.Index(Permissions, p); i >= 0 {
		return 1 << i
	}
	return 0
}

// PermissionSetOf returns the set of the named permissions; unknown names are
// left out.
func PermissionSetOf(names ...string) PermissionSet {
	var s PermissionSet
	for _, n := range names {
		s |= PermissionBit(n)
	}
	return s
}

// Has tells whether every permission of q is in s.
func (s PermissionSet) Has(q PermissionSet) bool { return q != 0 && s&q == q }

// Names lists the permissions of s in catalogue order.
func (s PermissionSet) Names() []string {
	names := make([]string, 0, bits.OnesCount64(uint64(s)))
	for i, p := range Permissions {
		if s&(1<<i) != 0 {
			names = append(names, p)
		}
	}
	return names
}

// BuiltinRolePermissions are the built-in roles: viewer ⊂ editor ⊂ manager
// (the API reference at /api/docs).
var BuiltinRolePermissions = map[string][]string{
	"viewer":  {"media.view"},
	"editor":  {"media.view", "media.edit"},
	"manager": {"media.view", "media.edit", "folders.manage"},
}

// BuiltinRoles are the roles every account has (R-A1), in the order lists
// show them. A built-in role's id is its name.
var BuiltinRoles = []string{"viewer", "editor", "manager"}

// IsBuiltinRole tells whether id names a built-in role.
func IsBuiltinRole(id string) bool { return slices.Contains(BuiltinRoles, id) }

// LevelPermissions are what a level holds in its account by itself, whatever
// its roles: the remote monitoring user views and controls cameras;
// administrators hold the whole catalogue, since they manage the account.
func LevelPermissions(l Level) PermissionSet {
	switch l {
	case LevelRemoteMonitoring:
		return PermissionSetOf("cameras.view", "cameras.control")
	case LevelIntegratorAdmin, LevelIntegratorUser, LevelClientAdmin:
		return AllPermissions
	}
	return 0
}

// Role is a named set of permissions: a built-in role, or a custom role of
// one account (R-A1).
type Role struct {
	ID          string
	AccountID   string // empty for built-in roles
	Name        string
	Permissions PermissionSet
	Builtin     bool
	CreatedAt   time.Time
}

// BuiltinRole returns the built-in role with this id.
func BuiltinRole(id string) (Role, bool) {
	perms, ok := BuiltinRolePermissions[id]
	return Role{ID: id, Name: id, Permissions: PermissionSetOf(perms...), Builtin: true}, ok
}

// Folder is one node of an account's folder tree (R-A2). ParentID is empty at
// the top of the tree.
type Folder struct {
	ID        string
	AccountID string
	ParentID  string
	Name      string
	CreatedAt time.Time
}

// MaxFolderDepth bounds the tree, so that every walk from a folder to the top
// is short. The top level is depth 1.
const MaxFolderDepth = 20

// Group is a named set of members of one account (R-A4). Its roles are held
// account-wide by each member.
type Group struct {
	ID        string
	AccountID string
	Name      string
	RoleIDs   []string
	CreatedAt time.Time
}

// Grant gives a role on a folder and everything under it to one user or one
// group (R-A2, R-A4): exactly one of UserID and GroupID is set.
type Grant struct {
	ID        string
	AccountID string
	FolderID  string
	UserID    string
	GroupID   string
	RoleID    string
	CreatedAt time.Time
	// ExpiresAt is when the grant ends by itself; zero for never.
	ExpiresAt time.Time
}

// Expired tells whether the grant has ended by itself at now.
func (g Grant) Expired(now time.Time) bool { return Expired(g.ExpiresAt, now) }

// MaxLabelLen bounds the names of roles, folders and groups.
const MaxLabelLen = 100

// ValidateLabel checks the name of a role, folder or group and returns it
// trimmed. A slash is refused because folder paths are written with it.
func ValidateLabel(field, name string) (string, error) {
	name, err := validateText(field, name, "%s is required", MaxLabelLen)
	if err == nil && strings.Contains(name, "/") {
		return "", Invalid(field, "%s may not contain a slash", field)
	}
	return name, err
}

// AuthzVersion is where an account's access rules stand: its own version
// and, for a client account, its integrator's, whose staff act on it.
type AuthzVersion struct{ Own, Integrator int64 }

// AtLeast tells whether v is as new as w in both parts.
func (v AuthzVersion) AtLeast(w AuthzVersion) bool {
	return v.Own >= w.Own && v.Integrator >= w.Integrator
}

// AccessSnapshot is everything that decides checks in one account, read at
// one authz version: what the check cache holds (internal/access).
type AccessSnapshot struct {
	Account Account
	// Version is the authz version, read before the rest.
	Version AuthzVersion
	Members []MemberAccess
	// Staff are the active integrator administrators and users of a client
	// account's integrator: they hold their level's permissions here too,
	// until their membership of the integrator ends.
	Staff       []MemberAccess
	CustomRoles []Role
	Folders     []Folder
	Groups      []Group
	// GroupMembers maps a group id to the user ids in it.
	GroupMembers map[string][]string
	Grants       []Grant
}

// MemberAccess is what one membership contributes to checks.
type MemberAccess struct {
	MembershipID string
	UserID       string
	Level        Level
	Status       MembershipStatus
	RoleIDs      []string
	HomeFolderID string
	// ExpiresAt is when the membership ends by itself; zero for never.
	ExpiresAt time.Time
	// Suspended is set while the account's directory suspends the
	// membership.
	Suspended bool
}

// Holds tells whether the membership holds access at now: active, not
// suspended, and not ended by itself.
func (m MemberAccess) Holds(now time.Time) bool {
	return m.Status == MembershipActive && !m.Suspended && !Expired(m.ExpiresAt, now)
}
