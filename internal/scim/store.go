package scim

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// The store as this context sees it. Every method returns ENOTFOUND for a
// missing row and ECONFLICT for a broken uniqueness rule; other errors are
// internal. internal/store implements them on SQLite and PostgreSQL. The
// people and groups themselves are written by the people and access
// contexts' use cases, which this one calls.

// Reader is what the SCIM context reads.
type Reader interface {
	kernel.Reader
	// IdentityProvider returns a provider, or ENOTFOUND.
	IdentityProvider(ctx context.Context, id string) (gatehouse.IdentityProvider, error)
	// Member returns one membership of the account with its identity.
	Member(ctx context.Context, accountID, membershipID string) (gatehouse.Member, error)
	// SCIMMembers lists the members of an account the query keeps (the
	// remote monitoring user never), and how many it keeps in all.
	SCIMMembers(ctx context.Context, accountID string, q gatehouse.SCIMMemberQuery) ([]gatehouse.Member, int, error)
	// SCIMGroup returns a group of the account with the directory's id for
	// it and its members.
	SCIMGroup(ctx context.Context, accountID, groupID string) (gatehouse.SCIMGroup, error)
	// SCIMGroups lists the groups of an account the filter keeps (nil:
	// all), by id, count from offset, and how many it keeps in all.
	SCIMGroups(ctx context.Context, accountID string, filter *gatehouse.SCIMFilter, offset, count int, withMembers bool) ([]gatehouse.SCIMGroup, int, error)
	// SCIMTokens lists an account's live SCIM tokens, newest first.
	SCIMTokens(ctx context.Context, accountID string) ([]gatehouse.SCIMToken, error)
	// SCIMTokenByHash finds a live SCIM token by the hash of its secret.
	SCIMTokenByHash(ctx context.Context, hash []byte) (gatehouse.SCIMToken, error)
	// SCIMCalls lists an account's provisioning calls, newest first.
	SCIMCalls(ctx context.Context, accountID string, p gatehouse.PageRequest) (gatehouse.Page[gatehouse.SCIMCall], error)
	// SCIMGroupMappings lists an account's mappings by group name.
	SCIMGroupMappings(ctx context.Context, accountID string) ([]gatehouse.SCIMGroupMapping, error)
	SCIMGroupMapping(ctx context.Context, accountID, id string) (gatehouse.SCIMGroupMapping, error)
	// Role returns a custom role of the account by id; RoleByName by its
	// name without regard to case.
	Role(ctx context.Context, accountID, id string) (gatehouse.Role, error)
	RoleByName(ctx context.Context, accountID, name string) (gatehouse.Role, error)
}

// Tx is the transaction the SCIM context writes in.
type Tx interface {
	Reader
	kernel.Writer
	InsertSCIMToken(ctx context.Context, t gatehouse.SCIMToken) error
	// RevokeSCIMToken ends a live SCIM token of the account, or ENOTFOUND.
	RevokeSCIMToken(ctx context.Context, accountID, id string, now time.Time) error
	// TouchSCIMToken records a use, at most once a minute a token.
	TouchSCIMToken(ctx context.Context, id string, now time.Time) error
	InsertSCIMCall(ctx context.Context, c gatehouse.SCIMCall) error
	// DeleteSCIMCallsBefore removes the calls made before the given time
	// and tells how many.
	DeleteSCIMCallsBefore(ctx context.Context, before time.Time) (int, error)
	// SetSCIMGroupExternalID records the directory's id for a group of the
	// account; ECONFLICT when another group of the account has it.
	SetSCIMGroupExternalID(ctx context.Context, accountID, groupID, externalID string) error
	// InsertSCIMGroupMapping: ECONFLICT when the account maps the group
	// already.
	InsertSCIMGroupMapping(ctx context.Context, m gatehouse.SCIMGroupMapping) error
	DeleteSCIMGroupMapping(ctx context.Context, accountID, id string) error
}

// Store is the store as the SCIM context sees it.
type Store interface {
	Reader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(Tx) error) error
}
