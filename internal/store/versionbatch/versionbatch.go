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
//
// The same read tells whether the check token asking is still live, so that
// a node may trust a check token it has seen before without a round trip of
// its own: a revocation committed before the check began is seen by the
// read, on every node.
package versionbatch

import (
	"context"
	"sync"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Answer is what one read found: the versions of the accounts that exist,
// and which of the check tokens asked about are live.
type Answer struct {
	Versions        map[string]gatehouse.AuthzVersion
	LiveCheckTokens map[string]bool
}

// ReadFunc reads the versions of the accounts named and the liveness of the
// check tokens named, in one query; either list may be empty.
type ReadFunc func(ctx context.Context, accountIDs, checkTokenIDs []string) (Answer, error)

// MaxInFlight is how many reads run at once. Two keep a check made alone,
// or beside one other, from ever waiting (a node with two callers reads as
// before); beyond that, callers wait together for the next read, which is
// what lets a node answer more checks than it has round trips to spare.
// Measured with 1, 2 and 3 (and 4, the earlier limit) in docs/benchmarks.md.
const MaxInFlight = 2

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
	accounts keys
	tokens   keys
	done     chan struct{}
	answer   Answer
	err      error
}

// keys is a list without repeats.
type keys struct {
	list []string
	seen map[string]bool
}

func (k *keys) add(key string) {
	if key == "" || k.seen[key] {
		return
	}
	if k.seen == nil {
		k.seen = map[string]bool{}
	}
	k.seen[key] = true
	k.list = append(k.list, key)
}

func newBatch(ctx context.Context) *batch {
	return &batch{ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
}

// New returns Reads over read.
func New(read ReadFunc) *Reads { return &Reads{read: read} }

// Get returns the account's version as read by a query that began after Get
// was called; ENOTFOUND when the account does not exist. When checkTokenID
// is set the same query confirms that check token is live, and Get fails
// with EUNAUTHENTICATED when it is not, whether the account exists or not.
func (r *Reads) Get(ctx context.Context, accountID, checkTokenID string) (gatehouse.AuthzVersion, error) {
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
	b.accounts.add(accountID)
	b.tokens.add(checkTokenID)
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
	if checkTokenID != "" && !b.answer.LiveCheckTokens[checkTokenID] {
		return gatehouse.AuthzVersion{}, gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "missing or invalid token")
	}
	v, ok := b.answer.Versions[accountID]
	if !ok {
		return v, gatehouse.NotFound("account")
	}
	return v, nil
}

// run reads one batch, then starts the batch that waited for it, if any.
func (r *Reads) run(b *batch) {
	b.answer, b.err = r.read(b.ctx, b.accounts.list, b.tokens.list)
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
