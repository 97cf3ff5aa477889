package gatehouse

import (
	"time"
)

// SCIM provisioning (docs/scim.md): an account's directory (Microsoft Entra
// ID, Okta) keeps the account's people and groups as they are in the
// directory, through SCIM 2.0 (RFC 7643, RFC 7644) with one of the
// account's SCIM tokens.

// TokenSCIM starts every SCIM token's secret.
const TokenSCIM = "gh_scim_"

// SCIMToken lets an account's directory provision its people. Only the
// SHA-256 of the secret is stored.
type SCIMToken struct {
	ID        string
	AccountID string
	Name      string
	Hash      []byte
	// ActsAs is the level the token acts with in its account, fixed when it
	// is made from what its maker may do there: LevelClientAdmin (it
	// provisions client users) or LevelIntegratorAdmin (every level of the
	// account). See SCIMAccess.
	ActsAs Level
	// IdentityProviderID is the provider the people the token creates sign
	// in through; "" for a password of their own.
	IdentityProviderID string
	CreatedBy          string
	CreatedAt          time.Time
	LastUsedAt         time.Time // zero: never used
	RevokedAt          time.Time // zero: live
}

// SCIMAccess is what a SCIM token acting as level holds over an account of
// kind: a token made by an integrator's administrator acts in a client as
// they do (through the integrator), one made by a client's administrator as
// they do.
func SCIMAccess(kind AccountKind, actsAs Level) Access {
	if kind == KindClient && actsAs == LevelIntegratorAdmin {
		return Access{IntegratorLevel: LevelIntegratorAdmin}
	}
	return Access{Level: actsAs}
}

// MaxSCIMTokens bounds an account's live SCIM tokens: one per directory,
// and a few more while one replaces another.
const MaxSCIMTokens = 20

// SCIMCall is one provisioning request of an account's directory, as its
// administrators read it in the call log.
type SCIMCall struct {
	ID        string
	AccountID string
	TokenID   string
	At        time.Time
	Method    string
	// Path is the request's path below the account's SCIM base, with its
	// query (the directory's filters show what it looked for).
	Path   string
	Status int
	// Outcome is SCIMCallOK (2xx), SCIMCallRefused (4xx) or SCIMCallFailed
	// (5xx).
	Outcome string
	// Detail is what the call changed, or the error's detail.
	Detail string
}

// The outcomes of a provisioning call.
const (
	SCIMCallOK      = "ok"
	SCIMCallRefused = "refused"
	SCIMCallFailed  = "failed"
)

// SCIMCallsKept is how long the call log keeps a call.
const SCIMCallsKept = 30 * 24 * time.Hour

// SCIMGroupMapping says what membership of a directory group gives in the
// account: a role its Gatehouse group holds account-wide, or a level its
// members hold (exactly one of RoleID and Level).
type SCIMGroupMapping struct {
	ID        string
	AccountID string
	// GroupName is the directory group's display name, matched without
	// regard to case.
	GroupName string
	// RoleID is a custom role's id or a built-in role's name; Role names it.
	RoleID string
	Role   string
	// Level is an administrator's level (client_admin, integrator_admin).
	Level     Level
	CreatedBy string
	CreatedAt time.Time
}

// SCIMGroup is a Gatehouse group as the directory sees it: the group, its
// members, and the directory's id for it.
type SCIMGroup struct {
	Group
	ExternalID string
	// Members are the group's members by membership, in membership order;
	// nil when not read.
	Members []SCIMGroupMember
}

// SCIMGroupMember is one member of a group: their membership of the
// account (their SCIM id) and username.
type SCIMGroupMember struct {
	MembershipID string
	Username     string
}

// SCIMFilter is a parsed SCIM filter (RFC 7644 §3.4.2.2): a comparison of
// one attribute, or a logical operation of others. The store turns it into
// its query.
type SCIMFilter struct {
	// Op is "and", "or" or "not" for a logical operation of Left (and
	// Right); "true" or "false" for a comparison decided when the filter
	// was read (emails[type eq "work"]: a user's one address is a work
	// address); otherwise a comparison: "eq", "ne", "co", "sw", "ew" or
	// "pr".
	Op          string
	Left, Right *SCIMFilter
	// Attribute is the attribute compared, one of SCIMFilterAttributes.
	Attribute string
	// Value is the value compared with: a string, or "true"/"false" for
	// active.
	Value string
}

// The attributes of a User a filter may compare, by their canonical name.
const (
	SCIMAttrUserName   = "userName"
	SCIMAttrExternalID = "externalId"
	SCIMAttrID         = "id"
	SCIMAttrEmail      = "emails.value"
	SCIMAttrGivenName  = "name.givenName"
	SCIMAttrFamilyName = "name.familyName"
	SCIMAttrActive     = "active"
	// SCIMAttrDisplayName is a Group's name; SCIMAttrMember the SCIM id
	// of one of its members.
	SCIMAttrDisplayName = "displayName"
	SCIMAttrMember      = "members.value"
)

// SCIMMemberQuery selects an account's members for a SCIM list: those the
// filter keeps (nil: all), ordered by membership id, Count from the
// Offset-th (0-based).
type SCIMMemberQuery struct {
	Filter        *SCIMFilter
	Offset, Count int
}

// MaxExternalIDLen bounds the id a directory gives a person or a group.
const MaxExternalIDLen = 255

// ValidateExternalID checks the id a directory gives a person or a group
// (SCIM's externalId): plain text, at most MaxExternalIDLen characters,
// returned trimmed.
func ValidateExternalID(field, id string) (string, error) {
	return validateText(field, id, "%s is required", MaxExternalIDLen)
}
