package gatehouse

import (
	"context"
	"slices"
	"time"
)

// Level is what a member is in one account (R-P1).
type Level string

const (
	LevelIntegratorAdmin  Level = "integrator_admin"
	LevelIntegratorUser   Level = "integrator_user"
	LevelClientAdmin      Level = "client_admin"
	LevelClientUser       Level = "client_user"
	LevelRemoteMonitoring Level = "remote_monitoring"
)

// IsIntegratorStaff tells whether the level belongs on an integrator account.
func (l Level) IsIntegratorStaff() bool {
	return l == LevelIntegratorAdmin || l == LevelIntegratorUser
}

// IsAdmin tells whether the level is an administrator's, who must sign in
// with a second factor (R-P4).
func (l Level) IsAdmin() bool {
	return l == LevelIntegratorAdmin || l == LevelClientAdmin
}

// Principal is who makes a request: an operator (platform support), or a user
// acting through a session or an API token.
type Principal struct {
	Operator bool
	// UserID is the acting identity; empty for the bootstrap operator.
	UserID string
	// ScopeAccountID, when set, limits the principal to that one account (and
	// the clients of it, for an integrator account): API tokens are scoped so
	// (R-S4).
	ScopeAccountID string
	// SessionID is set when the principal signed in with a session token.
	SessionID string
	// Checker is a platform service holding a check token: it may ask
	// checks about any account and do nothing else (R-A5).
	Checker bool
	// UnconfirmedCheckTokenID is the check token of a Checker that the node
	// trusted from memory, having seen it live before: whoever answers must
	// confirm it is still live in the same read as the answer's data
	// (access.Service.Check does, in the read of the account's version).
	UnconfirmedCheckTokenID string
	// Scopes, for a personal API token that has them, limit what it may do
	// (TokenScopes); nil allows whatever the user may do.
	Scopes []string
	// SCIMTokenID is set for an account's directory provisioning through
	// SCIM with that token: it acts in ScopeAccountID alone, as SCIMActsAs
	// (see SCIMAccess), on its people and groups alone.
	SCIMTokenID string
	SCIMActsAs  Level
}

// Allows tells whether the principal's token scopes allow scope.
func (p Principal) Allows(scope string) bool {
	return p.Scopes == nil || slices.Contains(p.Scopes, scope)
}

// ActorID is what the audit log records as the actor.
func (p Principal) ActorID() string {
	if p.UserID != "" {
		return p.UserID
	}
	if p.Operator {
		return "operator"
	}
	if p.Checker {
		return "check-token"
	}
	if p.SCIMTokenID != "" {
		return SCIMActorPrefix + p.SCIMTokenID
	}
	return ""
}

// SCIMActorPrefix starts the actor id the audit log records for a change
// an account's directory made through SCIM, followed by the token's id.
const SCIMActorPrefix = "scim:"

// Caller is a principal together with where the request came from, which
// every change records in its audit event.
type Caller struct {
	Principal Principal
	IP        string
	RequestID string
}

// Access is what one user principal holds over one account: their level on
// the account itself and, for a client account, their level on its owning
// integrator. Empty levels mean no active membership.
type Access struct {
	Operator        bool
	Level           Level // on the account itself
	IntegratorLevel Level // on the owning integrator (client accounts only)
}

// APIToken is a long-lived secret for automation, scoped to one account. Only
// the SHA-256 of the secret is stored.
type APIToken struct {
	ID        string
	UserID    string
	AccountID string
	Name      string
	Hash      []byte
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: live
	// Scopes are the actions the token may take (TokenScopes); none for the
	// tokens made before scopes, which act with all their owner's rights.
	Scopes     []string
	LastUsedAt time.Time
}

// Scopes of personal API tokens. Each allows reading or changing
// one part of an account, on top of what the token's owner may do there.
const (
	ScopeAccountsRead  = "accounts:read"  // the account, its clients, folders
	ScopeAccountsWrite = "accounts:write" // rename, create clients
	ScopeUsersRead     = "users:read"     // users, invitations, roles, groups, grants, permissions
	ScopeUsersWrite    = "users:write"    // add, remove, invite, bulk; roles, folders, groups, grants
	ScopeAuditRead     = "audit:read"
	ScopeCheck         = "check" // ask checks about the token's account
	ScopeNotify        = "notifications:send"
)

// TokenScopes lists every scope, in the order documents show them.
var TokenScopes = []string{ScopeAccountsRead, ScopeAccountsWrite, ScopeUsersRead, ScopeUsersWrite, ScopeAuditRead, ScopeCheck, ScopeNotify}

// CheckToken lets one of the platform's services (video, signage) ask
// checks. Only the SHA-256 of its secret is stored.
type CheckToken struct {
	ID        string
	Name      string
	CreatedBy string
	CreatedAt time.Time
	RevokedAt time.Time // zero: live
}

// Clock gives the time; tests inject a fixed or stepping clock.
type Clock interface{ Now() time.Time }

// SystemClock reads the machine's clock, in UTC.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().UTC() }

type callerKey struct{}

// WithCaller stores the caller in ctx.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored by WithCaller.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
