package scim

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Users: the account's people as its directory sees them. Creating one is
// adding a user to the account (people.AddUser), with every rule of it:
// an existing username keeps its identity and names, a new one is invited
// by e-mail (or signs in through the token's identity provider), and a
// client user takes one of the account's client-user slots, pending
// invitations counted. Suspending one (active false) ends its access,
// sessions and tokens; deleting one removes the membership.

// DefaultCount is how many resources a query answers when it names no
// count.
const DefaultCount = 100

// Query is a list's filter and page, as the query string gives them.
type Query struct {
	Filter string
	// StartIndex is 1-based; Count how many to answer, 0 only the total.
	StartIndex, Count int
	// ExcludeMembers leaves groups' members out (excludedAttributes=members).
	ExcludeMembers bool
}

// page reads a query's paging: startIndex below 1 is 1, a count above
// MaxResults is MaxResults (RFC 7644 §3.4.2.4).
func (q Query) page() (offset, count int) {
	start := max(q.StartIndex, 1)
	count = q.Count
	if count < 0 {
		count = 0
	}
	return start - 1, min(count, MaxResults)
}

// ListUsers answers a query of the account's people.
func (s *Service) ListUsers(ctx context.Context, d Directory, accountID string, q Query) (ListResponse[User], error) {
	out := ListResponse[User]{Schemas: []string{SchemaListResponse}, Resources: []User{}}
	var filter *gatehouse.SCIMFilter
	if strings.TrimSpace(q.Filter) != "" {
		var err error
		if filter, err = ParseUserFilter(q.Filter); err != nil {
			return out, err
		}
	}
	account, err := s.authorize(ctx, d.Caller, accountID, policy.ReadMembers)
	if err != nil {
		return out, err
	}
	offset, count := q.page()
	members, total, err := s.store.SCIMMembers(ctx, account.ID, gatehouse.SCIMMemberQuery{Filter: filter, Offset: offset, Count: count})
	if err != nil {
		return out, err
	}
	base := s.Base(account.ID)
	for _, m := range members {
		out.Resources = append(out.Resources, userOf(m, base))
	}
	out.TotalResults, out.StartIndex, out.ItemsPerPage = total, offset+1, len(out.Resources)
	return out, nil
}

// GetUser returns one of the account's people by SCIM id.
func (s *Service) GetUser(ctx context.Context, d Directory, accountID, id string) (User, error) {
	account, err := s.authorize(ctx, d.Caller, accountID, policy.ReadMembers)
	if err != nil {
		return User{}, err
	}
	m, err := s.member(ctx, d, account.ID, id)
	if err != nil {
		return User{}, err
	}
	return userOf(m, s.Base(account.ID)), nil
}

// member reads one of the account's people by SCIM id: the remote
// monitoring user is no directory's.
func (s *Service) member(ctx context.Context, d Directory, accountID, id string) (gatehouse.Member, error) {
	m, err := s.people.Member(ctx, d.Caller, accountID, id)
	if err == nil && m.Level == gatehouse.LevelRemoteMonitoring {
		err = gatehouse.NotFound("user")
	}
	return m, err
}

// CreateUser adds a person to the account at its users' level, as the
// directory describes them. The identity a username has already keeps
// its names (R-U2); a new one needs a given and a family name, or a
// display name to take them from.
func (s *Service) CreateUser(ctx context.Context, d Directory, accountID string, in User) (User, error) {
	account, err := s.authorize(ctx, d.Caller, accountID, policy.AddMember)
	if err != nil {
		return User{}, err
	}
	given, family := namesOf(in)
	email := workEmail(in.Emails)
	lang := language(in.Language)
	if lang == "" {
		lang = language(in.Locale)
	}
	member, err := s.people.AddUser(ctx, d.Caller, account.ID, people.NewMember{Username: in.UserName, FirstName: given,
		LastName: family, Email: email, Language: lang, Level: userLevel(account.Kind),
		IdentityProvider: d.Token.IdentityProviderID, ExternalID: in.ExternalID})
	if err != nil {
		return User{}, s.limitDetail(ctx, account.ID, err)
	}
	if in.Active != nil && !bool(*in.Active) {
		suspended := true
		if member, err = s.people.UpdateMember(ctx, d.Caller, account.ID, member.ID, people.MemberPatch{Suspended: &suspended}); err != nil {
			return User{}, err
		}
	}
	return userOf(member, s.Base(account.ID)), nil
}

// limitDetail words the client-user limit as the directory shows its
// administrator: which site, how many, and that pending invitations count.
func (s *Service) limitDetail(ctx context.Context, accountID string, err error) error {
	if gatehouse.ErrorCode(err) != gatehouse.EUSERLIMIT {
		return err
	}
	account, readErr := s.store.Account(ctx, accountID)
	if readErr != nil {
		return err
	}
	return gatehouse.Errorf(gatehouse.EUSERLIMIT, "%s already has %d client users (pending invitations count): remove one, or ask for a higher limit",
		account.Name, account.Settings.MaxClientUsers)
}

