package accounts

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// The store as this context sees it: one narrow interface per group of use
// cases. Every method returns ENOTFOUND for a missing row and ECONFLICT for a
// broken uniqueness rule; other errors are internal. internal/store
// implements them on SQLite and PostgreSQL, held to one contract suite.

// AccountsReader is what the accounts context reads.
type AccountsReader interface {
	kernel.Reader
	// APITokensOf lists a user's live tokens for an account, newest first.
	APITokensOf(ctx context.Context, userID, accountID string, now time.Time) ([]gatehouse.APIToken, error)
	// ClientUsers is how many client users count against the account's
	// limit now, pending ones included (R-L1).
	ClientUsers(ctx context.Context, accountID string) (int, error)
	ListAccounts(ctx context.Context, f gatehouse.AccountFilter) (gatehouse.Page[gatehouse.Account], error)
	// AccountsToPurge lists deleted accounts whose purge_after has come,
	// at most limit of them.
	AccountsToPurge(ctx context.Context, now time.Time, limit int) ([]gatehouse.Account, error)
	ListAuditEvents(ctx context.Context, f gatehouse.AuditFilter) (gatehouse.Page[gatehouse.AuditEvent], error)
	ListCheckTokens(ctx context.Context) ([]gatehouse.CheckToken, error)
	// Operators lists the identities that are operators.
	Operators(ctx context.Context) ([]gatehouse.User, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// AccountsTx is the transaction the accounts context writes in.
type AccountsTx interface {
	AccountsReader
	kernel.Writer
	InsertAPIToken(ctx context.Context, t gatehouse.APIToken) error
	InsertAccount(ctx context.Context, a gatehouse.Account) error
	InsertCheckToken(ctx context.Context, t gatehouse.CheckToken, hash []byte) error
	// RevokeAPIToken ends a user's token for an account, or ENOTFOUND.
	RevokeAPIToken(ctx context.Context, userID, accountID, id string, now time.Time) error
	RevokeCheckToken(ctx context.Context, id string, now time.Time) error
	// RevokeSessionsOf ends every session of an identity.
	RevokeSessionsOf(ctx context.Context, userID string, now time.Time) error
	// RevokeOIDCAccountTokens revokes the tokens the platform's
	// applications hold for an account: the identity's, or everyone's when
	// userID is empty.
	RevokeOIDCAccountTokens(ctx context.Context, accountID, userID string, now time.Time) error
	// SetOperator makes an identity an operator or takes the power away.
	SetOperator(ctx context.Context, userID string, operator bool) error
	UpdateAccount(ctx context.Context, a gatehouse.Account) error
	// SetAccountStatus moves an account to status (purgeAfter set for a
	// deleted one); a restored client takes its name back, or ECONFLICT.
	SetAccountStatus(ctx context.Context, accountID string, status gatehouse.AccountStatus, purgeAfter time.Time) error
	// EndAccountPeople ends every membership, invitation, API token, grant
	// and group place of the account, and the sessions of the people who
	// belong nowhere else; it returns the identities whose membership ended.
	EndAccountPeople(ctx context.Context, accountID string, now time.Time) ([]string, error)
	// PurgeAccount removes a deleted account and all that was its, or
	// ENOTFOUND when it is not deleted (restored, or purged already).
	PurgeAccount(ctx context.Context, accountID string) error
}

// AccountsStore is the store as the accounts context sees it.
type AccountsStore interface {
	AccountsReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(AccountsTx) error) error
}

// ProviderAccessReader is what the client's privacy reads (R-PV1…R-PV3).
type ProviderAccessReader interface {
	kernel.Reader
	// AdminRecipients lists the active administrators of a client account
	// with the address and language their mail goes to.
	AdminRecipients(ctx context.Context, accountID string) ([]gatehouse.NotificationRecipient, error)
	// IntegratorStaff lists the administrators and users of the client
	// account's integrator, whatever their status.
	IntegratorStaff(ctx context.Context, accountID string) ([]gatehouse.User, error)
	// ProviderAccessRequest returns a request of the account, or ENOTFOUND.
	ProviderAccessRequest(ctx context.Context, accountID, id string) (gatehouse.ProviderAccessRequest, error)
	// ProviderAccessRequests lists the account's requests, newest first.
	ProviderAccessRequests(ctx context.Context, accountID string, f gatehouse.ProviderAccessRequestFilter) (gatehouse.Page[gatehouse.ProviderAccessRequest], error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// ProviderAccessTx is the transaction the client's privacy writes in.
type ProviderAccessTx interface {
	ProviderAccessReader
	kernel.Writer
	// BumpAuthzVersion raises the account's authz version; on PostgreSQL it
	// locks the account's rules until the transaction ends, so a use case
	// calls it before it reads what it changes.
	BumpAuthzVersion(ctx context.Context, accountID string) error
	// DecideProviderAccessRequest records the answer to a pending request;
	// ECONFLICT when it was answered already.
	DecideProviderAccessRequest(ctx context.Context, r gatehouse.ProviderAccessRequest) error
	// InsertProviderAccessRequest stores a pending request; ECONFLICT when
	// one waits for the account already.
	InsertProviderAccessRequest(ctx context.Context, r gatehouse.ProviderAccessRequest) error
	// SetProviderAccess stores when the service provider's access ends (the
	// zero time: closed), raising the account's authz version.
	SetProviderAccess(ctx context.Context, accountID string, until time.Time) error
}

// ProviderAccessStore is the store as the client's privacy sees it.
type ProviderAccessStore interface {
	ProviderAccessReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(ProviderAccessTx) error) error
}
