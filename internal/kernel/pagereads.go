package kernel

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// A portal page calls several use cases about one account (its rights, its
// members, the roles it offers, …), and each asks the policy, which reads
// the account and what the caller holds over it: three or four times the
// same two reads a page, each a round trip on PostgreSQL. ShareReads lets
// the use cases of one request that changes nothing read them once.
//
// What is shared is read within the request, as each use case would have
// read it: a membership removed before the request began is not in it, on
// every node. A later request reads afresh. Reads made in a transaction (a
// change) are never shared: a change decides on what its own transaction
// reads.

// ShareReads returns a context in which the use cases share, for the
// principal and until the request ends, each account read to ask the policy
// and what the principal holds over it. Only for a request that changes
// nothing (a page drawn): a change it made would not be seen by the reads
// that follow.
func ShareReads(ctx context.Context, p gatehouse.Principal) context.Context {
	return context.WithValue(ctx, sharedReadsKey{}, &sharedReads{principal: principalKeyOf(p), reads: map[string]accountRead{}})
}

type sharedReadsKey struct{}

// sharedReads are the reads of one request, for one principal.
type sharedReads struct {
	principal principalKey
	mu        sync.Mutex
	reads     map[string]accountRead
}

type accountRead struct {
	account gatehouse.Account
	access  gatehouse.Access
}

// principalKey is what of a principal decides what it holds over an
// account (store.AccessTo).
type principalKey struct {
	operator                                       bool
	userID, scopeAccountID, sessionID, scimTokenID string
	scimActsAs                                     gatehouse.Level
}

func principalKeyOf(p gatehouse.Principal) principalKey {
	return principalKey{operator: p.Operator, userID: p.UserID, scopeAccountID: p.ScopeAccountID, sessionID: p.SessionID,
		scimTokenID: p.SCIMTokenID, scimActsAs: p.SCIMActsAs}
}

// OutsideTransaction is what a Reader that reads outside any transaction
// says of itself; only such reads are shared (ShareReads).
type OutsideTransaction interface {
	OutsideTransaction() bool
}

// shared returns the request's shared reads, when ctx carries them for p
// and r reads outside a transaction; else nil.
func shared(ctx context.Context, r Reader, p gatehouse.Principal) *sharedReads {
	s, _ := ctx.Value(sharedReadsKey{}).(*sharedReads)
	if s == nil || s.principal != principalKeyOf(p) {
		return nil
	}
	if o, ok := r.(OutsideTransaction); !ok || !o.OutsideTransaction() {
		return nil
	}
	return s
}

// accountAndAccess reads the account and what the principal holds over it
// at now, or takes them from the request's shared reads.
func accountAndAccess(ctx context.Context, r Reader, p gatehouse.Principal, accountID string, now time.Time) (gatehouse.Account, gatehouse.Access, error) {
	s := shared(ctx, r, p)
	if s != nil {
		s.mu.Lock()
		read, ok := s.reads[accountID]
		s.mu.Unlock()
		if ok {
			return read.account, read.access, nil
		}
	}
	account, err := r.Account(ctx, accountID)
	if err != nil {
		return account, gatehouse.Access{}, err
	}
	access, err := r.AccessTo(ctx, p, account, now)
	if err != nil {
		return account, access, err
	}
	if s != nil {
		s.mu.Lock()
		s.reads[accountID] = accountRead{account: account, access: access}
		s.mu.Unlock()
	}
	return account, access, nil
}
