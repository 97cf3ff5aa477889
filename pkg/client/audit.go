package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// AuditEvent is one entry of an account's audit log: who did what, when
// and from where. The log holds every action, sign-ins and tokens too.
type AuditEvent struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	AccountID string    `json:"account_id"`
	// ActorID is a user id, "operator" for the bootstrap token, or
	// "system" for what ended by itself.
	ActorID    string `json:"actor_id"`
	Action     string `json:"action"`
	TargetType string `json:"target_type"`
	TargetID   string `json:"target_id"`
	IP         string `json:"ip"`
	RequestID  string `json:"request_id"`
	// Changes are the fields the action gave another value; empty when it
	// changed none.
	Changes []Change `json:"changes,omitempty"`
}

// Change is a field an action gave another value, named as the API names
// it, with its values as text (lists joined by ", "; "" for none).
type Change struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// AuditFilter narrows ListAuditEvents; every field left empty keeps all.
type AuditFilter struct {
	// Action keeps the actions that start with it, such as "user.".
	Action string
	// ActorID keeps one actor's events: a user id, or "operator".
	ActorID string
	// Since keeps the events at or after it, Until those before it.
	Since, Until time.Time
	PageRequest
}

// ListAuditEvents returns a page of the account's audit log, newest first.
func (c *Client) ListAuditEvents(ctx context.Context, accountID string, f AuditFilter) (Page[AuditEvent], error) {
	q := url.Values{}
	setNonEmpty(q, "action", f.Action)
	setNonEmpty(q, "actor_id", f.ActorID)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	f.PageRequest.set(q)
	var page Page[AuditEvent]
	err := c.do(ctx, http.MethodGet, path("accounts", accountID, "audit-events"), q, nil, &page)
	return page, err
}

// Event is a change other services act on, as the feed and the webhooks
// give it. Its ID is the same in both, so a receiver drops repeats by it.
type Event struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"` // member.removed, account.suspended, …
	OccurredAt time.Time `json:"occurred_at"`
	// AccountID is the account changed; a change to a person's identity is
	// one event per account they belong to.
	AccountID string       `json:"account_id"`
	ActorID   string       `json:"actor_id"`
	Subject   EventSubject `json:"subject"`
	Changes   []Change     `json:"changes"`
	// Cursor reads the feed after this event.
	Cursor string `json:"cursor"`
}

// EventSubject is what an event changed, and the person it concerns when
// there is one.
type EventSubject struct {
	Type   string `json:"type"` // account, membership, user, invitation, …
	ID     string `json:"id"`
	UserID string `json:"user_id,omitempty"`
}

// EventQuery asks the feed for the events after a cursor.
type EventQuery struct {
	// AccountID is the account read (with its clients for an integrator);
	// "" reads every account for an operator, or the token's own account
	// for a personal API token.
	AccountID string
	// After is a cursor the feed returned; "" starts at the oldest event
	// kept.
	After string
	// Limit is at most 1000 events; 0 for the server's 100.
	Limit int
	// Wait, when no event is there yet, holds the answer until one comes or
	// Wait (at most 60 s) has passed; 0 answers at once.
	Wait time.Duration
}

// EventPage is one answer of the feed: events in commit order, and the
// cursor to ask after them (the query's own when there were none).
type EventPage struct {
	Items      []Event `json:"items"`
	NextCursor string  `json:"next_cursor"`
}

// Events reads the feed: the events after q.After, oldest first. No event
// is skipped or repeated between two cursors; keep NextCursor and ask
// again to follow the feed.
func (c *Client) Events(ctx context.Context, q EventQuery) (EventPage, error) {
	v := url.Values{}
	setNonEmpty(v, "account_id", q.AccountID)
	setNonEmpty(v, "after", q.After)
	if q.Limit > 0 {
		v.Set("limit", fmt.Sprint(q.Limit))
	}
	if q.Wait > 0 {
		v.Set("wait", q.Wait.String())
	}
	var page EventPage
	err := c.do(ctx, http.MethodGet, path("events"), v, nil, &page)
	return page, err
}
