package gatehouse

import "slices"

// Permissions is the fixed catalogue of what roles may grant (R-A1). See
// docs/permissions.md.
var Permissions = []string{
	"cameras.view", "cameras.control",
	"media.view", "media.edit",
	"screens.view", "screens.manage",
	"folders.manage",
	"users.view",
}

// ValidPermission tells whether p is in the catalogue.
func ValidPermission(p string) bool { return slices.Contains(Permissions, p) }

// BuiltinRolePermissions are the built-in roles: viewer ⊂ editor ⊂ manager
// (API.md "Roles, folders, groups, checks").
var BuiltinRolePermissions = map[string][]string{
	"viewer":  {"media.view"},
	"editor":  {"media.view", "media.edit"},
	"manager": {"media.view", "media.edit", "folders.manage"},
}

// LevelPermissions are what a level holds in its account by itself, whatever
// its roles: the remote monitoring user views and controls cameras (issue 4);
// administrators hold the whole catalogue, since they manage the account.
func LevelPermissions(l Level) []string {
	switch l {
	case LevelRemoteMonitoring:
		return []string{"cameras.view", "cameras.control"}
	case LevelIntegratorAdmin, LevelIntegratorUser, LevelClientAdmin:
		return Permissions
	}
	return nil
}
