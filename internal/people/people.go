package people

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// NewMember is the input of AddUser (API.md "Users of an account").
type NewMember struct {
	Username         string
	FirstName        string
	LastName         string
	Email            string // "": the username (R-U3)
	Language         string // "": English
	Level            gatehouse.Level
	IdentityProvider string
	Roles            []string // nil: ["viewer"] for client users
	HomeFolderID     string
	Phone            string
	UserType         string
	Notifications    gatehouse.Notifications
	// MFARequired makes a second factor mandatory for the person (seed
	// 003): they enroll one at their next sign-in and cannot turn it off.
	// It only ever adds protection, so it applies to an existing identity
	// too.
	MFARequired bool
}

// AddUser registers a username to an account (R-U1…R-U3, R-M1, R-M2,
// R-L1, R-P2). A new username becomes a pending identity; an existing one
// keeps its names, language and phone, whatever the request says (R-U2). The
// membership is active at once when the identity is active, otherwise it
// waits for activation and an invitation is created. Client users count
// against the account's limit, pending ones included.
func (s *Service) AddUser(ctx context.Context, c gatehouse.Caller, accountID string, in NewMember) (gatehouse.Member, error) {
	username, err := gatehouse.ParseUsername("username", in.Username)
	if err != nil {
		return gatehouse.Member{}, err
	}
	email := username
	if strings.TrimSpace(in.Email) != "" {
		if email, err = gatehouse.ParseEmail("email", in.Email); err != nil {
			return gatehouse.Member{}, err
		}
	}
	language := in.Language
	if language == "" {
		language = "en"
	}
	if !gatehouse.ValidLanguage(language) {
		return gatehouse.Member{}, gatehouse.Invalid("language", "language must be one of %s", strings.Join(gatehouse.Languages, ", "))
	}
	switch in.Level {
	case gatehouse.LevelIntegratorAdmin, gatehouse.LevelIntegratorUser, gatehouse.LevelClientAdmin, gatehouse.LevelClientUser:
	case "":
		return gatehouse.Member{}, gatehouse.Invalid("level", "level is required")
	default:
		return gatehouse.Member{}, gatehouse.Invalid("level", "level must be integrator_admin, integrator_user, client_admin or client_user")
	}
	userType, err := validateUserType(in.UserType)
	if err != nil {
		return gatehouse.Member{}, err
	}
	requestedRoles := in.Roles
	if requestedRoles == nil && in.Level == gatehouse.LevelClientUser {
		requestedRoles = []string{"viewer"}
	}
	phone, err := normalizePhone(in.Phone)
	if err != nil {
		return gatehouse.Member{}, err
	}
	firstName, lastName := strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)

	now := s.Now()
	var member gatehouse.Member
	err = s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		account, held, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.AddMember, policy.Target{})
		if err != nil {
			return err
		}
		if !levelFitsAccount(in.Level, account.Kind) {
			return gatehouse.Invalid("level", "a %s account takes %s", account.Kind, levelsOf(account.Kind))
		}
		if err := kernel.DecideOn(c, held, account, policy.AddMember, policy.Target{Level: in.Level}); err != nil {
			return err
		}
		// Lock the account's rules first: the roles and folder read below
		// stay while this transaction lasts.
		if err := tx.BumpAuthzVersion(ctx, account.ID); err != nil {
			return err
		}
		roles, err := access.ResolveRoles(ctx, tx, account.ID, "roles", requestedRoles)
		if err != nil {
			return err
		}
		if in.IdentityProvider != "" {
			if err := signin.ProviderForAccount(ctx, tx, in.IdentityProvider, account); err != nil {
				return err
			}
		}
		member, err = s.enrol(ctx, tx, c, account, enrolment{Username: username, Email: email, FirstName: firstName,
			LastName: lastName, Language: language, Phone: phone, UserType: userType, IdentityProviderID: in.IdentityProvider,
			Level: in.Level, Roles: roles,
			HomeFolderID: in.HomeFolderID, Notifications: in.Notifications, NamesRequired: true}, now)
		if err == nil && in.MFARequired {
			// Requiring a second factor changes the identity, which an
			// existing person shares with their other accounts.
			user, err := tx.User(ctx, member.UserID)
			if err != nil {
				return err
			}
			if _, err := s.AuthorizeIdentity(ctx, tx, c, user, policy.EditIdentity, "mfa_required"); err != nil {
				return err
			}
			return tx.RequireMFA(ctx, member.UserID)
		}
		return err
	})
	if err == nil {
		s.MailQueued()
	}
	return member, err
}

// enrolment is what enrol registers: validated input, roles resolved.
type enrolment struct {
	Username, Email, FirstName, LastName, Language, Phone string
	// UserType and IdentityProviderID are kept for a new identity only.
	UserType, IdentityProviderID string
	Level                        gatehouse.Level
	Roles                        []gatehouse.Role
	HomeFolderID                 string
	Notifications                gatehouse.Notifications
	// NamesRequired refuses a new username without names (single adds);
	// bulk invitations have no names to give.
	NamesRequired bool
}

