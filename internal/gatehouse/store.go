package gatehouse

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"
)

// User is one identity: a global username that may be registered to many
// accounts (R-U1).
type User struct {
	ID        string
	Username  string // as typed; unique without regard to case
	FirstName string
	LastName  string
	Language  string
	// Phone is the mobile number in E.164 form, or "".
	Phone string
	// UserType is a free label of the person's role at the site (R-U7).
	UserType string
	// IdentityProviderID is the provider the identity signs in through,
	// or "" for a local password (R-U5).
	IdentityProviderID string
	Status             UserStatus
	CreatedAt          time.Time
}

// UserStatus tells whether an identity has activated (set a password or
// signed in through its identity provider).
type UserStatus string

const (
	UserPending UserStatus = "pending"
	UserActive  UserStatus = "active"
)

// MembershipStatus is the life cycle of one user in one account (R-M1).
type MembershipStatus string

const (
	MembershipCreating           MembershipStatus = "creating"
	MembershipActivationRequired MembershipStatus = "activation_required"
	MembershipActive             MembershipStatus = "active"
)

// Membership registers a user to an account with a level.
type Membership struct {
	ID        string
	AccountID string
	UserID    string
	Level     Level
	Status    MembershipStatus
	// Email is where mail about this account goes (R-U3).
	Email string
	// Description says what a remote monitoring user is for (R-RM1).
	Description   string
	HomeFolderID  string
	Notifications Notifications
	// AddedBy is the actor id of whoever added the member.
	AddedBy   string
	CreatedAt time.Time
	// ExpiresAt is when the membership ends by itself; zero for never.
	ExpiresAt time.Time
	// ExternalID is the account's directory's id for the person (SCIM's
	// externalId); "" when no directory named them.
	ExternalID string
	// SuspendedAt is when the membership was suspended (by the account's
	// directory): it then holds no access until it is restored. Zero while
	// it is not suspended.
	SuspendedAt time.Time
}

// Suspended tells whether the membership is suspended.
func (m Membership) Suspended() bool { return !m.SuspendedAt.IsZero() }

// Expired tells whether the membership has ended by itself at now.
func (m Membership) Expired(now time.Time) bool { return Expired(m.ExpiresAt, now) }

// AuditEvent records one change or security event (R-X1).
type AuditEvent struct {
	ID         string
	AccountID  string // empty for platform-wide events
	At         time.Time
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	IP         string
	RequestID  string
	// UserID is the person the change concerns, when there is one: the
	// member of a membership acted on (the store fills it from the
	// membership when the use case did not), the person of an invitation.
	UserID string
	// Changes are the fields the change gave another value, in the order
	// the use case named them; none for events that only happened.
	Changes []AuditChange
}

// AuditChange is one field of a change, named and valued as the API shows
// that field (max_client_users, roles, home_folder_id: an id), as plain
// text, lists joined by ", ". Passwords, secrets and photos never appear
// here: their own actions (password.changed, user.photo_changed, …) say
// that they changed, and the log must not hold what they are.
type AuditChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// About names the person the change concerns, for the event other
// services receive (a membership that is gone can no longer tell).
func (e AuditEvent) About(userID string) AuditEvent {
	e.UserID = userID
	return e
}

// With adds the change of field from before to after, unless the value
// stayed: a use case names every field it may have set, and the log keeps
// those that moved. The event's own list is never shared with the copy
// returned, so one event may be the base of others.
func (e AuditEvent) With(field, before, after string) AuditEvent {
	if before == after {
		return e
	}
	e.Changes = append(slices.Clip(e.Changes), AuditChange{Field: field, Before: before, After: after})
	return e
}

// AuditFilter selects one account's audit events, newest first.
type AuditFilter struct {
	AccountID string
	// ActionPrefix keeps the events whose action starts with it ("user."
	// for every change of users); ActorID those of one actor.
	ActionPrefix string
	ActorID      string
	// Since and Until keep the events at or after Since and before Until;
	// zero times keep everything.
	Since, Until time.Time
	Page         PageRequest
}

// DefaultPageLimit and MaxPageLimit bound list sizes (docs/api.md).
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// PageRequest asks for one page of a list: at most Limit items after the
// position encoded in Cursor (opaque to clients).
type PageRequest struct {
	Limit  int
	Cursor string
}

// Page is one page of a list; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// WriteBatch holds the rows one use case inserts together: a store writes
// each table's rows in a few statements. Adding one user is a batch of one;
// a chunk of a bulk job, a batch of hundreds.
type WriteBatch struct {
	Memberships []Membership
	// MembershipRoles pairs a membership id with a role id.
	MembershipRoles [][2]string
	Invitations     []Invitation
	Messages        []Message
	AuditEvents     []AuditEvent
}

// Add appends another batch's rows.
func (b *WriteBatch) Add(o WriteBatch) {
	b.Memberships = append(b.Memberships, o.Memberships...)
	b.MembershipRoles = append(b.MembershipRoles, o.MembershipRoles...)
	b.Invitations = append(b.Invitations, o.Invitations...)
	b.Messages = append(b.Messages, o.Messages...)
	b.AuditEvents = append(b.AuditEvents, o.AuditEvents...)
}

// EncodeCursor makes the cursor of a list from the sort key of a page's last
// item: base64 of a JSON array, so clients cannot come to depend on its shape.
func EncodeCursor(key ...string) string {
	b, _ := json.Marshal(key) // a []string always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor of exactly n parts; "" means the first page.
func DecodeCursor(cursor string, n int) ([]string, error) {
	if cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	var key []string
	if err == nil {
		err = json.Unmarshal(raw, &key)
	}
	if err != nil || len(key) != n {
		return nil, Invalid("cursor", "cursor is not one this list gave out")
	}
	return key, nil
}