// namesOf reads a User's given and family names, from its name, else
// from its display name ("Zoé Martin": Zoé, Martin).
func namesOf(u User) (given, family string) {
	if u.Name != nil {
		given, family = strings.TrimSpace(u.Name.GivenName), strings.TrimSpace(u.Name.FamilyName)
	}
	display := strings.TrimSpace(u.DisplayName)
	if display == "" && u.Name != nil {
		display = strings.TrimSpace(u.Name.Formatted)
	}
	if (given == "" || family == "") && display != "" {
		first, rest, _ := strings.Cut(display, " ")
		if given == "" {
			given = first
		}
		if family == "" {
			family = strings.TrimSpace(rest)
		}
	}
	return given, family
}

// ReplaceUser makes the person what the directory's full description says
// (PUT): username, names, e-mail address, externalId, active. ifMatch, when
// not empty, must name the version the person is at.
func (s *Service) ReplaceUser(ctx context.Context, d Directory, accountID, id, ifMatch string, in User) (User, error) {
	given, family := namesOf(in)
	ch := userChange{userName: &in.UserName, externalID: &in.ExternalID}
	if given != "" {
		ch.givenName = &given
	}
	if family != "" {
		ch.familyName = &family
	}
	if email := workEmail(in.Emails); email != "" {
		ch.email = &email
	}
	if lang := language(in.Language); lang != "" {
		ch.language = &lang
	}
	if in.Active != nil {
		active := bool(*in.Active)
		ch.active = &active
	}
	return s.changeUser(ctx, d, accountID, id, ifMatch, ch)
}

// PatchUser applies a PATCH's operations to the person.
func (s *Service) PatchUser(ctx context.Context, d Directory, accountID, id, ifMatch string, p PatchRequest) (User, error) {
	ch, err := userPatch(p)
	if err != nil {
		return User{}, err
	}
	return s.changeUser(ctx, d, accountID, id, ifMatch, ch)
}

// changeUser applies a change, each part through the use case that owns
// it: the username and names are the person's identity, which they share
// with their other accounts (a username the directory changes waits for
// the person to confirm it; names it may not change stay, R-U2); the
// e-mail address, externalId and suspension are the membership's.
func (s *Service) changeUser(ctx context.Context, d Directory, accountID, id, ifMatch string, ch userChange) (User, error) {
	account, err := s.authorize(ctx, d.Caller, accountID, policy.ChangeMember)
	if err != nil {
		return User{}, err
	}
	current, err := s.member(ctx, d, account.ID, id)
	if err != nil {
		return User{}, err
	}
	base := s.Base(account.ID)
	if err := checkVersion(ifMatch, userOf(current, base).Meta.Version); err != nil {
		return User{}, err
	}
	if ch.userName != nil && gatehouse.UsernameKey(strings.TrimSpace(*ch.userName)) != gatehouse.UsernameKey(current.Username) {
		if _, err := s.people.UpdateProfile(ctx, d.Caller, current.UserID, people.ProfilePatch{Username: ch.userName}); err != nil {
			return User{}, err
		}
	}
	profile := people.ProfilePatch{}
	if ch.givenName != nil && strings.TrimSpace(*ch.givenName) != current.FirstName {
		profile.FirstName = ch.givenName
	}
	if ch.familyName != nil && strings.TrimSpace(*ch.familyName) != current.LastName {
		profile.LastName = ch.familyName
	}
	if ch.language != nil && *ch.language != current.Language {
		profile.Language = ch.language
	}
	if profile != (people.ProfilePatch{}) {
		// A person the policy does not let the directory change (one who
		// also belongs to accounts it does not provision) keeps the names
		// they have (R-U2): the directory's are not an error, they are not
		// taken.
		refused := s.people.MayChangeIdentity(ctx, d.Caller, current.UserID)
		switch gatehouse.ErrorCode(refused) {
		case "":
			if _, err := s.people.UpdateProfile(ctx, d.Caller, current.UserID, profile); err != nil {
				return User{}, err
			}
		case gatehouse.EINTERNAL, gatehouse.EUNAVAILABLE:
			return User{}, refused
		}
	}
	var patch people.MemberPatch
	if ch.email != nil && strings.TrimSpace(*ch.email) != current.Email {
		patch.Email = ch.email
	}
	if ch.externalID != nil && strings.TrimSpace(*ch.externalID) != current.ExternalID {
		patch.ExternalID = ch.externalID
	}
	if ch.active != nil && !*ch.active != current.Suspended() {
		suspend := !*ch.active
		patch.Suspended = &suspend
	}
	if patch != (people.MemberPatch{}) {
		if _, err := s.people.UpdateMember(ctx, d.Caller, account.ID, current.ID, patch); err != nil {
			return User{}, err
		}
	}
	m, err := s.member(ctx, d, account.ID, id)
	if err != nil {
		return User{}, err
	}
	return userOf(m, base), nil
}

// DeleteUser removes the person from the account (their membership; the
// identity stays, with their other accounts).
func (s *Service) DeleteUser(ctx context.Context, d Directory, accountID, id, ifMatch string) error {
	account, err := s.authorize(ctx, d.Caller, accountID, policy.RemoveMember)
	if err != nil {
		return err
	}
	current, err := s.member(ctx, d, account.ID, id)
	if err != nil {
		return err
	}
	if err := checkVersion(ifMatch, userOf(current, s.Base(account.ID)).Meta.Version); err != nil {
		return err
	}
	return s.people.RemoveUser(ctx, d.Caller, account.ID, current.ID)
}
