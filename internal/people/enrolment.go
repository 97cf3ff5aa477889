package people

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// NewMember is the input of AddUser (the API reference at /api/docs).
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
	// PhoneCountry is the two-letter country picked beside a phone number
	// typed without its +country code; "" requires the code.
	PhoneCountry  string
	UserType      string
	Notifications gatehouse.Notifications
	// MFARequired makes a second factor mandatory for the person: they
	// enroll one at their next sign-in and cannot turn it off.
	// It only ever adds protection, so it applies to an existing identity
	// too.
	MFARequired bool
	// ExpiresAt ends the membership by itself at that instant (a
	// technician for a day, a contractor for a month); zero for never. It
	// must be in the future, at most a year ahead.
	ExpiresAt time.Time
	// ExternalID is the account's directory's id for the person (SCIM's
	// externalId), unique in the account; "" for none.
	ExternalID string
}

// AddUser registers a username to an account (R-U1…R-U3, R-M1, R-M2,
// R-L1, R-P2). A new username becomes a pending identity; an existing one
// keeps its names, language and phone, whatever the request says (R-U2). The
// membership is active at once when the identity is active, otherwise it
// waits for activation and an invitation is created. Client users count
// against the account's limit, pending ones included.
func (s *Service) AddUser(ctx context.Context, c gatehouse.Caller, accountID string, in NewMember) (gatehouse.Member, error) {
	// Every field that can be checked alone is, and all the mistakes are
	// answered at once.
	var check gatehouse.Validation
	username, err := gatehouse.ParseUsername("username", in.Username)
	check.Check(err)
	email := username
	if strings.TrimSpace(in.Email) != "" {
		email, err = gatehouse.ParseEmail("email", in.Email)
		check.Check(err)
	}
	language := in.Language
	if language == "" {
		language = "en"
	}
	if !gatehouse.ValidLanguage(language) {
		check.Check(gatehouse.Invalid("language", "language must be one of %s", strings.Join(gatehouse.Languages, ", ")))
	}
	switch in.Level {
	case gatehouse.LevelIntegratorAdmin, gatehouse.LevelIntegratorUser, gatehouse.LevelClientAdmin, gatehouse.LevelClientUser:
	case "":
		check.Check(gatehouse.Invalid("level", "level is required"))
	default:
		check.Check(gatehouse.Invalid("level", "level must be integrator_admin, integrator_user, client_admin or client_user"))
	}
	userType, err := validateUserType(in.UserType)
	check.Check(err)
	requestedRoles := in.Roles
	if requestedRoles == nil && in.Level == gatehouse.LevelClientUser {
		requestedRoles = []string{"viewer"}
	}
	phone, err := gatehouse.NormalizePhone(in.Phone, in.PhoneCountry)
	check.Check(err)
	for _, name := range []struct{ field, value string }{{"first_name", in.FirstName}, {"last_name", in.LastName}} {
		// Names may be left out (an existing identity keeps its own), but
		// what is given must be a name.
		if strings.TrimSpace(name.value) != "" {
			_, err := gatehouse.ValidatePersonName(name.field, name.value)
			check.Check(err)
		}
	}
	now := s.Now()
	expiresAt, err := gatehouse.ValidateAccessEnd("expires_at", in.ExpiresAt, now)
	check.Check(err)
	externalID, err := ValidateExternalID(in.ExternalID)
	check.Check(err)
	if err := check.Err(); err != nil {
		return gatehouse.Member{}, err
	}
	firstName, lastName := strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)

	var member gatehouse.Member
	err = s.enrolmentStore.Write(ctx, func(tx EnrolmentTx) error {
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
			Level: in.Level, Roles: roles, ExpiresAt: expiresAt, ExternalID: externalID,
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
	// a bulk invitation file may leave its names out.
	NamesRequired bool
	// ExpiresAt ends the membership by itself; zero for never.
	ExpiresAt time.Time
	// ExternalID is the directory's id for the person; "" for none.
	ExternalID string
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
func (s *Service) enrol(ctx context.Context, tx EnrolmentTx, c gatehouse.Caller, account gatehouse.Account, in enrolment, now time.Time) (gatehouse.Member, error) {
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

	brand, err := s.MailBrand(ctx, tx, kernel.MailScope{AccountID: account.ID})
	if err != nil {
		return gatehouse.Member{}, err
	}
	batch, member, err := s.admission(c, account, brand, user, in, now)
	if err != nil {
		return gatehouse.Member{}, err
	}
	if err := tx.InsertBatch(ctx, batch); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
		if in.ExternalID != "" {
			// The directory's id may be the one taken: say so, as the
			// username is not.
			if _, err := tx.MemberByUser(ctx, account.ID, user.ID); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
				return gatehouse.Member{}, externalIDTaken()
			}
		}
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
func (s *Service) admission(c gatehouse.Caller, account gatehouse.Account, brand gatehouse.Brand, user gatehouse.User, in enrolment, now time.Time) (gatehouse.WriteBatch, gatehouse.Member, error) {
	var b gatehouse.WriteBatch
	membership := gatehouse.Membership{ID: s.NewID(), AccountID: account.ID, UserID: user.ID, Level: in.Level,
		Status: gatehouse.MembershipActivationRequired, Email: in.Email, HomeFolderID: in.HomeFolderID,
		Notifications: in.Notifications, AddedBy: c.Principal.ActorID(), CreatedAt: now, ExpiresAt: in.ExpiresAt, ExternalID: in.ExternalID}
	if user.Status == gatehouse.UserActive {
		membership.Status = gatehouse.MembershipActive
	}
	b.Memberships = append(b.Memberships, membership)
	for _, id := range access.RoleIDs(in.Roles) {
		b.MembershipRoles = append(b.MembershipRoles, [2]string{membership.ID, id})
	}
	b.AuditEvents = append(b.AuditEvents, s.Audit(c, now, account.ID, "user.added", "membership", membership.ID))
	data := messages.Data{FirstName: user.FirstName, AccountName: account.Name, Username: user.Username, AccessUntil: in.ExpiresAt}
	kind := messages.NewSite // already active elsewhere: no invitation, a notice
	if membership.Status != gatehouse.MembershipActive {
		secret, hash := gatehouse.NewToken(gatehouse.TokenInvitation)
		inv := gatehouse.Invitation{ID: s.NewID(), AccountID: account.ID, MembershipID: membership.ID, UserID: user.ID,
			Email: in.Email, Status: gatehouse.InvitationPending, TokenHash: hash, InvitedBy: c.Principal.ActorID(),
			SentAt: now, ExpiresAt: invitationEnd(now.Add(s.invitationTTL), membership)}
		b.Invitations = append(b.Invitations, inv)
		b.AuditEvents = append(b.AuditEvents, s.Audit(c, now, account.ID, "invitation.sent", "invitation", inv.ID))
		data.Link, data.ExpiresAt, kind = s.ActivationLink(secret), inv.ExpiresAt, messages.Activation
	}
	mail, err := s.BrandedMail(now, brand, in.Email, user.Language, kind, data)
	if err != nil {
		return b, gatehouse.Member{}, err
	}
	b.Messages = append(b.Messages, mail)
	return b, gatehouse.Member{Membership: membership, Username: user.Username, FirstName: user.FirstName,
		LastName: user.LastName, Language: user.Language, Roles: access.RoleNames(in.Roles)}, nil
}

// invitationEnd is when an invitation link sent for a membership dies: at
// the usual end, or when the membership ends by itself if that comes first.
func invitationEnd(usual time.Time, m gatehouse.Membership) time.Time {
	if !m.ExpiresAt.IsZero() && m.ExpiresAt.Before(usual) {
		return m.ExpiresAt
	}
	return usual
}

// ValidateExternalID checks the id an account's directory gives a person
// (SCIM's externalId) and returns it trimmed; "" is none.
func ValidateExternalID(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", nil
	}
	return gatehouse.ValidateExternalID("external_id", raw)
}

func externalIDTaken() error {
	return &gatehouse.Error{Code: gatehouse.ECONFLICT, Field: "external_id", Message: "another user of this account has this external id"}
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
