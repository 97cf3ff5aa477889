package people

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Member returns one user of an account. Its home folder is where the user
// lands now (see access.Model.HomeFolder).
func (s *Service) Member(ctx context.Context, c gatehouse.Caller, accountID, membershipID string) (gatehouse.Member, error) {
	if _, err := s.Authorize(ctx, s.membersStore, c, accountID, policy.ReadMembers); err != nil {
		return gatehouse.Member{}, err
	}
	m, err := s.membersStore.Member(ctx, accountID, membershipID)
	if err != nil {
		return m, err
	}
	members := []gatehouse.Member{m}
	err = s.landHome(ctx, accountID, members)
	return members[0], err
}

// Members lists the users of an account, oldest first.
func (s *Service) Members(ctx context.Context, c gatehouse.Caller, accountID string, page gatehouse.PageRequest) (gatehouse.Page[gatehouse.Member], error) {
	if _, err := s.Authorize(ctx, s.membersStore, c, accountID, policy.ReadMembers); err != nil {
		return gatehouse.Page[gatehouse.Member]{}, err
	}
	members, err := s.membersStore.ListMembers(ctx, accountID, page)
	if err != nil {
		return members, err
	}
	return members, s.landHome(ctx, accountID, members.Items)
}

// landHome replaces each member's chosen home folder by the one they land
// in: the chosen one while they reach it, else the fallback (R-A3).
func (s *Service) landHome(ctx context.Context, accountID string, members []gatehouse.Member) error {
	if !slices.ContainsFunc(members, func(m gatehouse.Member) bool { return m.HomeFolderID != "" }) {
		return nil
	}
	model, err := s.Access.Models.Model(ctx, accountID)
	if err != nil {
		return err
	}
	for i := range members {
		members[i].HomeFolderID = model.HomeFolder(members[i].ID)
	}
	return nil
}

// checkHomeFolder refuses a home folder that is not in the account or that
// the member cannot reach (R-A3): they reach every folder through their
// level or account-wide roles (hasRoles), else through their grants and
// groups.
// homeFolders reads a folder and tells whether a member reaches it.
type homeFolders interface {
	Folder(ctx context.Context, accountID, id string) (gatehouse.Folder, error)
	ReachesFolder(ctx context.Context, accountID, userID, folderID string) (bool, error)
}

func (s *Service) checkHomeFolder(ctx context.Context, r homeFolders, m gatehouse.Membership, hasRoles bool, folderID string) error {
	if _, err := r.Folder(ctx, m.AccountID, folderID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return gatehouse.Invalid("home_folder_id", "no folder with this id in the account")
	} else if err != nil {
		return err
	}
	if hasRoles || gatehouse.LevelPermissions(m.Level) != 0 {
		return nil
	}
	reaches, err := r.ReachesFolder(ctx, m.AccountID, m.UserID, folderID)
	if err != nil {
		return err
	}
	if !reaches {
		return gatehouse.Invalid("home_folder_id", "the user cannot reach this folder: give them a role, or a grant on it, first")
	}
	return nil
}

// MemberPatch changes a user of an account; nil fields stay. HomeFolderID
// "" clears the home folder.
type MemberPatch struct {
	Roles         *[]string
	HomeFolderID  *string
	Notifications *gatehouse.Notifications
}

// onlyNotifications tells whether the patch changes the notification
// choices alone: what members may do on their own membership (R-N3).
func (p MemberPatch) onlyNotifications() bool {
	return p.Roles == nil && p.HomeFolderID == nil && p.Notifications != nil
}

// UpdateMember changes a member's account-wide roles or home folder. The
// same people who may add or remove the member's level may do it (R-P2).
func (s *Service) UpdateMember(ctx context.Context, c gatehouse.Caller, accountID, membershipID string, patch MemberPatch) (gatehouse.Member, error) {
	var member gatehouse.Member
	err := s.membersStore.Write(ctx, func(tx MembersTx) error {
		account, acc, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.ReadAccount, policy.Target{})
		if err != nil {
			return err
		}
		if patch.onlyNotifications() && s.isOwnMembership(ctx, tx, c, accountID, membershipID) {
			// Members change their own choices; the policy still decides.
			if err := kernel.DecideOn(c, acc, account, policy.SetOwnNotifications, policy.Target{Self: true}); err != nil {
				return err
			}
			return s.setNotifications(ctx, tx, c, accountID, membershipID, *patch.Notifications, &member)
		}
		if err := kernel.DecideOn(c, acc, account, policy.ChangeMember, policy.Target{}); err != nil {
			return err
		}
		if err := tx.BumpAuthzVersion(ctx, accountID); err != nil {
			return err
		}
		if member, err = tx.Member(ctx, accountID, membershipID); err != nil {
			return err
		}
		if err := kernel.DecideOn(c, acc, account, policy.ChangeMember, policy.Target{Level: member.Level}); err != nil {
			return err
		}
		before := member
		if patch.Roles != nil {
			roles, err := access.ResolveRoles(ctx, tx, accountID, "roles", *patch.Roles)
			if err != nil {
				return err
			}
			if err := tx.SetMembershipRoles(ctx, accountID, membershipID, access.RoleIDs(roles)); err != nil {
				return err
			}
			member.Roles = access.RoleNames(roles)
		}
		if patch.HomeFolderID != nil && *patch.HomeFolderID != "" {
			if err := s.checkHomeFolder(ctx, tx, member.Membership, len(member.Roles) > 0, *patch.HomeFolderID); err != nil {
				return err
			}
		}
		if patch.HomeFolderID != nil {
			if err := tx.SetMembershipHomeFolder(ctx, accountID, membershipID, *patch.HomeFolderID); err != nil {
				return err
			}
			member.HomeFolderID = *patch.HomeFolderID
		}
		if patch.Notifications != nil {
			if err := s.setNotifications(ctx, tx, c, accountID, membershipID, *patch.Notifications, &member); err != nil {
				return err
			}
		}
		// The home folder is kept by id, as the API gives it: readers show
		// the folder's path of today.
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "user.updated", "membership", membershipID).
			With("roles", roleList(before.Roles), roleList(member.Roles)).
			With("home_folder_id", before.HomeFolderID, member.HomeFolderID))
	})
	if err != nil {
		return member, err
	}
	members := []gatehouse.Member{member}
	err = s.landHome(ctx, accountID, members)
	return members[0], err
}

