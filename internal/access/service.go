// Package access is the access-rules context: roles, the folder tree,
// groups, grants, and the checks the platform's services ask ("may this user
// do that, here?"), answered from an in-memory model of each account's rules
// (Model, Cache).
package access

import "github.com/gatehouse/gatehouse/internal/kernel"

// Service holds the access-rules use cases.
type Service struct {
	*kernel.Kernel
	rolesStore   RolesStore
	foldersStore FoldersStore
	groupsStore  GroupsStore
	checksStore  ChecksStore
	// Models caches each account's rules for checks, folder lists, home
	// folders and effective permissions.
	Models *Cache
	// TokenSubjects, when set, lets checks name their subject by an access
	// token of the OpenID Provider.
	TokenSubjects TokenSubjects
}

// New returns the access-rules use cases; the models are built from
// snapshots, and cacheSize is how many accounts'
// models are kept in memory (0: DefaultCapacity).
func New(k *kernel.Kernel, stores Stores, snapshots Snapshots, cacheSize int) *Service {
	return &Service{Kernel: k, rolesStore: stores.Roles, foldersStore: stores.Folders, groupsStore: stores.Groups,
		checksStore: stores.Checks, Models: NewCache(snapshots, cacheSize)}
}

// Stores are the faces of the store this context's use cases see, one per
// group of use cases (see store.go).
type Stores struct {
	Roles   RolesStore
	Folders FoldersStore
	Groups  GroupsStore
	Checks  ChecksStore
}
