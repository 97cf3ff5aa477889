package access

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Groups (R-A4) and grants (R-A2). Both are managed by the account's
// administrators: the same people who add its users.

// GroupView is a group with its roles by name.
type GroupView struct {
	gatehouse.Group
	Roles []string
}

// CreateGroup adds a group; its roles are held account-wide by its members.
func (s *Service) CreateGroup(ctx context.Context, c gatehouse.Caller, accountID, name string, roles []string) (GroupView, error) {
	name, err := gatehouse.ValidateLabel("name", name)
	if err != nil {
		return GroupView{}, err
	}
	now := s.Now()
	view := GroupView{Group: gatehouse.Group{ID: s.NewID(), AccountID: accountID, Name: name, CreatedAt: now}}
	err = s.groupsStore.Write(ctx, func(tx GroupsTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageAccessRules); err != nil {
			return err
		}
		// Lock the rules first: a role cannot be deleted under the group.
		if err := tx.BumpAuthzVersion(ctx, accountID); err != nil {
			return err
		}
		resolved, err := ResolveRoles(ctx, tx, accountID, "roles", roles)
		if err != nil {
			return err
		}
		view.RoleIDs, view.Roles = RoleIDs(resolved), RoleNames(resolved)
		if err := tx.InsertGroup(ctx, view.Group); err != nil {
			return groupNameTaken(err, name)
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, accountID, "group.created", "group", view.ID))
	})
	return view, err
}

// GroupPatch renames a group or replaces its roles; nil fields stay.
type GroupPatch struct {
	Name  *string
	Roles *[]string
}

// UpdateGroup changes a group's name or roles.
func (s *Service) UpdateGroup(ctx context.Context, c gatehouse.Caller, accountID, groupID string, patch GroupPatch) (GroupView, error) {
	var view GroupView
	err := s.groupsStore.Write(ctx, func(tx GroupsTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageAccessRules); err != nil {
			return err
		}
		if err := tx.BumpAuthzVersion(ctx, accountID); err != nil {
			return err
		}
		group, err := tx.Group(ctx, accountID, groupID)
		if err != nil {
			return err
		}
		before := group
		if patch.Name != nil {
			if group.Name, err = gatehouse.ValidateLabel("name", *patch.Name); err != nil {
				return err
			}
		}
		current, err := ResolveRoles(ctx, tx, accountID, "roles", group.RoleIDs)
		if err != nil {
			return err
		}
		resolved := current
		if patch.Roles != nil {
			if resolved, err = ResolveRoles(ctx, tx, accountID, "roles", *patch.Roles); err != nil {
				return err
			}
		}
		group.RoleIDs = RoleIDs(resolved)
		if err := tx.UpdateGroup(ctx, group); err != nil {
			return groupNameTaken(err, group.Name)
		}
		view = GroupView{Group: group, Roles: RoleNames(resolved)}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "group.updated", "group", groupID).
			With("name", before.Name, group.Name).
			With("roles", strings.Join(RoleNames(current), ", "), strings.Join(view.Roles, ", ")))
	})
	return view, err
}

// DeleteGroup removes a group with its grants; its members keep their own
// roles and grants.
func (s *Service) DeleteGroup(ctx context.Context, c gatehouse.Caller, accountID, groupID string) error {
	return s.groupsStore.Write(ctx, func(tx GroupsTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageAccessRules); err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, accountID, groupID); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "group.deleted", "group", groupID))
	})
}

// Group returns one group with the user ids of its members.
func (s *Service) Group(ctx context.Context, c gatehouse.Caller, accountID, groupID string) (GroupView, []string, error) {
	if _, err := s.Authorize(ctx, s.groupsStore, c, accountID, policy.ReadAccessRules); err != nil {
		return GroupView{}, nil, err
	}
	group, err := s.groupsStore.Group(ctx, accountID, groupID)
	if err != nil {
		return GroupView{}, nil, err
	}
	members, err := s.groupsStore.GroupMemberIDs(ctx, accountID, groupID)
	if err != nil {
		return GroupView{}, nil, err
	}
	views, err := s.groupViews(ctx, accountID, []gatehouse.Group{group})
	if err != nil {
		return GroupView{}, nil, err
	}
	return views[0], members, nil
}

// Groups lists the account's groups by name.
func (s *Service) Groups(ctx context.Context, c gatehouse.Caller, accountID string, page gatehouse.PageRequest) (gatehouse.Page[GroupView], error) {
	if _, err := s.Authorize(ctx, s.groupsStore, c, accountID, policy.ReadAccessRules); err != nil {
		return gatehouse.Page[GroupView]{}, err
	}
	groups, err := s.groupsStore.ListGroups(ctx, accountID, page)
	if err != nil {
		return gatehouse.Page[GroupView]{}, err
	}
	views, err := s.groupViews(ctx, accountID, groups.Items)
	return gatehouse.Page[GroupView]{Items: views, NextCursor: groups.NextCursor}, err
}

// groupViews names the roles of groups.
func (s *Service) groupViews(ctx context.Context, accountID string, groups []gatehouse.Group) ([]GroupView, error) {
	names, err := s.roleNamer(ctx, accountID)
	if err != nil {
		return nil, err
	}
	views := make([]GroupView, len(groups))
	for i, g := range groups {
		views[i] = GroupView{Group: g, Roles: names(g.RoleIDs)}
	}
	return views, nil
}

