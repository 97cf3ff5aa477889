package scim

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Groups: a directory group is a Gatehouse group of the account (access
// context), with its members. What membership of it gives is what the
// account's administrators mapped its name to (CreateMapping): the group
// holds the mapped role account-wide, and its members the mapped level,
// given when the directory adds them and taken back when it removes them
// (unless another group mapped to the level keeps them there).

// ListGroups answers a query of the account's groups.
func (s *Service) ListGroups(ctx context.Context, d Directory, accountID string, q Query) (ListResponse[Group], error) {
	out := ListResponse[Group]{Schemas: []string{SchemaListResponse}, Resources: []Group{}}
	var filter *gatehouse.SCIMFilter
	if strings.TrimSpace(q.Filter) != "" {
		var err error
		if filter, err = ParseGroupFilter(q.Filter); err != nil {
			return out, err
		}
	}
	account, err := s.authorize(ctx, d.Caller, accountID, policy.ReadAccessRules)
	if err != nil {
		return out, err
	}
	offset, count := q.page()
	groups, total, err := s.store.SCIMGroups(ctx, account.ID, filter, offset, count, !q.ExcludeMembers)
	if err != nil {
		return out, err
	}
	base := s.Base(account.ID)
	for _, g := range groups {
		out.Resources = append(out.Resources, groupOf(g, base))
	}
	out.TotalResults, out.StartIndex, out.ItemsPerPage = total, offset+1, len(out.Resources)
	return out, nil
}

// GetGroup returns one of the account's groups by SCIM id.
func (s *Service) GetGroup(ctx context.Context, d Directory, accountID, id string, excludeMembers bool) (Group, error) {
	account, err := s.authorize(ctx, d.Caller, accountID, policy.ReadAccessRules)
	if err != nil {
		return Group{}, err
	}
	g, err := s.store.SCIMGroup(ctx, account.ID, id)
	if err != nil {
		return Group{}, err
	}
	out := groupOf(g, s.Base(account.ID))
	if excludeMembers {
		out.Members = nil
	}
	return out, nil
}

// CreateGroup makes the directory's group a group of the account, holding
// the roles its name is mapped to, with its members.
func (s *Service) CreateGroup(ctx context.Context, d Directory, accountID string, in Group) (Group, error) {
	account, err := s.authorize(ctx, d.Caller, accountID, policy.ManageAccessRules)
	if err != nil {
		return Group{}, err
	}
	externalID, err := validExternalID(in.ExternalID)
	if err != nil {
		return Group{}, err
	}
	mappings, err := s.mappingsOf(ctx, account.ID, in.DisplayName)
	if err != nil {
		return Group{}, err
	}
	if len(in.Members) > 0 {
		if err := s.mayMoveLevels(ctx, d, account, mappings); err != nil {
			return Group{}, err
		}
	}
	view, err := s.access.CreateGroup(ctx, d.Caller, account.ID, in.DisplayName, mappedRoles(mappings))
	if err != nil {
		return Group{}, renameField(err)
	}
	if err := s.setGroupExternalID(ctx, account.ID, view.ID, externalID); err != nil {
		// The directory's id is another group's: the group is not made.
		_ = s.access.DeleteGroup(ctx, d.Caller, account.ID, view.ID)
		return Group{}, err
	}
	var ids []string
	for _, m := range in.Members {
		ids = append(ids, m.Value)
	}
	group := gatehouse.SCIMGroup{Group: view.Group}
	if err := s.changeMembers(ctx, d, account, group, ids, nil); err != nil {
		return Group{}, err
	}
	return s.GetGroup(ctx, d, account.ID, view.ID, false)
}

// renameField names the directory's attribute in a refusal of the group's
// name.
func renameField(err error) error {
	var e *gatehouse.Error
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT || gatehouse.ErrorCode(err) == gatehouse.EINVALID {
		if errors.As(err, &e) && e.Field == "name" {
			out := *e
			out.Field = "displayName"
			return &out
		}
	}
	return err
}

func validExternalID(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", nil
	}
	return gatehouse.ValidateExternalID("externalId", raw)
}

// setGroupExternalID records the directory's id of a group, which also
// marks the group as pushed by the directory.
func (s *Service) setGroupExternalID(ctx context.Context, accountID, groupID, externalID string) error {
	err := s.store.Write(ctx, func(tx Tx) error { return tx.SetSCIMGroupExternalID(ctx, accountID, groupID, externalID) })
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		return &gatehouse.Error{Code: gatehouse.ECONFLICT, Field: "externalId", Message: "another group of this account has this externalId"}
	}
	return err
}

