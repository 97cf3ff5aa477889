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
