package service

import (
	"context"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
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
	Notifications    gatehouse.Notifications
}

// AddUser registers a username to an account (R-U1…R-U3, R-M1, R-M2,
// R-L1, R-P2). A new username becomes a pending identity; an existing one
// keeps its names, language and phone, whatever the request says (R-U2). The
// membership is active at once when the identity is active, otherwise it
// waits for activation and an invitation is created. Client users count
// against the account's limit, pending ones included.
func (s *Service) AddUser(ctx context.Context, c gatehouse.Caller, accountID string, in NewMember) (gatehouse.Member, error) {
	username, err := gatehouse.ParseEmail("username", in.Username)
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
	if in.IdentityProvider != "" {
		return gatehouse.Member{}, gatehouse.Invalid("identity_provider", "no identity provider with this id")
	}
	if in.HomeFolderID != "" {
		return gatehouse.Member{}, gatehouse.Invalid("home_folder_id", "no folder with this id in the account")
	}
	roles, err := memberRoles(in.Level, in.Roles)
	if err != nil {
		return gatehouse.Member{}, err
	}
	phone, err := normalizePhone(in.Phone)
	if err != nil {
		return gatehouse.Member{}, err
	}
	firstName, lastName := strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)

	now := s.now()
	var member gatehouse.Member
	err = s.store.Write(ctx, func(tx gatehouse.Tx) error {
		account, access, err := s.authorizeAccess(ctx, tx, c, accountID, manageMembers)
		if err != nil {
			return err
		}
		if !levelFitsAccount(in.Level, account.Kind) {
			return gatehouse.Invalid("level", "a %s account takes %s", account.Kind, levelsOf(account.Kind))
		}
		if !mayManageLevel(access, account, in.Level) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not add a %s to this account", in.Level)
		}

		user, err := tx.UserByUsername(ctx, username)
		switch gatehouse.ErrorCode(err) {
		case "":
		case gatehouse.ENOTFOUND:
			if firstName, err = gatehouse.ValidatePersonName("first_name", firstName); err != nil {
				return err
			}
			if lastName, err = gatehouse.ValidatePersonName("last_name", lastName); err != nil {
				return err
			}
			// Another request may create the same username meanwhile; then
			// its identity is the one (R-U1, R-U2).
			user, _, err = tx.InsertUserIfAbsent(ctx, gatehouse.User{ID: s.newID(), Username: username, FirstName: firstName,
				LastName: lastName, Language: language, Phone: phone, Status: gatehouse.UserPending, CreatedAt: now})
			if err != nil {
				return err
			}
		default:
			return err
		}

		membership := gatehouse.Membership{ID: s.newID(), AccountID: account.ID, UserID: user.ID, Level: in.Level,
			Status: gatehouse.MembershipActivationRequired, Email: email, Notifications: in.Notifications,
			AddedBy: c.Principal.ActorID(), CreatedAt: now}
		if user.Status == gatehouse.UserActive {
			membership.Status = gatehouse.MembershipActive
		}
		if err := tx.InsertMembership(ctx, membership); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return gatehouse.Errorf(gatehouse.EALREADYMEMBER, "%s is already a user of this account", username)
		} else if err != nil {
			return err
		}
		if in.Level == gatehouse.LevelClientUser {
			if err := tx.ReserveClientUserSlot(ctx, account.ID); err != nil {
				return err
			}
		}
		if err := tx.SetMembershipRoles(ctx, membership.ID, roles); err != nil {
			return err
		}
		if err := tx.InsertAuditEvent(ctx, s.audit(c, now, account.ID, "user.added", "membership", membership.ID)); err != nil {
			return err
		}
		mail := messages.Data{FirstName: user.FirstName, AccountName: account.Name, Username: user.Username}
		if membership.Status == gatehouse.MembershipActive {
			// Already active elsewhere: no invitation, a notice (R-M2).
			if err := s.queueMail(ctx, tx, now, email, user.Language, messages.NewSite, mail); err != nil {
				return err
			}
		} else {
			secret, hash := gatehouse.NewToken(gatehouse.TokenInvitation)
			inv := gatehouse.Invitation{ID: s.newID(), AccountID: account.ID, MembershipID: membership.ID, UserID: user.ID,
				Email: email, Status: gatehouse.InvitationPending, TokenHash: hash, InvitedBy: c.Principal.ActorID(),
				SentAt: now, ExpiresAt: now.Add(s.invitationTTL)}
			if err := tx.InsertInvitation(ctx, inv); err != nil {
				return err
			}
			mail.Link, mail.ExpiresAt = s.activationLink(secret), inv.ExpiresAt
			if err := s.queueMail(ctx, tx, now, email, user.Language, messages.Activation, mail); err != nil {
				return err
			}
			if err := tx.InsertAuditEvent(ctx, s.audit(c, now, account.ID, "invitation.sent", "invitation", inv.ID)); err != nil {
				return err
			}
		}
		member = gatehouse.Member{Membership: membership, Username: user.Username, FirstName: user.FirstName,
			LastName: user.LastName, Language: user.Language, Roles: roles}
		return nil
	})
	if err == nil {
		s.mailQueued()
	}
	return member, err
}

