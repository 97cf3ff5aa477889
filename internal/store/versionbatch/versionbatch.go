// Package versionbatch shares the reads of accounts' authz versions between
// concurrent checks on PostgreSQL, without letting any check see a version
// older than one committed before it began.
//
// A check on PostgreSQL reads the account's version from the database (a
// change may have been committed through another node), and that one round
// trip bounds a node's checks. Reads shares it: a check joins a read that
// has not started yet, never one already under way, so every version it is
// given was read by a query that began after the check arrived, and so after
// every change committed before it. Up to MaxInFlight reads run at once;
// while that many are running, the checks that arrive wait together for the
// next read, which asks for all their accounts in one query as soon as one
// of the running reads ends.
package versionbatch

import (
	"context"
	"sync"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// ReadFunc reads the versions of the accounts named; an account missing
// from the answer does not exist.
type ReadFunc func(ctx context.Context, accountIDs []string) (map[string]gatehouse.AuthzVersion, error)

// MaxInFlight is how many reads run at once: as many as a check would make
// alone with a few concurrent checks, so a lightly loaded node waits no
// longer than before.
const MaxInFlight = 4

// Reads shares version reads between concurrent callers.
type Reads struct {
	read ReadFunc

	mu       sync.Mutex
	inFlight int
	// next collects the callers that arrived while MaxInFlight reads were
	// running; it starts when one of them ends.
	next *batch
}

type batch struct {
	// ctx is the first caller's, without its cancellation: the others wait
	// on the same read.
	ctx      context.Context
	ids      []string
	asked    map[string]bool
	done     chan struct{}
	versions map[string]gatehouse.AuthzVersion
	err      error
}

func newBatch(ctx context.Context) *batch {
	return &batch{ctx: context.WithoutCancel(ctx), asked: map[string]bool{}, done: make(chan struct{})}
}

func (b *batch) add(id string) {
	if !b.asked[id] {
		b.asked[id] = true
		b.ids = append(b.ids, id)
	}
}

// New returns Reads over read.
func New(read ReadFunc) *Reads { return &Reads{read: read} }

// Get returns the account's version as read by a query that began after Get
// was called; ENOTFOUND when the account does not exist.
func (r *Reads) Get(ctx context.Context, accountID string) (gatehouse.AuthzVersion, error) {
	r.mu.Lock()
	var (
		b     *batch
		start bool
	)
	if r.inFlight < MaxInFlight {
		// A read of its own, at once (no batch is waiting: one waits only
		// while MaxInFlight reads run).
		b, start = newBatch(ctx), true
		r.inFlight++
	} else {
		if r.next == nil {
			r.next = newBatch(ctx)
		}
		b = r.next
	}
	b.add(accountID)
	r.mu.Unlock()
	if start {
		r.run(b)
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		return gatehouse.AuthzVersion{}, ctx.Err()
	}
	if b.err != nil {
		return gatehouse.AuthzVersion{}, b.err
	}
	v, ok := b.versions[accountID]
	if !ok {
		return v, gatehouse.NotFound("account")
	}
	return v, nil
}

// run reads one batch, then starts the batch that waited for it, if any.
func (r *Reads) run(b *batch) {
	b.versions, b.err = r.read(b.ctx, b.ids)
	r.mu.Lock()
	next := r.next
	r.next = nil
	if next == nil {
		r.inFlight--
	}
	r.mu.Unlock()
	close(b.done)
	if next != nil {
		// Its callers all arrived before this moment: the read starts after
		// each of them.
		go r.run(next)
	}
}