// roleNamer returns a function naming role ids of the account.
func (s *Service) roleNamer(ctx context.Context, accountID string) (func(ids []string) []string, error) {
	custom, err := s.groupsStore.ListRoles(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return func(ids []string) []string {
		roles := make([]gatehouse.Role, 0, len(ids))
		for _, id := range ids {
			role, ok := gatehouse.BuiltinRole(id)
			for _, r := range custom {
				if !ok && r.ID == id {
					role, ok = r, true
				}
			}
			if ok {
				roles = append(roles, role)
			}
		}
		return RoleNames(roles)
	}, nil
}

// AddGroupMember puts a user of the account (active or still to activate)
// in a group.
func (s *Service) AddGroupMember(ctx context.Context, c gatehouse.Caller, accountID, groupID, userID string) error {
	return s.groupsStore.Write(ctx, func(tx GroupsTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageAccessRules); err != nil {
			return err
		}
		if _, err := tx.Group(ctx, accountID, groupID); err != nil {
			return err
		}
		if _, err := tx.MemberByUser(ctx, accountID, userID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Invalid("user_id", "user_id must be the id of a user of this account")
		} else if err != nil {
			return err
		}
		if err := tx.AddGroupMember(ctx, accountID, groupID, userID); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return nil // already in it: adding is idempotent
		} else if err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "group.member_added", "group", groupID))
	})
}

// RemoveGroupMember takes a user out of a group.
func (s *Service) RemoveGroupMember(ctx context.Context, c gatehouse.Caller, accountID, groupID, userID string) error {
	return s.groupsStore.Write(ctx, func(tx GroupsTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageAccessRules); err != nil {
			return err
		}
		if err := tx.RemoveGroupMember(ctx, accountID, groupID, userID); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "group.member_removed", "group", groupID))
	})
}

func groupNameTaken(err error, name string) error {
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "the account has a group named " + name + " already", Field: "name"}
	}
	return err
}

// NewGrant is the input of CreateGrant: exactly one of UserID and GroupID.
type NewGrant struct {
	UserID  string
	GroupID string
	Role    string // a role name or id
	// ExpiresAt ends the grant by itself at that instant; zero for never.
	// It must be in the future, at most a year ahead.
	ExpiresAt time.Time
}

// GrantView is a grant with its role by name.
type GrantView struct {
	gatehouse.Grant
	Role string
}

// CreateGrant gives a role on a folder and everything under it to a user of
// the account or to a group, for good or until an end.
func (s *Service) CreateGrant(ctx context.Context, c gatehouse.Caller, accountID, folderID string, in NewGrant) (GrantView, error) {
	if (in.UserID == "") == (in.GroupID == "") {
		return GrantView{}, gatehouse.Invalid("user_id", "give either user_id or group_id")
	}
	now := s.Now()
	end, err := gatehouse.ValidateAccessEnd("expires_at", in.ExpiresAt, now)
	if err != nil {
		return GrantView{}, err
	}
	view := GrantView{Grant: gatehouse.Grant{ID: s.NewID(), AccountID: accountID, FolderID: folderID,
		UserID: in.UserID, GroupID: in.GroupID, CreatedAt: now, ExpiresAt: end}}
	err = s.groupsStore.Write(ctx, func(tx GroupsTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageAccessRules); err != nil {
			return err
		}
		// Lock the rules before reading them, so the role, folder, group or
		// member cannot go between the look and the insert.
		if err := tx.BumpAuthzVersion(ctx, accountID); err != nil {
			return err
		}
		if _, err := tx.Folder(ctx, accountID, folderID); err != nil {
			return err
		}
		role, err := resolveRole(ctx, tx, accountID, "role", in.Role)
		if err != nil {
			return err
		}
		view.RoleID, view.Role = role.ID, role.Name
		if in.UserID != "" {
			if _, err := tx.MemberByUser(ctx, accountID, in.UserID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return gatehouse.Invalid("user_id", "user_id must be the id of a user of this account")
			} else if err != nil {
				return err
			}
		} else if _, err := tx.Group(ctx, accountID, in.GroupID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Invalid("group_id", "group_id must be the id of a group of this account")
		} else if err != nil {
			return err
		}
		if err := tx.InsertGrant(ctx, view.Grant); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "this role is granted on this folder already")
		} else if err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, accountID, "grant.created", "grant", view.ID))
	})
	return view, err
}

// Grants lists the grants made on one folder.
func (s *Service) Grants(ctx context.Context, c gatehouse.Caller, accountID, folderID string) ([]GrantView, error) {
	if _, err := s.Authorize(ctx, s.groupsStore, c, accountID, policy.ReadAccessRules); err != nil {
		return nil, err
	}
	if _, err := s.groupsStore.Folder(ctx, accountID, folderID); err != nil {
		return nil, err
	}
	grants, err := s.groupsStore.FolderGrants(ctx, accountID, folderID)
	if err != nil {
		return nil, err
	}
	names, err := s.roleNamer(ctx, accountID)
	if err != nil {
		return nil, err
	}
	views := make([]GrantView, len(grants))
	for i, g := range grants {
		views[i] = GrantView{Grant: g}
		if name := names([]string{g.RoleID}); len(name) == 1 {
			views[i].Role = name[0]
		}
	}
	return views, nil
}

// DeleteGrant takes a grant back.
func (s *Service) DeleteGrant(ctx context.Context, c gatehouse.Caller, accountID, folderID, grantID string) error {
	return s.groupsStore.Write(ctx, func(tx GroupsTx) error {
		if _, err := s.Authorize(ctx, tx, c, accountID, policy.ManageAccessRules); err != nil {
			return err
		}
		grant, err := tx.Grant(ctx, accountID, grantID)
		if err != nil {
			return err
		}
		if grant.FolderID != folderID {
			return gatehouse.NotFound("grant")
		}
		if err := tx.DeleteGrant(ctx, accountID, grantID); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "grant.deleted", "grant", grantID))
	})
}