// mappedRoles are the roles the mappings of a group's name give.
func mappedRoles(mappings []gatehouse.SCIMGroupMapping) []string {
	roles := []string{}
	for _, m := range mappings {
		if m.RoleID != "" {
			roles = append(roles, m.RoleID)
		}
	}
	return roles
}

// ReplaceGroup makes the group what the directory's full description says
// (PUT): its name, externalId and members.
func (s *Service) ReplaceGroup(ctx context.Context, d Directory, accountID, id, ifMatch string, in Group) (Group, error) {
	ids := []string{}
	for _, m := range in.Members {
		ids = append(ids, m.Value)
	}
	return s.changeGroup(ctx, d, accountID, id, ifMatch, groupChange{displayName: &in.DisplayName, externalID: &in.ExternalID, members: &ids})
}

// PatchGroup applies a PATCH's operations to the group.
func (s *Service) PatchGroup(ctx context.Context, d Directory, accountID, id, ifMatch string, p PatchRequest) (Group, error) {
	ch, err := groupPatch(p)
	if err != nil {
		return Group{}, err
	}
	return s.changeGroup(ctx, d, accountID, id, ifMatch, ch)
}

func (s *Service) changeGroup(ctx context.Context, d Directory, accountID, id, ifMatch string, ch groupChange) (Group, error) {
	account, err := s.authorize(ctx, d.Caller, accountID, policy.ManageAccessRules)
	if err != nil {
		return Group{}, err
	}
	current, err := s.store.SCIMGroup(ctx, account.ID, id)
	if err != nil {
		return Group{}, err
	}
	if err := checkVersion(ifMatch, groupOf(current, s.Base(account.ID)).Meta.Version); err != nil {
		return Group{}, err
	}
	if ch.externalID != nil && strings.TrimSpace(*ch.externalID) != current.ExternalID {
		externalID, err := validExternalID(*ch.externalID)
		if err != nil {
			return Group{}, err
		}
		if err := s.setGroupExternalID(ctx, account.ID, current.ID, externalID); err != nil {
			return Group{}, err
		}
	}
	if ch.displayName != nil && strings.TrimSpace(*ch.displayName) != current.Name {
		if err := s.rename(ctx, d, account.ID, current, *ch.displayName); err != nil {
			return Group{}, err
		}
		current.Name = strings.TrimSpace(*ch.displayName)
	}
	if ch.members != nil || len(ch.add) > 0 || len(ch.remove) > 0 {
		mappings, err := s.mappingsOf(ctx, account.ID, current.Name)
		if err != nil {
			return Group{}, err
		}
		if err := s.mayMoveLevels(ctx, d, account, mappings); err != nil {
			return Group{}, err
		}
	}
	add, remove := ch.add, ch.remove
	if ch.members != nil {
		add, remove = nil, nil
		for _, m := range current.Members {
			if !slices.Contains(*ch.members, m.MembershipID) {
				remove = append(remove, m.MembershipID)
			}
		}
		add = *ch.members
	}
	if err := s.changeMembers(ctx, d, account, current, add, remove); err != nil {
		return Group{}, err
	}
	return s.GetGroup(ctx, d, account.ID, current.ID, false)
}

// rename gives the group its new name, and the roles the new name is
// mapped to instead of the old name's.
func (s *Service) rename(ctx context.Context, d Directory, accountID string, g gatehouse.SCIMGroup, name string) error {
	before, err := s.mappingsOf(ctx, accountID, g.Name)
	if err != nil {
		return err
	}
	after, err := s.mappingsOf(ctx, accountID, name)
	if err != nil {
		return err
	}
	roles := slices.DeleteFunc(slices.Clone(g.RoleIDs), func(id string) bool { return slices.Contains(mappedRoles(before), id) })
	for _, id := range mappedRoles(after) {
		if !slices.Contains(roles, id) {
			roles = append(roles, id)
		}
	}
	_, err = s.access.UpdateGroup(ctx, d.Caller, accountID, g.ID, access.GroupPatch{Name: &name, Roles: &roles})
	return renameField(err)
}

