// Package events is the events context: the feed through which the
// platform's other services learn every change in the accounts they may
// read, in commit order (docs/events.md). The events themselves are written
// by every change, in its own transaction, with its audit event.
package events

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Reader is the store as the feed sees it.
type Reader interface {
	kernel.Reader
	// EventsAfter returns up to limit events after the cursor, in commit
	// order, of one account and, for an integrator, its clients (every
	// account when accountID is empty), with the cursor of each.
	EventsAfter(ctx context.Context, accountID string, after gatehouse.EventCursor, limit int) ([]gatehouse.Event, []gatehouse.EventCursor, error)
}

// Service holds the feed's use cases.
type Service struct {
	*kernel.Kernel
	store Reader
	// poll is how often a waiting read looks again.
	poll time.Duration
}

// New returns the events use cases over store.
func New(k *kernel.Kernel, store Reader) *Service {
	return &Service{Kernel: k, store: store, poll: 200 * time.Millisecond}
}

// Feed limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	MaxWait      = 60 * time.Second
)

// Query is one read of the feed.
type Query struct {
	// AccountID is the account whose events are read, with its clients'
	// for an integrator. Empty: a personal API token's own account, or
	// every account for an operator.
	AccountID string
	After     gatehouse.EventCursor
	Limit     int
	// Wait, when no event is there yet, holds the answer until one is or
	// the wait is over (long polling).
	Wait time.Duration
}

// Page is one answer: the events and the cursor to read after them (the
// same cursor when there were none).
type Page struct {
	Events  []gatehouse.Event
	Cursors []gatehouse.EventCursor
	Next    gatehouse.EventCursor
}

// Feed reads the events after a cursor, in commit order. Between two
// cursors it returned, no event is ever missing or repeated, on every node.
// Reading takes the right to read the account's audit log
// (policy.ReadEvents): its administrators, its integrator's staff for a
// client, operators.
func (s *Service) Feed(ctx context.Context, c gatehouse.Caller, q Query) (Page, error) {
	if q.AccountID == "" {
		q.AccountID = c.Principal.ScopeAccountID
	}
	if q.AccountID == "" {
		if err := kernel.Decide(c, policy.ReadAllEvents, policy.Target{}); err != nil {
			return Page{}, err
		}
	} else if _, err := s.Authorize(ctx, s.store, c, q.AccountID, policy.ReadEvents); err != nil {
		return Page{}, err
	}
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit > MaxLimit {
		return Page{}, gatehouse.Invalid("limit", "a page holds at most %d events", MaxLimit)
	}
	if q.Wait < 0 || q.Wait > MaxWait {
		return Page{}, gatehouse.Invalid("wait", "wait at most %s", MaxWait)
	}
	deadline := time.Now().Add(q.Wait)
	for {
		events, cursors, err := s.store.EventsAfter(ctx, q.AccountID, q.After, q.Limit)
		if err != nil {
			return Page{}, err
		}
		if len(events) > 0 {
			return Page{Events: events, Cursors: cursors, Next: cursors[len(cursors)-1]}, nil
		}
		// The wall clock, not the kernel's: a test's clock stands still.
		left := time.Until(deadline)
		if left <= 0 {
			return Page{Events: []gatehouse.Event{}, Next: q.After}, nil
		}
		select {
		case <-ctx.Done():
			return Page{}, ctx.Err()
		case <-time.After(min(left, s.poll)):
		}
	}
}
