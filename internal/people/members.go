package people

import (
	"context"
	"slices"
	"strings"
	"time"

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
	return s.FindMembers(ctx, c, accountID, gatehouse.MemberFilter{Page: page})
}

// UserTypes lists the user types in use in an account, the choices a form
// offers for a new member's (R-U7).
func (s *Service) UserTypes(ctx context.Context, c gatehouse.Caller, accountID string) ([]string, error) {
	if _, err := s.Authorize(ctx, s.membersStore, c, accountID, policy.ReadMembers); err != nil {
		return nil, err
	}
	return s.membersStore.UserTypes(ctx, accountID)
}

// FindMembers lists the users of an account the filter keeps, oldest
// first: a search by username or name, a status, a level.
func (s *Service) FindMembers(ctx context.Context, c gatehouse.Caller, accountID string, f gatehouse.MemberFilter) (gatehouse.Page[gatehouse.Member], error) {
	switch f.Status {
	case "", gatehouse.MembershipActive, gatehouse.MembershipActivationRequired:
	default:
		return gatehouse.Page[gatehouse.Member]{}, gatehouse.Invalid("status", "status must be active or activation_required")
	}
	switch f.Level {
	case "", gatehouse.LevelIntegratorAdmin, gatehouse.LevelIntegratorUser, gatehouse.LevelClientAdmin, gatehouse.LevelClientUser, gatehouse.LevelRemoteMonitoring:
	default:
		return gatehouse.Page[gatehouse.Member]{}, gatehouse.Invalid("level", "level must be one of the levels")
	}
	if len(f.Query) > 200 {
		return gatehouse.Page[gatehouse.Member]{}, gatehouse.Invalid("q", "a search is 200 characters at most")
	}
	if _, err := s.Authorize(ctx, s.membersStore, c, accountID, policy.ReadMembers); err != nil {
		return gatehouse.Page[gatehouse.Member]{}, err
	}
	members, err := s.membersStore.FindMembers(ctx, accountID, f)
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
	now := s.Now()
	for i := range members {
		members[i].HomeFolderID = model.HomeFolder(members[i].ID, now)
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
	// Level moves the member between the levels of their account: a user
	// becomes an administrator or the other way round.
	Level         *gatehouse.Level
	Roles         *[]string
	HomeFolderID  *string
	Notifications *gatehouse.Notifications
	// ExpiresAt sets when the membership ends by itself (in the future, at
	// most a year ahead); a zero time makes it permanent.
	ExpiresAt *time.Time
	// Suspended suspends the membership (true) or restores it (false).
	Suspended *bool
	// ExternalID sets the account's directory's id for the person; ""
	// clears it.
	ExternalID *string
	// Email is where mail about this account goes (R-U3).
	Email *string
}

// onlyNotifications tells whether the patch changes the notification
// choices alone: what members may do on their own membership (R-N3).
func (p MemberPatch) onlyNotifications() bool {
	return p.Level == nil && p.Roles == nil && p.HomeFolderID == nil && p.ExpiresAt == nil && p.Suspended == nil &&
		p.ExternalID == nil && p.Email == nil && p.Notifications != nil
}

// changeLevel moves a member to another level of their account (R-P2): a
// client user made an administrator gives their slot back, an
// administrator made a client user takes one (or the change fails with
// EUSERLIMIT on a full account). A person raised to administrator without
// a second factor is signed out everywhere, so that no session opened
// without one acts as an administrator (R-P4).
func (s *Service) changeLevel(ctx context.Context, tx MembersTx, c gatehouse.Caller, acc gatehouse.Access, account gatehouse.Account, member *gatehouse.Member, next gatehouse.Level) error {
	if !levelFitsAccount(next, account.Kind) {
		return gatehouse.Invalid("level", "a %s account takes %s", account.Kind, levelsOf(account.Kind))
	}
	own := member.UserID == c.Principal.UserID
	for _, level := range []gatehouse.Level{member.Level, next} {
		if err := kernel.DecideOn(c, acc, account, policy.ChangeMemberLevel, policy.Target{Level: level, Self: own}); err != nil {
			return err
		}
	}
	switch {
	case next == gatehouse.LevelClientUser:
		if err := tx.ReserveClientUserSlot(ctx, account.ID); err != nil {
			return err
		}
	case member.Level == gatehouse.LevelClientUser:
		if err := tx.ReleaseClientUserSlot(ctx, account.ID); err != nil {
			return err
		}
	}
	if err := tx.SetMembershipLevel(ctx, account.ID, member.ID, next); err != nil {
		return err
	}
	now := s.Now()
	if next.IsAdmin() {
		creds, err := tx.Credentials(ctx, member.Username)
		if err != nil {
			return err
		}
		if creds.MFAMethod == gatehouse.MFANone {
			if err := tx.RevokeSessionsOf(ctx, member.UserID, now); err != nil {
				return err
			}
		}
	}
	before := member.Level
	member.Level = next
	return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "user.level_changed", "membership", member.ID).
		With("level", string(before), string(next)))
}