// changeMembers adds and removes the group's members (by SCIM id), then
// gives or takes back the level the group's name is mapped to.
func (s *Service) changeMembers(ctx context.Context, d Directory, account gatehouse.Account, g gatehouse.SCIMGroup, add, remove []string) error {
	in := func(id string) bool {
		return slices.ContainsFunc(g.Members, func(m gatehouse.SCIMGroupMember) bool { return m.MembershipID == id })
	}
	var added, removed []gatehouse.Member
	for _, id := range add {
		if in(id) || slices.ContainsFunc(added, func(m gatehouse.Member) bool { return m.ID == id }) {
			continue
		}
		m, err := s.member(ctx, d, account.ID, id)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Invalid("members", "no user %s in this account", gatehouse.Truncate(id, 80))
		} else if err != nil {
			return err
		}
		if err := s.access.AddGroupMember(ctx, d.Caller, account.ID, g.ID, m.UserID); err != nil {
			return err
		}
		added = append(added, m)
	}
	for _, id := range remove {
		if !in(id) {
			continue // not a member: removed already
		}
		m, err := s.member(ctx, d, account.ID, id)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if err := s.access.RemoveGroupMember(ctx, d.Caller, account.ID, g.ID, m.UserID); err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return err
		}
		removed = append(removed, m)
	}
	return s.settleLevels(ctx, d, account, g.Name, added, removed)
}

// mayMoveLevels refuses, before anything changes, the members' changes of a
// group mapped to a level the directory may not give or take back: a
// client administrator's token raises nobody to administrator.
func (s *Service) mayMoveLevels(ctx context.Context, d Directory, account gatehouse.Account, mappings []gatehouse.SCIMGroupMapping) error {
	for _, m := range mappings {
		if m.Level == "" {
			continue
		}
		for _, level := range []gatehouse.Level{m.Level, userLevel(account.Kind)} {
			if _, _, err := s.AuthorizeAccess(ctx, s.store, d.Caller, account.ID, policy.ChangeMemberLevel, policy.Target{Level: level}); err != nil {
				return err
			}
		}
	}
	return nil
}

// settleLevels gives the members added to a group the level its name is
// mapped to, and takes it back from those removed, unless another group
// mapped to that level keeps them there.
func (s *Service) settleLevels(ctx context.Context, d Directory, account gatehouse.Account, groupName string, added, removed []gatehouse.Member) error {
	if len(added) == 0 && len(removed) == 0 {
		return nil
	}
	mappings, err := s.mappingsOf(ctx, account.ID, groupName)
	if err != nil {
		return err
	}
	idx := slices.IndexFunc(mappings, func(m gatehouse.SCIMGroupMapping) bool { return m.Level != "" })
	if idx < 0 {
		return nil
	}
	level, lower := mappings[idx].Level, userLevel(account.Kind)
	for _, m := range added {
		if m.Level != level {
			if _, err := s.people.UpdateMember(ctx, d.Caller, account.ID, m.ID, people.MemberPatch{Level: &level}); err != nil {
				return err
			}
		}
	}
	for _, m := range removed {
		if m.Level != level {
			continue
		}
		kept, err := s.inOtherLevelGroup(ctx, account.ID, m.ID, groupName, level)
		if err != nil {
			return err
		}
		if !kept {
			if _, err := s.people.UpdateMember(ctx, d.Caller, account.ID, m.ID, people.MemberPatch{Level: &lower}); err != nil {
				return err
			}
		}
	}
	return nil
}

// inOtherLevelGroup tells whether a member is in a group, other than the
// one named, whose name is mapped to level.
func (s *Service) inOtherLevelGroup(ctx context.Context, accountID, membershipID, groupName string, level gatehouse.Level) (bool, error) {
	all, err := s.store.SCIMGroupMappings(ctx, accountID)
	if err != nil {
		return false, err
	}
	for _, m := range all {
		if m.Level != level || gatehouse.NameKey(m.GroupName) == gatehouse.NameKey(groupName) {
			continue
		}
		g, found, err := s.groupNamed(ctx, accountID, m.GroupName)
		if err != nil {
			return false, err
		}
		if found && slices.ContainsFunc(g.Members, func(gm gatehouse.SCIMGroupMember) bool { return gm.MembershipID == membershipID }) {
			return true, nil
		}
	}
	return false, nil
}

// DeleteGroup removes the group; its members keep their own roles, and
// lose the level its name gave them.
func (s *Service) DeleteGroup(ctx context.Context, d Directory, accountID, id, ifMatch string) error {
	account, err := s.authorize(ctx, d.Caller, accountID, policy.ManageAccessRules)
	if err != nil {
		return err
	}
	current, err := s.store.SCIMGroup(ctx, account.ID, id)
	if err != nil {
		return err
	}
	if err := checkVersion(ifMatch, groupOf(current, s.Base(account.ID)).Meta.Version); err != nil {
		return err
	}
	if err := s.access.DeleteGroup(ctx, d.Caller, account.ID, current.ID); err != nil {
		return err
	}
	var removed []gatehouse.Member
	for _, gm := range current.Members {
		m, err := s.member(ctx, d, account.ID, gm.MembershipID)
		if err == nil {
			removed = append(removed, m)
		}
	}
	return s.settleLevels(ctx, d, account, current.Name, nil, removed)
}
