package kernel

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// The use cases decide nothing about who may act: they gather the facts the
// policy needs (what the caller holds over an account, the member or person
// acted on) and ask policy.Decide, which answers nil, not found, forbidden
// or shared identity.

// ActorOf is the caller as the policy sees them, holding access over the
// account acted on.
func ActorOf(c gatehouse.Caller, access gatehouse.Access) policy.Actor {
	p := c.Principal
	access.Operator = access.Operator || p.Operator
	return policy.Actor{Access: access, Person: p.UserID != "", Session: p.SessionID != "", Checker: p.Checker,
		Token: p.ScopeAccountID != "", Scopes: p.Scopes, Provisioner: p.SCIMTokenID != ""}
}

// Decide asks the policy about an action on no account in particular.
func Decide(c gatehouse.Caller, act policy.Action, t policy.Target) error {
	return policy.Decide(ActorOf(c, gatehouse.Access{}), act, t)
}

// Authorize reads the account and asks the policy whether caller may do act
// there. It returns the account so the caller need not read it again.
func (k *Kernel) Authorize(ctx context.Context, r Reader, c gatehouse.Caller, accountID string, act policy.Action) (gatehouse.Account, error) {
	account, _, err := k.AuthorizeAccess(ctx, r, c, accountID, act, policy.Target{})
	return account, err
}

// AuthorizeAccess is Authorize with more of the target known, that also
// returns what the caller holds over the account, for the decisions that
// follow once the member or folder acted on is read (DecideOn).
func (k *Kernel) AuthorizeAccess(ctx context.Context, r Reader, c gatehouse.Caller, accountID string, act policy.Action, t policy.Target) (gatehouse.Account, gatehouse.Access, error) {
	account, access, err := accountAndAccess(ctx, r, c.Principal, accountID, k.Now())
	if err != nil {
		return account, access, err
	}
	if err := DecideOn(c, access, account, act, t); err != nil {
		return gatehouse.Account{}, access, err
	}
	return account, access, nil
}

// DecideOn asks the policy about an action on an account already read,
// filling in what the target knows of the account.
//
// The account fields read here are those store.OIDCTokenHolder reads for
// introspection: a new one must be read there too.
func DecideOn(c gatehouse.Caller, access gatehouse.Access, account gatehouse.Account, act policy.Action, t policy.Target) error {
	t.Account = account.Kind
	t.ClientAdminsManageRemoteMonitoring = account.Settings.ClientAdminsCanAddRemoteMonitoring
	t.Suspended = account.Status == gatehouse.AccountSuspended
	t.IntegratorSuspended = account.IntegratorStatus == gatehouse.AccountSuspended
	t.Deleted = account.Status == gatehouse.AccountDeleted
	return policy.Decide(ActorOf(c, access), act, t)
}

// May tells whether the policy allows an action on an account already read:
// the portal shows only what would work.
func May(c gatehouse.Caller, access gatehouse.Access, account gatehouse.Account, act policy.Action) bool {
	return DecideOn(c, access, account, act, policy.Target{}) == nil
}

// identityTarget gathers what the policy needs to decide an action on a
// person's identity: every membership they have, with what the caller holds
// over each account. field names the identity field being changed.
func (k *Kernel) identityTarget(ctx context.Context, r Reader, c gatehouse.Caller, user gatehouse.User, field string) (policy.Target, []string, error) {
	t := policy.Target{Self: c.Principal.UserID == user.ID, ServiceIdentity: IsServiceUser(user), Field: field}
	now := k.Now()
	memberships, err := r.MembershipsOf(ctx, user.ID, now)
	if err != nil {
		return t, nil, err
	}
	accounts := make([]string, len(memberships))
	for i, m := range memberships {
		accounts[i] = m.AccountID
		account, access, err := accountAndAccess(ctx, r, c.Principal, m.AccountID, now)
		if err != nil {
			return t, nil, err
		}
		t.Memberships = append(t.Memberships, policy.Membership{Account: account.Kind, Level: m.Level, Actor: access})
	}
	return t, accounts, nil
}

// AuthorizeIdentity asks the policy whether caller may do act on the
// identity, and returns the accounts the person belongs to (where the
// change is written in the audit log).
func (k *Kernel) AuthorizeIdentity(ctx context.Context, r Reader, c gatehouse.Caller, user gatehouse.User, act policy.Action, field string) ([]string, error) {
	t, accounts, err := k.identityTarget(ctx, r, c, user, field)
	if err != nil {
		return nil, err
	}
	return accounts, Decide(c, act, t)
}

// IsServiceUser tells whether an identity is a remote monitoring user: its
// generated username is not an e-mail address, so it can never collide with
// a person's.
func IsServiceUser(u gatehouse.User) bool {
	_, err := gatehouse.ParseEmail("username", u.Username)
	return err != nil
}

// Reader is what asking the policy reads: the account, what the caller
// holds over it, and every membership of a person. Every context's store
// offers it, outside and inside a transaction.
//
// Both reads take the instant of the question, the kernel's Now: a
// membership that ended by itself at that instant (gatehouse.Expired) is no
// membership, on every node, before any sweeper removes it. The store
// compares, in its SQL, so that every read that resolves a person's
// membership for authorization asks the same question.
type Reader interface {
	// Account returns an account by id.
	Account(ctx context.Context, id string) (gatehouse.Account, error)
	// AccessTo tells what the principal holds over the account at now:
	// operator, their level in it, and their level in its integrator,
	// through memberships that are active and not ended.
	AccessTo(ctx context.Context, p gatehouse.Principal, account gatehouse.Account, now time.Time) (gatehouse.Access, error)
	// MembershipsOf lists an identity's memberships, in every account,
	// whatever their status, leaving out those ended by themselves at now.
	MembershipsOf(ctx context.Context, userID string, now time.Time) ([]gatehouse.MembershipSummary, error)
	// Brand is the brand an integrator set (ownerID its account's id), or
	// the platform's default (ownerID ""); ENOTFOUND when none was set.
	Brand(ctx context.Context, ownerID string) (gatehouse.Brand, error)
	// BrandsOver reads the brands an account's people see, each when set:
	// the platform's default, then its integrator's (the account's own for
	// an integrator); ENOTFOUND for an unknown account.
	BrandsOver(ctx context.Context, accountID string) ([]gatehouse.Brand, error)
}

// Writer is what every change writes beside itself, in its own
// transaction: its audit event, and the messages it causes.
type Writer interface {
	InsertAuditEvent(ctx context.Context, e gatehouse.AuditEvent) error
	// EnqueueMessage queues an e-mail or a text in the same transaction as
	// its cause.
	EnqueueMessage(ctx context.Context, m gatehouse.Message) error
}