// LevelsFor lists the levels the caller may move a member between: both
// levels of the account when the policy allows the change from the
// member's level and to the other, none otherwise. Pages use it to offer
// the choice; UpdateMember decides again.
func (s *Service) LevelsFor(ctx context.Context, c gatehouse.Caller, accountID string, member gatehouse.Member) []gatehouse.Level {
	account, acc, err := s.AuthorizeAccess(ctx, s.membersStore, c, accountID, policy.ReadAccount, policy.Target{})
	if err != nil {
		return nil
	}
	levels := []gatehouse.Level{gatehouse.LevelClientUser, gatehouse.LevelClientAdmin}
	if account.Kind == gatehouse.KindIntegrator {
		levels = []gatehouse.Level{gatehouse.LevelIntegratorUser, gatehouse.LevelIntegratorAdmin}
	}
	own := member.UserID == c.Principal.UserID
	for _, level := range append(levels, member.Level) {
		if kernel.DecideOn(c, acc, account, policy.ChangeMemberLevel, policy.Target{Level: level, Self: own}) != nil {
			return nil
		}
	}
	return levels
}

// MayChangeMember tells whether the caller may change the member (roles,
// home folder, end of access): pages offer only what would work, and
// UpdateMember decides again.
func (s *Service) MayChangeMember(ctx context.Context, c gatehouse.Caller, accountID string, member gatehouse.Member) bool {
	account, acc, err := s.AuthorizeAccess(ctx, s.membersStore, c, accountID, policy.ReadAccount, policy.Target{})
	return err == nil && kernel.DecideOn(c, acc, account, policy.ChangeMember, policy.Target{Level: member.Level}) == nil
}

// UpdateMember changes a member's level, account-wide roles, home folder or
// end. The same people who may add or remove the member's level may do it
// (R-P2); the remote monitoring user's access is fixed, and never ends.
// A membership that ended and is not removed yet may still be extended.
func (s *Service) UpdateMember(ctx context.Context, c gatehouse.Caller, accountID, membershipID string, patch MemberPatch) (gatehouse.Member, error) {
	var member gatehouse.Member
	var expiresAt time.Time
	if patch.ExpiresAt != nil {
		var err error
		if expiresAt, err = gatehouse.ValidateAccessEnd("expires_at", *patch.ExpiresAt, s.Now()); err != nil {
			return member, err
		}
	}
	var externalID, email string
	if patch.ExternalID != nil {
		var err error
		if externalID, err = ValidateExternalID(*patch.ExternalID); err != nil {
			return member, err
		}
	}
	if patch.Email != nil {
		var err error
		if email, err = gatehouse.ParseEmail("email", *patch.Email); err != nil {
			return member, err
		}
	}
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
		if patch.Level != nil && *patch.Level != member.Level {
			if err := s.changeLevel(ctx, tx, c, acc, account, &member, *patch.Level); err != nil {
				return err
			}
		}
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
		if patch.ExpiresAt != nil {
			if err := tx.SetMembershipExpiry(ctx, accountID, membershipID, expiresAt); err != nil {
				return err
			}
		}
		if patch.Notifications != nil {
			if err := s.setNotifications(ctx, tx, c, accountID, membershipID, *patch.Notifications, &member); err != nil {
				return err
			}
		}
		if patch.ExpiresAt != nil {
			member.ExpiresAt = expiresAt
		}
		if patch.ExternalID != nil && externalID != member.ExternalID {
			if err := tx.SetMembershipExternalID(ctx, accountID, membershipID, externalID); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
				return externalIDTaken()
			} else if err != nil {
				return err
			}
			member.ExternalID = externalID
		}
		if patch.Email != nil && email != member.Email {
			if err := tx.SetMembershipEmail(ctx, accountID, membershipID, email); err != nil {
				return err
			}
			member.Email = email
		}
		if patch.Suspended != nil && *patch.Suspended != member.Suspended() {
			if err := s.setSuspended(ctx, tx, c, &member, *patch.Suspended); err != nil {
				return err
			}
		}
		// The home folder is kept by id, as the API gives it: readers show
		// the folder's path of today.
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "user.updated", "membership", membershipID).
			With("roles", roleList(before.Roles), roleList(member.Roles)).
			With("home_folder_id", before.HomeFolderID, member.HomeFolderID).
			With("expires_at", auditTime(before.ExpiresAt), auditTime(member.ExpiresAt)).
			With("external_id", before.ExternalID, member.ExternalID).
			With("email", before.Email, member.Email))
	})
	if err != nil {
		return member, err
	}
	members := []gatehouse.Member{member}
	err = s.landHome(ctx, accountID, members)
	return members[0], err
}