// enrol registers a username to an account inside tx, for a caller already
// authorized to add that level (R-U1…R-U3, R-M1, R-M2, R-L1). A new username
// becomes a pending identity; an existing one keeps its names, language and
// phone whatever the request says (R-U2). The membership is active at once
// when the identity is active, with a "new site" notice; otherwise it waits
// for activation and an invitation is mailed. Client users count against the
// account's limit, pending ones included. It fails with EALREADYMEMBER or
// EUSERLIMIT before writing anything, so a bulk job can go on with the next
// person in the same transaction.
func (s *Service) enrol(ctx context.Context, tx gatehouse.Tx, c gatehouse.Caller, account gatehouse.Account, in enrolment, now time.Time) (gatehouse.Member, error) {
	// The version bump locks the account's rules (PostgreSQL), so no other
	// add to this account can slip between the look and the insert below.
	if err := tx.BumpAuthzVersion(ctx, account.ID); err != nil {
		return gatehouse.Member{}, err
	}
	user, err := tx.UserByUsername(ctx, in.Username)
	switch gatehouse.ErrorCode(err) {
	case "":
		if _, err := tx.MemberByUser(ctx, account.ID, user.ID); err == nil {
			return gatehouse.Member{}, gatehouse.Errorf(gatehouse.EALREADYMEMBER, "%s is already a user of this account", in.Username)
		} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return gatehouse.Member{}, err
		}
	case gatehouse.ENOTFOUND:
		if in.NamesRequired {
			if in.FirstName, err = gatehouse.ValidatePersonName("first_name", in.FirstName); err != nil {
				return gatehouse.Member{}, err
			}
			if in.LastName, err = gatehouse.ValidatePersonName("last_name", in.LastName); err != nil {
				return gatehouse.Member{}, err
			}
		}
	default:
		return gatehouse.Member{}, err
	}
	if in.HomeFolderID != "" {
		// A new member holds no grant yet: they reach a folder only through
		// their level or their roles, which cover every folder.
		probe := gatehouse.Membership{AccountID: account.ID, UserID: user.ID, Level: in.Level}
		if err := s.checkHomeFolder(ctx, tx, probe, len(in.Roles) > 0, in.HomeFolderID); err != nil {
			return gatehouse.Member{}, err
		}
	}
	if in.Level == gatehouse.LevelClientUser {
		if err := tx.ReserveClientUserSlot(ctx, account.ID); err != nil {
			return gatehouse.Member{}, err
		}
	}
	if user.ID == "" {
		// Another request may create the same username meanwhile; then its
		// identity is the one (R-U1, R-U2).
		user, _, err = tx.InsertUserIfAbsent(ctx, gatehouse.User{ID: s.NewID(), Username: in.Username, FirstName: in.FirstName,
			LastName: in.LastName, Language: in.Language, Phone: in.Phone, UserType: in.UserType,
			IdentityProviderID: in.IdentityProviderID, Status: gatehouse.UserPending, CreatedAt: now})
		if err != nil {
			return gatehouse.Member{}, err
		}
	}

	batch, member, err := s.admission(c, account, user, in, now)
	if err != nil {
		return gatehouse.Member{}, err
	}
	if err := tx.InsertBatch(ctx, batch); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		return gatehouse.Member{}, gatehouse.Errorf(gatehouse.EALREADYMEMBER, "%s is already a user of this account", in.Username)
	} else if err != nil {
		return gatehouse.Member{}, err
	}
	return member, nil
}

