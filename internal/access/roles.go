package access

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Roles (R-A1): the built-in viewer ⊂ editor ⊂ manager, and each account's
// custom roles. Roles are held account-wide through a membership or a group,
// or on a folder through a grant. See docs/permissions.md.

// Roles lists the account's roles: the built-in ones, then the custom ones by
// name.
func (s *Service) Roles(ctx context.Context, c gatehouse.Caller, accountID string) ([]gatehouse.Role, error) {
	if _, err := s.Authorize(ctx, s.rolesStore, c, accountID, policy.ReadAccessRules); err != nil {
		return nil, err
	}
	custom, err := s.rolesStore.ListRoles(ctx, accountID)
	if err != nil {
		return nil, err
	}
	roles := make([]gatehouse.Role, 0, len(gatehouse.BuiltinRoles)+len(custom))
	for _, id := range gatehouse.BuiltinRoles {
		r, _ := gatehouse.BuiltinRole(id)
		roles = append(roles, r)
	}
	return append(roles, custom...), nil
}

// Role returns one role of the account, built-in or custom.
func (s *Service) Role(ctx context.Context, c gatehouse.Caller, accountID, roleID string) (gatehouse.Role, error) {
	if _, err := s.Authorize(ctx, s.rolesStore, c, accountID, policy.ReadAccessRules); err != nil {
		return gatehouse.Role{}, err
	}
	if r, ok := gatehouse.BuiltinRole(roleID); ok {
		return r, nil
	}
	return s.rolesStore.Role(ctx, accountID, roleID)
}

// RolePatch changes a custom role; nil fields stay as they are.
type RolePatch struct {
	Name        *string
	Permissions *[]string
}

// CreateRole adds a custom role to the account.
func (s *Service) CreateRole(ctx context.Context, c gatehouse.Caller, accountID, name string, permissions []string) (gatehouse.Role, error) {
	role := gatehouse.Role{ID: s.NewID(), AccountID: accountID}
	if err := applyRolePatch(&role, RolePatch{Name: &name, Permissions: &permissions}); err != nil {
		return gatehouse.Role{}, err
	}
	now := s.Now()
	role.CreatedAt = now
	err := s.rolesStore.Write(ctx, func(tx RolesTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageAccessRules); err != nil {
			return err
		}
		if err := tx.InsertRole(ctx, role); err != nil {
			return roleNameTaken(err, role.Name)
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, accountID, "role.created", "role", role.ID))
	})
	return role, err
}

// UpdateRole renames a custom role or changes its permissions; every holder
// of it holds the new permissions at once.
func (s *Service) UpdateRole(ctx context.Context, c gatehouse.Caller, accountID, roleID string, patch RolePatch) (gatehouse.Role, error) {
	var role gatehouse.Role
	err := s.rolesStore.Write(ctx, func(tx RolesTx) error {
		if _, _, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.ManageAccessRules, policy.Target{BuiltinRole: gatehouse.IsBuiltinRole(roleID)}); err != nil {
			return err
		}
		var err error
		if role, err = tx.Role(ctx, accountID, roleID); err != nil {
			return err
		}
		before := role
		if err := applyRolePatch(&role, patch); err != nil {
			return err
		}
		if err := tx.UpdateRole(ctx, role); err != nil {
			return roleNameTaken(err, role.Name)
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "role.updated", "role", role.ID).
			With("name", before.Name, role.Name).
			With("permissions", strings.Join(before.Permissions.Names(), ", "), strings.Join(role.Permissions.Names(), ", ")))
	})
	return role, err
}

// DeleteRole removes a custom role nobody holds; while a member, group or
// grant holds it the answer is 409 role_in_use (docs/permissions.md).
func (s *Service) DeleteRole(ctx context.Context, c gatehouse.Caller, accountID, roleID string) error {
	return s.rolesStore.Write(ctx, func(tx RolesTx) error {
		if _, _, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.ManageAccessRules, policy.Target{BuiltinRole: gatehouse.IsBuiltinRole(roleID)}); err != nil {
			return err
		}
		// The bump locks the account's rules first, so no grant of the role
		// can be made between the look and the delete.
		if err := tx.BumpAuthzVersion(ctx, accountID); err != nil {
			return err
		}
		if _, err := tx.Role(ctx, accountID, roleID); err != nil {
			return err
		}
		inUse, err := tx.RoleInUse(ctx, accountID, roleID)
		if err != nil {
			return err
		}
		if inUse {
			return gatehouse.Errorf(gatehouse.EROLEINUSE, "the role is held by users, groups or grants; take it from them first")
		}
		if err := tx.DeleteRole(ctx, accountID, roleID); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "role.deleted", "role", roleID))
	})
}

// applyRolePatch validates and applies a patch to a custom role.
func applyRolePatch(role *gatehouse.Role, patch RolePatch) error {
	if patch.Name != nil {
		name, err := gatehouse.ValidateLabel("name", *patch.Name)
		if err != nil {
			return err
		}
		if gatehouse.IsBuiltinRole(gatehouse.NameKey(name)) {
			return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: name + " is the name of a built-in role", Field: "name"}
		}
		role.Name = name
	}
	if patch.Permissions != nil {
		if len(*patch.Permissions) == 0 {
			return gatehouse.Invalid("permissions", "a role needs at least one permission")
		}
		var perms gatehouse.PermissionSet
		for _, p := range *patch.Permissions {
			bit := gatehouse.PermissionBit(strings.TrimSpace(p))
			if bit == 0 {
				return gatehouse.Invalid("permissions", "unknown permission %q; the catalogue is %s", p, strings.Join(gatehouse.Permissions, ", "))
			}
			perms |= bit
		}
		role.Permissions = perms
	}
	return nil
}

func roleNameTaken(err error, name string) error {
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "the account has a role named " + name + " already", Field: "name"}
	}
	return err
}

// ResolveRoles turns role names (without regard to case) or ids into the
// account's roles, without duplicates, in the order given.
// RoleLookup finds an account's roles by id or by name.
type RoleLookup interface {
	Role(ctx context.Context, accountID, id string) (gatehouse.Role, error)
	RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error)
}

func ResolveRoles(ctx context.Context, r RoleLookup, accountID, field string, requested []string) ([]gatehouse.Role, error) {
	roles := make([]gatehouse.Role, 0, len(requested))
	for _, want := range requested {
		role, err := resolveRole(ctx, r, accountID, field, want)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(roles, func(r gatehouse.Role) bool { return r.ID == role.ID }) {
			roles = append(roles, role)
		}
	}
	return roles, nil
}

func resolveRole(ctx context.Context, r RoleLookup, accountID, field, want string) (gatehouse.Role, error) {
	want = strings.TrimSpace(want)
	if role, ok := gatehouse.BuiltinRole(gatehouse.NameKey(want)); ok {
		return role, nil
	}
	if want == "" || len(want) > 200 {
		return gatehouse.Role{}, gatehouse.Invalid(field, "unknown role %q", want)
	}
	role, err := r.RoleByName(ctx, accountID, want)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		role, err = r.Role(ctx, accountID, want)
	}
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return gatehouse.Role{}, gatehouse.Invalid(field, "unknown role %q", want)
	}
	return role, err
}

func RoleIDs(roles []gatehouse.Role) []string {
	ids := make([]string, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	return ids
}

func RoleNames(roles []gatehouse.Role) []string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	slices.Sort(names)
	return names
}