// setSuspended suspends a membership or restores it. A suspended one holds
// no access from this instant, on every node (the store's heldAt), and
// what was opened through it ends now: its personal API tokens, the tokens
// the platform's applications hold for the person in the account, and the
// person's sessions when no other account of theirs is in use and they are
// no operator. A restored membership needs a new sign-in and new tokens.
func (s *Service) setSuspended(ctx context.Context, tx MembersTx, c gatehouse.Caller, member *gatehouse.Member, suspend bool) error {
	now := s.Now()
	at, action := time.Time{}, "user.restored"
	if suspend {
		at, action = now, "user.suspended"
	}
	if err := tx.SetMembershipSuspended(ctx, member.AccountID, member.ID, at); err != nil {
		return err
	}
	member.SuspendedAt = at
	if suspend {
		if err := tx.RevokeAPITokensOfMembership(ctx, member.AccountID, member.ID, now); err != nil {
			return err
		}
		if err := tx.RevokeOIDCAccountTokens(ctx, member.AccountID, member.UserID, now); err != nil {
			return err
		}
		if err := s.signOutIfInUseNowhere(ctx, tx, member.UserID, now); err != nil {
			return err
		}
	}
	return tx.InsertAuditEvent(ctx, s.Audit(c, now, member.AccountID, action, "membership", member.ID).About(member.UserID))
}

// signOutIfInUseNowhere ends the sessions of a person who holds no other
// membership in use at now (active, not suspended, in an account that is
// not suspended) and is no operator: their sessions would open nothing.
func (s *Service) signOutIfInUseNowhere(ctx context.Context, tx MembersTx, userID string, now time.Time) error {
	left, err := tx.MembershipsOf(ctx, userID, now)
	if err != nil {
		return err
	}
	for _, other := range left {
		if other.Status == gatehouse.MembershipActive && !other.Suspended {
			return nil
		}
	}
	operator, err := tx.IsOperator(ctx, userID)
	if err != nil || operator {
		return err
	}
	return tx.RevokeSessionsOf(ctx, userID, now)
}

// auditTime is an instant as the audit log keeps it: RFC 3339 in UTC, ""
// for none.
func auditTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
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
	member.HomeFolderID = model.HomeFolder(member.ID, s.Now())
	sources, _ := model.Explain(membershipID, s.Now())
	return member, sources, nil
}

// RemoveUser ends a membership (R-M7): access through it stops at the next
// request, the tokens the platform's applications hold for the person in
// the account are revoked, and a client user's slot is freed.
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
		// The platform's applications lose the account at once.
		if err := tx.RevokeOIDCAccountTokens(ctx, accountID, member.UserID, s.Now()); err != nil {
			return err
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
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "user.removed", "membership", membershipID).About(member.UserID))
	})
}