// admission is what registering one person to an account writes, once
// their identity is known and the checks are passed: the membership (active
// at once for an active identity), its roles, the audit events, and either
// an invitation with its activation e-mail or a "new site" notice (R-M2).
func (s *Service) admission(c gatehouse.Caller, account gatehouse.Account, user gatehouse.User, in enrolment, now time.Time) (gatehouse.WriteBatch, gatehouse.Member, error) {
	var b gatehouse.WriteBatch
	membership := gatehouse.Membership{ID: s.NewID(), AccountID: account.ID, UserID: user.ID, Level: in.Level,
		Status: gatehouse.MembershipActivationRequired, Email: in.Email, HomeFolderID: in.HomeFolderID,
		Notifications: in.Notifications, AddedBy: c.Principal.ActorID(), CreatedAt: now}
	if user.Status == gatehouse.UserActive {
		membership.Status = gatehouse.MembershipActive
	}
	b.Memberships = append(b.Memberships, membership)
	for _, id := range access.RoleIDs(in.Roles) {
		b.MembershipRoles = append(b.MembershipRoles, [2]string{membership.ID, id})
	}
	b.AuditEvents = append(b.AuditEvents, s.Audit(c, now, account.ID, "user.added", "membership", membership.ID))
	data := messages.Data{FirstName: user.FirstName, AccountName: account.Name, Username: user.Username}
	kind := messages.NewSite // already active elsewhere: no invitation, a notice
	if membership.Status != gatehouse.MembershipActive {
		secret, hash := gatehouse.NewToken(gatehouse.TokenInvitation)
		inv := gatehouse.Invitation{ID: s.NewID(), AccountID: account.ID, MembershipID: membership.ID, UserID: user.ID,
			Email: in.Email, Status: gatehouse.InvitationPending, TokenHash: hash, InvitedBy: c.Principal.ActorID(),
			SentAt: now, ExpiresAt: now.Add(s.invitationTTL)}
		b.Invitations = append(b.Invitations, inv)
		b.AuditEvents = append(b.AuditEvents, s.Audit(c, now, account.ID, "invitation.sent", "invitation", inv.ID))
		data.Link, data.ExpiresAt, kind = s.ActivationLink(secret), inv.ExpiresAt, messages.Activation
	}
	mail, err := s.Mail(now, in.Email, user.Language, kind, data)
	if err != nil {
		return b, gatehouse.Member{}, err
	}
	b.Messages = append(b.Messages, mail)
	return b, gatehouse.Member{Membership: membership, Username: user.Username, FirstName: user.FirstName,
		LastName: user.LastName, Language: user.Language, Roles: access.RoleNames(in.Roles)}, nil
}

// Member returns one user of an account. Its home folder is where the user
// lands now (see access.Model.HomeFolder).
func (s *Service) Member(ctx context.Context, c gatehouse.Caller, accountID, membershipID string) (gatehouse.Member, error) {
	if _, err := s.Authorize(ctx, s.Store, c, accountID, policy.ReadMembers); err != nil {
		return gatehouse.Member{}, err
	}
	m, err := s.Store.Member(ctx, accountID, membershipID)
	if err != nil {
		return m, err
	}
	members := []gatehouse.Member{m}
	err = s.landHome(ctx, accountID, members)
	return members[0], err
}

// Members lists the users of an account, oldest first.
func (s *Service) Members(ctx context.Context, c gatehouse.Caller, accountID string, page gatehouse.PageRequest) (gatehouse.Page[gatehouse.Member], error) {
	if _, err := s.Authorize(ctx, s.Store, c, accountID, policy.ReadMembers); err != nil {
		return gatehouse.Page[gatehouse.Member]{}, err
	}
	members, err := s.Store.ListMembers(ctx, accountID, page)
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
func (s *Service) checkHomeFolder(ctx context.Context, r gatehouse.Reader, m gatehouse.Membership, hasRoles bool, folderID string) error {
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
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error {
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
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), accountID, "user.updated", "membership", membershipID))
	})
	if err != nil {
		return member, err
	}
	members := []gatehouse.Member{member}
	err = s.landHome(ctx, accountID, members)
	return members[0], err
}

// isOwnMembership tells whether the membership is the caller's own, active,
// reached with a session or a token allowed to write users.
func (s *Service) isOwnMembership(ctx context.Context, r gatehouse.Reader, c gatehouse.Caller, accountID, membershipID string) bool {
	if c.Principal.UserID == "" {
		return false
	}
	m, err := r.Member(ctx, accountID, membershipID)
	return err == nil && m.UserID == c.Principal.UserID && m.Status == gatehouse.MembershipActive
}

// setNotifications stores a member's notification choices (R-N3) and reads
// the member back into member.
func (s *Service) setNotifications(ctx context.Context, tx gatehouse.Tx, c gatehouse.Caller, accountID, membershipID string, n gatehouse.Notifications, member *gatehouse.Member) error {
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
	account, acc, err := s.AuthorizeAccess(ctx, s.Store, c, accountID, policy.ReadAccount, policy.Target{})
	if err != nil {
		return gatehouse.Member{}, nil, err
	}
	member, err := s.Store.Member(ctx, accountID, membershipID)
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
	return s.Store.Write(ctx, func(tx gatehouse.Tx) error {
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

func levelFitsAccount(level gatehouse.Level, kind gatehouse.AccountKind) bool {
	if kind == gatehouse.KindIntegrator {
		return level.IsIntegratorStaff()
	}
	return level == gatehouse.LevelClientAdmin || level == gatehouse.LevelClientUser
}

func levelsOf(kind gatehouse.AccountKind) string {
	if kind == gatehouse.KindIntegrator {
		return "integrator_admin or integrator_user"
	}
	return "client_admin or client_user"
}

// normalizePhone parses a mobile number given with its country code and
// returns it in E.164 form (R-U7).
func normalizePhone(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) > 40 {
		return "", gatehouse.Invalid("phone", "phone must be a phone number with its country code, such as +33 6 12 34 56 78")
	}
	num, err := phonenumbers.Parse(raw, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", gatehouse.Invalid("phone", "phone must be a phone number with its country code, such as +33 6 12 34 56 78")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
