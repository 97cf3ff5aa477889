package people

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
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

	return s.addInGroup(&pendingAdd{ctx: ctx, caller: c, accountID: accountID, requestedRoles: requestedRoles, mfaRequired: in.MFARequired,
		done: make(chan addOutcome, 1), in: enrolment{Username: username, Email: email, FirstName: firstName,
			LastName: lastName, Language: language, Phone: phone, UserType: userType, IdentityProviderID: in.IdentityProvider,
			Level: in.Level, ExpiresAt: expiresAt, ExternalID: externalID, HomeFolderID: in.HomeFolderID,
			Notifications: in.Notifications, NamesRequired: true}})
}

// enrolment is what registering one person to an account takes: validated
// input, roles resolved.
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
