package access

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// The store as this context sees it: one narrow interface per group of use
// cases. Every method returns ENOTFOUND for a missing row and ECONFLICT for a
// broken uniqueness rule; other errors are internal. internal/store
// implements them on SQLite and PostgreSQL, held to one contract suite.

// RolesReader is what roles reads.
type RolesReader interface {
	kernel.Reader
	// ListRoles lists the account's custom roles by name.
	ListRoles(ctx context.Context, accountID string) ([]gatehouse.Role, error)
	// Role returns a custom role of the account by id; RoleByName by its name
	// without regard to case.
	Role(ctx context.Context, accountID, id string) (gatehouse.Role, error)
	RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error)
	// RoleInUse tells whether a membership, group or grant holds the role.
	RoleInUse(ctx context.Context, accountID, roleID string) (bool, error)
}

// RolesTx is the transaction roles writes in.
type RolesTx interface {
	RolesReader
	kernel.Writer
	// BumpAuthzVersion raises the account's authz version. The store calls
	// it within every write below that changes who may do what, and within
	// membership writes; a use case calls it first when it must read the
	// account's rules under the lock the bump takes (PostgreSQL).
	BumpAuthzVersion(ctx context.Context, accountID string) error
	DeleteRole(ctx context.Context, accountID, id string) error
	// InsertRole, UpdateRole: ECONFLICT when the name is taken.
	InsertRole(ctx context.Context, r gatehouse.Role) error
	UpdateRole(ctx context.Context, r gatehouse.Role) error
}

// RolesStore is the store as roles sees it.
type RolesStore interface {
	RolesReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(RolesTx) error) error
}

// FoldersReader is what folders reads.
type FoldersReader interface {
	kernel.Reader
	Folder(ctx context.Context, accountID, id string) (gatehouse.Folder, error)
	FolderHasChildren(ctx context.Context, accountID, id string) (bool, error)
	// FolderHeight counts the levels of the subtree under a folder, itself
	// included.
	FolderHeight(ctx context.Context, accountID, id string) (int, error)
	// FolderLineage returns the folder and its ancestors, the folder first,
	// or ENOTFOUND.
	FolderLineage(ctx context.Context, accountID, id string) ([]gatehouse.Folder, error)
}

// FoldersTx is the transaction folders writes in.
type FoldersTx interface {
	FoldersReader
	kernel.Writer
	// BumpAuthzVersion raises the account's authz version. The store calls
	// it within every write below that changes who may do what, and within
	// membership writes; a use case calls it first when it must read the
	// account's rules under the lock the bump takes (PostgreSQL).
	BumpAuthzVersion(ctx context.Context, accountID string) error
	// DeleteFolder removes a folder without subfolders, its grants, and the
	// home folder choices naming it.
	DeleteFolder(ctx context.Context, accountID, id string) error
	// InsertFolder, UpdateFolder: ECONFLICT when a sibling has the name.
	InsertFolder(ctx context.Context, f gatehouse.Folder) error
	UpdateFolder(ctx context.Context, f gatehouse.Folder) error
}

// FoldersStore is the store as folders sees it.
type FoldersStore interface {
	FoldersReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(FoldersTx) error) error
}

// GroupsReader is what groups and grants reads.
type GroupsReader interface {
	kernel.Reader
	Folder(ctx context.Context, accountID, id string) (gatehouse.Folder, error)
	FolderGrants(ctx context.Context, accountID, folderID string) ([]gatehouse.Grant, error)
	Grant(ctx context.Context, accountID, id string) (gatehouse.Grant, error)
	Group(ctx context.Context, accountID, id string) (gatehouse.Group, error)
	GroupMemberIDs(ctx context.Context, accountID, groupID string) ([]string, error)
	ListGroups(ctx context.Context, accountID string, page gatehouse.PageRequest) (gatehouse.Page[gatehouse.Group], error)
	// ListRoles lists the account's custom roles by name.
	ListRoles(ctx context.Context, accountID string) ([]gatehouse.Role, error)
	// MemberByUser returns the user's membership of the account, whatever
	// its status, or ENOTFOUND.
	MemberByUser(ctx context.Context, accountID, userID string) (gatehouse.Member, error)
	// Role returns a custom role of the account by id; RoleByName by its name
	// without regard to case.
	Role(ctx context.Context, accountID, id string) (gatehouse.Role, error)
	RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error)
}

// GroupsTx is the transaction groups and grants writes in.
type GroupsTx interface {
	GroupsReader
	kernel.Writer
	// AddGroupMember: ECONFLICT when the user is in the group already.
	AddGroupMember(ctx context.Context, accountID, groupID, userID string) error
	// BumpAuthzVersion raises the account's authz version. The store calls
	// it within every write below that changes who may do what, and within
	// membership writes; a use case calls it first when it must read the
	// account's rules under the lock the bump takes (PostgreSQL).
	BumpAuthzVersion(ctx context.Context, accountID string) error
	DeleteGrant(ctx context.Context, accountID, id string) error
	// DeleteGroup removes a group with its members, roles and grants.
	DeleteGroup(ctx context.Context, accountID, id string) error
	// InsertGrant: ECONFLICT when the same grant exists.
	InsertGrant(ctx context.Context, g gatehouse.Grant) error
	// InsertGroup, UpdateGroup store a group with its roles; ECONFLICT when
	// the name is taken.
	InsertGroup(ctx context.Context, g gatehouse.Group) error
	RemoveGroupMember(ctx context.Context, accountID, groupID, userID string) error
	UpdateGroup(ctx context.Context, g gatehouse.Group) error
}

// GroupsStore is the store as groups and grants sees it.
type GroupsStore interface {
	GroupsReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(GroupsTx) error) error
}

// ChecksReader is what checks reads.
type ChecksReader interface {
	kernel.Reader
	// ConfirmCheckToken is nil while the check token is live,
	// EUNAUTHENTICATED once it is not.
	ConfirmCheckToken(ctx context.Context, id string) error
}

// ChecksTx is the transaction checks writes in.
type ChecksTx interface {
	ChecksReader
	kernel.Writer
}

// ChecksStore is the store as checks sees it.
type ChecksStore interface {
	ChecksReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(ChecksTx) error) error
}
