package gatehouse

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Events are how the platform's other services learn of changes: the video
// service cuts a removed member's streams, the signage CMS refreshes what a
// person sees. Every change already writes an audit event in its own
// transaction; the changes other services care about are those audit
// events, under a public type. The feed (GET /api/v1/events) and the
// webhooks read them from there, so an event exists exactly when its
// change committed. See docs/events.md.

// Event is one change as the feed and the webhooks give it.
type Event struct {
	// ID is the audit event's id: the same in the feed and in every
	// delivery of a webhook (its webhook-id), so receivers drop repeats.
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	// AccountID is the account changed (for a person's identity, one event
	// per account they belong to).
	AccountID string `json:"account_id"`
	// ActorID is who made the change: a user id, "operator", or "system"
	// for what ended by itself.
	ActorID string       `json:"actor_id"`
	Subject EventSubject `json:"subject"`
	// Changes are the fields the change moved, named as the API names
	// them, before and after (lists joined by ", ").
	Changes []AuditChange `json:"changes,omitempty"`
}

// EventSubject is what changed: its kind and id, and the person it
// concerns when there is one (a membership's, an invitation's).
type EventSubject struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	UserID string `json:"user_id,omitempty"`
}

// EventTypes are the public event types, in the order the documentation
// lists them.
var EventTypes = []string{
	"account.created", "account.updated", "account.settings_changed", "account.suspended", "account.restored",
	"account.deleted", "account.purged",
	"member.added", "member.activated", "member.removed", "member.expired", "member.level_changed", "member.roles_changed",
	"member.updated", "member.suspended", "member.restored",
	"person.updated", "person.username_changed", "person.photo_changed", "person.password_changed", "person.second_factor_reset",
	"session.revoked",
	"invitation.sent", "invitation.resent", "invitation.cancelled", "invitation.accepted",
	"role.created", "role.updated", "role.deleted",
	"group.created", "group.updated", "group.deleted", "group.member_added", "group.member_removed",
	"grant.created", "grant.deleted", "grant.expired",
	"folder.created", "folder.updated", "folder.renamed", "folder.moved", "folder.deleted",
	"provider_access.granted", "provider_access.ended", "provider_access.requested", "provider_access.request_approved",
	"provider_access.request_refused",
	"remote_monitoring.created", "remote_monitoring.credentials_regenerated",
}

// renamed are the audit actions whose public type differs: the audit log
// speaks of users (an account's people), the events of members (a person
// in one account) and persons (their identity, shared by their accounts).
var renamed = map[string]string{
	"user.added":                     "member.added",
	"user.activated":                 "member.activated",
	"user.removed":                   "member.removed",
	"user.expired":                   "member.expired",
	"user.level_changed":             "member.level_changed",
	"user.suspended":                 "member.suspended",
	"user.restored":                  "member.restored",
	"user.username_changed":          "person.username_changed",
	"user.photo_changed":             "person.photo_changed",
	"password.changed":               "person.password_changed",
	"password.reset":                 "person.password_changed",
	"mfa.reset_by_administrator":     "person.second_factor_reset",
	"session.ended":                  "session.revoked",
	"session.ended_by_administrator": "session.revoked",
}

// EventTypeOf is the public type of an audit event, "" for those that are
// no change other services act on (sign-in attempts, downloads, tokens).
func EventTypeOf(e AuditEvent) string {
	if e.AccountID == "" {
		return "" // platform-wide: operators and identity providers
	}
	if e.Action == "user.updated" {
		if len(e.Changes) == 0 {
			return "" // saved as it was
		}
		if e.TargetType != "membership" {
			return "person.updated"
		}
		if slices.ContainsFunc(e.Changes, func(c AuditChange) bool { return c.Field == "roles" }) {
			return "member.roles_changed"
		}
		return "member.updated"
	}
	t, ok := renamed[e.Action]
	if !ok {
		t = e.Action
	}
	if !slices.Contains(EventTypes, t) {
		return ""
	}
	return t
}

// EventOf is the event of an audit event, ok false when it is none.
func EventOf(e AuditEvent) (Event, bool) {
	t := EventTypeOf(e)
	if t == "" {
		return Event{}, false
	}
	return Event{ID: e.ID, Type: t, OccurredAt: e.At.UTC(), AccountID: e.AccountID, ActorID: e.ActorID,
		Subject: EventSubject{Type: e.TargetType, ID: e.TargetID, UserID: e.UserID}, Changes: e.Changes}, true
}

// EventTypeMatches tells whether a subscription's pattern names an event
// type: the type itself, its family ("member.*"), or every type ("*").
func EventTypeMatches(pattern, eventType string) bool {
	if pattern == "*" || pattern == eventType {
		return true
	}
	if n := len(pattern); n > 2 && pattern[n-2:] == ".*" {
		family := pattern[:n-1] // "member."
		return len(eventType) > len(family) && eventType[:len(family)] == family
	}
	return false
}

// EventCursor is a place in the feed: after (TX, Seq). The zero cursor is
// the beginning.
type EventCursor struct {
	TX  uint64 // the writing transaction (PostgreSQL), 0 on SQLite
	Seq int64
}

// String is the cursor as the API gives it.
func (c EventCursor) String() string {
	return strconv.FormatUint(c.TX, 10) + "." + strconv.FormatInt(c.Seq, 10)
}

// ParseEventCursor reads a cursor the API gave; "" is the beginning.
func ParseEventCursor(raw string) (EventCursor, error) {
	if raw == "" {
		return EventCursor{}, nil
	}
	tx, seq, ok := strings.Cut(raw, ".")
	c := EventCursor{}
	var err1, err2 error
	c.TX, err1 = strconv.ParseUint(tx, 10, 64)
	c.Seq, err2 = strconv.ParseInt(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil || c.Seq < 0 || len(raw) > 50 {
		return EventCursor{}, Invalid("after", "not a cursor of this feed: give back a cursor it returned")
	}
	return c, nil
}