// roleList is a member's roles as the audit log keeps them: sorted here,
// as the database's collation may order names otherwise, so that the same
// roles never read as a change.
func roleList(names []string) string {
	return strings.Join(slices.Sorted(slices.Values(names)), ", ")
}

// isOwnMembership tells whether the membership is the caller's own, active,
// reached with a session or a token allowed to write users.
func (s *Service) isOwnMembership(ctx context.Context, r MembersReader, c gatehouse.Caller, accountID, membershipID string) bool {
	if c.Principal.UserID == "" {
		return false
	}
	m, err := r.Member(ctx, accountID, membershipID)
	return err == nil && m.UserID == c.Principal.UserID && m.Status == gatehouse.MembershipActive
}

// setNotifications stores a member's notification choices (R-N3) and reads
// the member back into member.
func (s *Service) setNotifications(ctx context.Context, tx MembersTx, c gatehouse.Caller, accountID, membershipID string, n gatehouse.Notifications, member *gatehouse.Member) error {
	if err := tx.SetMembershipNotifications(ctx, accountID, membershipID, n); err != nil {
		return err
	}
	m, err := tx.Member(ctx, accountID, membershipID)
	if err != nil {
		return err
	}
	*member = m
	return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "user.notifications_changed", "membership", membershipID))
}

// EffectivePermissions lists what a member holds and where each permission
// comes from (what the portal shows). Administrators of the account and the
// member themself may read it.
func (s *Service) EffectivePermissions(ctx context.Context, c gatehouse.Caller, accountID, membershipID string) (gatehouse.Member, []access.Source, error) {
	account, acc, err := s.AuthorizeAccess(ctx, s.membersStore, c, accountID, policy.ReadAccount, policy.Target{})
	if err != nil {
		return gatehouse.Member{}, nil, err
	}
	member, err := s.membersStore.Member(ctx, accountID, membershipID)
	if err != nil {
		return member, nil, err
	}
	self := member.UserID == c.Principal.UserID
	if err := kernel.DecideOn(c, acc, account, policy.ReadMemberPermissions, policy.Target{Self: self}); err != nil {
		return gatehouse.Member{}, nil, err
	}
	model, err := s.Access.Models.Model(ctx, accountID)
	if err != nil {
		return member, nil, err
	}
	member.HomeFolderID = model.HomeFolder(member.ID)
	sources, _ := model.Explain(membershipID)
	return member, sources, nil
}

// RemoveUser ends a membership (R-M7): access through it stops at the next
// request, and a client user's slot is freed.
func (s *Service) RemoveUser(ctx context.Context, c gatehouse.Caller, accountID, membershipID string) error {
	return s.membersStore.Write(ctx, func(tx MembersTx) error {
		account, held, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.RemoveMember, policy.Target{})
		if err != nil {
			return err
		}
		member, err := tx.Member(ctx, accountID, membershipID)
		if err != nil {
			return err
		}
		if err := kernel.DecideOn(c, held, account, policy.RemoveMember, policy.Target{Level: member.Level}); err != nil {
			return err
		}
		if member.Level == gatehouse.LevelRemoteMonitoring {
			// Its credentials end with it: no session of it may outlive it.
			if err := tx.RevokeSessionsOf(ctx, member.UserID, s.Now()); err != nil {
				return err
			}
		}
		if err := tx.DeleteMembership(ctx, accountID, membershipID); err != nil {
			return err
		}
		// Its activation link dies with it.
		if err := tx.CancelInvitationsOf(ctx, accountID, membershipID, s.Now()); err != nil {
			return err
		}
		if member.Level == gatehouse.LevelClientUser {
			if err := tx.ReleaseClientUserSlot(ctx, accountID); err != nil {
				return err
			}
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "user.removed", "membership", membershipID))
	})
}