// Member returns one user of an account.
func (s *Service) Member(ctx context.Context, c gatehouse.Caller, accountID, membershipID string) (gatehouse.Member, error) {
	if _, err := s.authorize(ctx, s.store, c, accountID, readMembers); err != nil {
		return gatehouse.Member{}, err
	}
	return s.store.Member(ctx, accountID, membershipID)
}

// Members lists the users of an account, oldest first.
func (s *Service) Members(ctx context.Context, c gatehouse.Caller, accountID string, page gatehouse.PageRequest) (gatehouse.Page[gatehouse.Member], error) {
	if _, err := s.authorize(ctx, s.store, c, accountID, readMembers); err != nil {
		return gatehouse.Page[gatehouse.Member]{}, err
	}
	return s.store.ListMembers(ctx, accountID, page)
}

// RemoveUser ends a membership (R-M7): access through it stops at the next
// request, and a client user's slot is freed.
func (s *Service) RemoveUser(ctx context.Context, c gatehouse.Caller, accountID, membershipID string) error {
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		account, access, err := s.authorizeAccess(ctx, tx, c, accountID, manageMembers)
		if err != nil {
			return err
		}
		member, err := tx.Member(ctx, accountID, membershipID)
		if err != nil {
			return err
		}
		allowed := mayManageLevel(access, account, member.Level)
		if member.Level == gatehouse.LevelRemoteMonitoring {
			allowed = mayManageRemoteMonitoring(access, account)
			// Its credentials end with it: no session of it may outlive it.
			if err := tx.RevokeSessionsOf(ctx, member.UserID, s.now()); err != nil {
				return err
			}
		}
		if !allowed {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not remove a %s from this account", member.Level)
		}
		if err := tx.DeleteMembership(ctx, accountID, membershipID); err != nil {
			return err
		}
		// Its activation link dies with it.
		if err := tx.CancelInvitationsOf(ctx, accountID, membershipID, s.now()); err != nil {
			return err
		}
		if member.Level == gatehouse.LevelClientUser {
			if err := tx.ReleaseClientUserSlot(ctx, accountID); err != nil {
				return err
			}
		}
		return tx.InsertAuditEvent(ctx, s.audit(c, s.now(), accountID, "user.removed", "membership", membershipID))
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

// memberRoles checks the requested roles against the built-in ones (custom
// roles arrive with the roles issue) and applies the default.
func memberRoles(level gatehouse.Level, requested []string) ([]string, error) {
	if requested == nil {
		if level == gatehouse.LevelClientUser {
			return []string{"viewer"}, nil
		}
		return []string{}, nil
	}
	roles := make([]string, 0, len(requested))
	for _, r := range requested {
		r = strings.TrimSpace(r)
		if !slices.Contains(gatehouse.BuiltinRoles, r) {
			return nil, gatehouse.Invalid("roles", "unknown role %q", r)
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	return roles, nil
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
