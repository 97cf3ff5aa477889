package signin

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

// SessionsReader is what password sign-in and sessions reads.
type SessionsReader interface {
	kernel.Reader
	// PasskeysOf lists an identity's passkeys, oldest first.
	PasskeysOf(ctx context.Context, userID string) ([]gatehouse.Passkey, error)
	// APITokenByHash returns a live token by the SHA-256 of its secret, or
	// ENOTFOUND.
	APITokenByHash(ctx context.Context, hash []byte, now time.Time) (gatehouse.APIToken, error)
	// CheckTokenByHash returns a live check token by the SHA-256 of its
	// secret, or ENOTFOUND.
	CheckTokenByHash(ctx context.Context, hash []byte) (gatehouse.CheckToken, error)
	// Credentials returns what sign-in checks of the identity with this
	// username (without regard to case), or ENOTFOUND.
	Credentials(ctx context.Context, username string) (gatehouse.Credentials, error)
	// HasActiveAdminMembership tells whether the identity must use a second
	// factor (R-P4): it administers an account, is an operator, or an
	// administrator required one of it.
	HasActiveAdminMembership(ctx context.Context, userID string) (bool, error)
	// RecoveryCodesLeft counts an identity's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	SessionByHash(ctx context.Context, hash []byte) (gatehouse.Session, error)
	// SignInLockedUntil returns the latest end of a running lock among the
	// subjects, or the zero time (R-S3).
	SignInLockedUntil(ctx context.Context, subjects []string, now time.Time) (time.Time, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// SessionsTx is the transaction password sign-in and sessions writes in.
type SessionsTx interface {
	SessionsReader
	kernel.Writer
	// ClearSignInFailures forgets a subject's failures and lock.
	ClearSignInFailures(ctx context.Context, subject string) error
	// CountSignInFailure counts one failed sign-in of a subject and returns
	// the count; failures older than window (0: none) are forgotten first.
	// At limit the subject is locked for lockFor, its count starts again,
	// and it returns locked.
	CountSignInFailure(ctx context.Context, subject string, now time.Time, window time.Duration, limit int, lockFor time.Duration) (failures int, locked bool, err error)
	InsertMFAChallenge(ctx context.Context, c gatehouse.MFAChallenge) error
	InsertSession(ctx context.Context, s gatehouse.Session) error
	RevokeSession(ctx context.Context, id string, now time.Time) error
	// TouchAPIToken records a use of a token, at most once a minute.
	TouchAPIToken(ctx context.Context, id string, now time.Time) error
	TouchSession(ctx context.Context, id string, now time.Time) error
}

// SessionsStore is the store as password sign-in and sessions sees it.
type SessionsStore interface {
	SessionsReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(SessionsTx) error) error
}

// FactorsReader is what second factors reads.
type FactorsReader interface {
	kernel.Reader
	// PasskeysOf lists an identity's passkeys, oldest first.
	PasskeysOf(ctx context.Context, userID string) ([]gatehouse.Passkey, error)
	// Credentials returns what sign-in checks of the identity with this
	// username (without regard to case), or ENOTFOUND.
	Credentials(ctx context.Context, username string) (gatehouse.Credentials, error)
	// HasActiveAdminMembership tells whether the identity must use a second
	// factor (R-P4): it administers an account, is an operator, or an
	// administrator required one of it.
	HasActiveAdminMembership(ctx context.Context, userID string) (bool, error)
	MFAChallengeByHash(ctx context.Context, hash []byte) (gatehouse.MFAChallenge, error)
	// RecoveryCodesLeft counts an identity's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// FactorsTx is the transaction second factors writes in.
type FactorsTx interface {
	FactorsReader
	kernel.Writer
	InsertMFAChallenge(ctx context.Context, c gatehouse.MFAChallenge) error
	InsertSession(ctx context.Context, s gatehouse.Session) error
	// ReplaceRecoveryCodes replaces an identity's recovery codes by these
	// hashes.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// ResendSMSCode replaces the code of an unused SMS challenge and counts
	// the send, unless the last was sent after notBefore or maxSends were
	// sent: ENOTFOUND then (resends are throttled, R-S2).
	ResendSMSCode(ctx context.Context, id string, codeHash []byte, now, notBefore time.Time, maxSends int) error
	// RevokeOtherSessions ends every session of the identity but keepID.
	RevokeOtherSessions(ctx context.Context, userID, keepID string, now time.Time) error
	// MarkSessionSecondFactor records that a session has proved a second
	// factor (one set up in it).
	MarkSessionSecondFactor(ctx context.Context, sessionID string) error
	// SetMFAMethod stores an identity's second factor: for MFATOTP the
	// sealed key, for MFASMS and MFANone no key.
	// For MFASMS, phone is the number the confirming code was sent to.
	SetMFAMethod(ctx context.Context, userID, method, sealedTOTP, phone string) error
	// UseMFAChallenge marks a challenge used; ENOTFOUND if it already was.
	UseMFAChallenge(ctx context.Context, id string, now time.Time) error
	// UseRecoveryCode marks an unused code of the identity used; ENOTFOUND
	// when there is none with this hash.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, now time.Time) error
	// UseTOTPStep records that the code of this time step was used, and
	// fails with ENOTFOUND for a step at or before the last one used: a code
	// works once. secret, when not "", enrolls that sealed key.
	UseTOTPStep(ctx context.Context, userID string, step int64, secret string) error
}

// FactorsStore is the store as second factors sees it.
type FactorsStore interface {
	FactorsReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(FactorsTx) error) error
}

// MySessionsReader is what a person's own sessions and password reads.
type MySessionsReader interface {
	kernel.Reader
	// Credentials returns what sign-in checks of the identity with this
	// username (without regard to case), or ENOTFOUND.
	Credentials(ctx context.Context, username string) (gatehouse.Credentials, error)
	// SessionsOf lists an identity's live sessions, newest first.
	SessionsOf(ctx context.Context, userID string, now time.Time) ([]gatehouse.Session, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// MySessionsTx is the transaction a person's own sessions and password writes in.
type MySessionsTx interface {
	MySessionsReader
	kernel.Writer
	// CountSignInFailure counts one failed sign-in of a subject and returns
	// the count; failures older than window (0: none) are forgotten first.
	// At limit the subject is locked for lockFor, its count starts again,
	// and it returns locked.
	CountSignInFailure(ctx context.Context, subject string, now time.Time, window time.Duration, limit int, lockFor time.Duration) (failures int, locked bool, err error)
	// RevokeOtherSessions ends every session of the identity but keepID.
	RevokeOtherSessions(ctx context.Context, userID, keepID string, now time.Time) error
	// RevokeSessionsOf ends every session of an identity.
	RevokeSessionsOf(ctx context.Context, userID string, now time.Time) error
	// RevokeOIDCTokensOf revokes every token the platform's applications
	// hold for an identity.
	RevokeOIDCTokensOf(ctx context.Context, userID string, now time.Time) error
	// RevokeUserSession ends one live session of the identity, or
	// ENOTFOUND.
	RevokeUserSession(ctx context.Context, userID, id string, now time.Time) error
	// SetPassword replaces an active identity's password hash.
	SetPassword(ctx context.Context, userID, passwordHash string) error
	// SetMFAMethod sets the identity's second factor: its method, the
	// sealed authenticator key and the phone for codes by text.
	SetMFAMethod(ctx context.Context, userID, method, totpSecret, phone string) error
	// ReplaceRecoveryCodes replaces the identity's recovery codes.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// DeletePasskeysOf removes every passkey of an identity.
	DeletePasskeysOf(ctx context.Context, userID string) error
}

// MySessionsStore is the store as a person's own sessions and password sees it.
type MySessionsStore interface {
	MySessionsReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(MySessionsTx) error) error
}

// ProvidersReader is what identity providers reads.
type ProvidersReader interface {
	kernel.Reader
	// PasskeysOf lists an identity's passkeys, oldest first.
	PasskeysOf(ctx context.Context, userID string) ([]gatehouse.Passkey, error)
	// Credentials returns what sign-in checks of the identity with this
	// username (without regard to case), or ENOTFOUND.
	Credentials(ctx context.Context, username string) (gatehouse.Credentials, error)
	// HasActiveAdminMembership tells whether the identity must use a second
	// factor (R-P4): it administers an account, is an operator, or an
	// administrator required one of it.
	HasActiveAdminMembership(ctx context.Context, userID string) (bool, error)
	// IdentityProvider returns a provider, or ENOTFOUND.
	IdentityProvider(ctx context.Context, id string) (gatehouse.IdentityProvider, error)
	// IdentityProviderUsers counts the identities that sign in through a
	// provider.
	IdentityProviderUsers(ctx context.Context, id string) (int, error)
	// IdentityProviders lists the providers owned by the given accounts ("" is
	// the platform), oldest first; nil owners lists every provider.
	IdentityProviders(ctx context.Context, owners []string) ([]gatehouse.IdentityProvider, error)
	// InvitationByTokenHash finds an invitation by the SHA-256 of its link's
	// secret, whatever its status, or ENOTFOUND.
	InvitationByTokenHash(ctx context.Context, hash []byte) (gatehouse.Invitation, error)
	// PendingInvitationsOf lists the invitations of an identity that wait
	// for its activation, expired ones included.
	PendingInvitationsOf(ctx context.Context, userID string) ([]gatehouse.Invitation, error)
	// RecoveryCodesLeft counts an identity's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
	// UserByProviderSubject finds the identity bound to a provider's
	// subject, or ENOTFOUND.
	UserByProviderSubject(ctx context.Context, providerID, subject string) (gatehouse.User, error)
}

// ProvidersTx is the transaction identity providers writes in.
type ProvidersTx interface {
	ProvidersReader
	kernel.Writer
	// ActivateUser makes a pending identity active with its password hash;
	// ENOTFOUND when it is not pending.
	ActivateUser(ctx context.Context, userID, passwordHash string, now time.Time) error
	// BindProviderSubject binds an identity of the provider to the
	// provider's subject; ENOTFOUND when the identity is bound to another
	// subject, ECONFLICT when another identity has this one.
	BindProviderSubject(ctx context.Context, userID, providerID, subject string) error
	DeleteIdentityProvider(ctx context.Context, id string) error
	// EndInvitation moves a pending invitation to accepted or cancelled. It
	// fails with ENOTFOUND when the invitation is no longer pending, so a
	// link is used once even when two requests race (single use).
	EndInvitation(ctx context.Context, accountID, id string, status gatehouse.InvitationStatus, now time.Time) error
	InsertIdentityProvider(ctx context.Context, p gatehouse.IdentityProvider) error
	InsertMFAChallenge(ctx context.Context, c gatehouse.MFAChallenge) error
	InsertOIDCLogin(ctx context.Context, l gatehouse.OIDCLogin) error
	InsertSession(ctx context.Context, s gatehouse.Session) error
	SetMembershipStatus(ctx context.Context, accountID, membershipID string, status gatehouse.MembershipStatus) error
	// UseOIDCLogin marks the live, unused trip with this state hash used and
	// returns it; ENOTFOUND otherwise. One statement, so a state works once.
	UseOIDCLogin(ctx context.Context, stateHash []byte, now time.Time) (gatehouse.OIDCLogin, error)
}

// ProvidersStore is the store as identity providers sees it.
type ProvidersStore interface {
	ProvidersReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(ProvidersTx) error) error
}

// ResetsReader is what password resets reads.
type ResetsReader interface {
	kernel.Reader
	// Credentials returns what sign-in checks of the identity with this
	// username (without regard to case), or ENOTFOUND.
	Credentials(ctx context.Context, username string) (gatehouse.Credentials, error)
	// HasActiveAdminMembership tells whether the identity must use a second
	// factor (R-P4): it administers an account, is an operator, or an
	// administrator required one of it.
	HasActiveAdminMembership(ctx context.Context, userID string) (bool, error)
	// PasswordResetUserID returns the identity of a live, unused reset
	// link, or ENOTFOUND.
	PasswordResetUserID(ctx context.Context, hash []byte, now time.Time) (string, error)
	// RecoveryCodesLeft counts an identity's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// ResetsTx is the transaction password resets writes in.
type ResetsTx interface {
	ResetsReader
	kernel.Writer
	// ClearSignInFailures forgets a subject's failures and lock.
	ClearSignInFailures(ctx context.Context, subject string) error
	// CountSignInFailure counts one failed sign-in of a subject and returns
	// the count; failures older than window (0: none) are forgotten first.
	// At limit the subject is locked for lockFor, its count starts again,
	// and it returns locked.
	CountSignInFailure(ctx context.Context, subject string, now time.Time, window time.Duration, limit int, lockFor time.Duration) (failures int, locked bool, err error)
	InsertMFAChallenge(ctx context.Context, c gatehouse.MFAChallenge) error
	// InsertPasswordReset stores a reset link's hash for an identity.
	InsertPasswordReset(ctx context.Context, id, userID string, hash []byte, createdAt, expiresAt time.Time) error
	InsertSession(ctx context.Context, s gatehouse.Session) error
	// RevokeSessionsOf ends every session of an identity.
	RevokeSessionsOf(ctx context.Context, userID string, now time.Time) error
	// RevokeOIDCTokensOf revokes every token the platform's applications
	// hold for an identity.
	RevokeOIDCTokensOf(ctx context.Context, userID string, now time.Time) error
	// SetPassword replaces an active identity's password hash.
	SetPassword(ctx context.Context, userID, passwordHash string) error
	// UsePasswordReset marks the live, unused link with this hash used and
	// returns its identity; ENOTFOUND otherwise. Using one link ends the
	// identity's other links too.
	UsePasswordReset(ctx context.Context, hash []byte, now time.Time) (userID string, err error)
}

// ResetsStore is the store as password resets sees it.
type ResetsStore interface {
	ResetsReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(ResetsTx) error) error
}

// ActivationsReader is what activation reads.
type ActivationsReader interface {
	kernel.Reader
	// InvitationByTokenHash finds an invitation by the SHA-256 of its link's
	// secret, whatever its status, or ENOTFOUND.
	InvitationByTokenHash(ctx context.Context, hash []byte) (gatehouse.Invitation, error)
	// PendingInvitationsOf lists the invitations of an identity that wait
	// for its activation, expired ones included.
	PendingInvitationsOf(ctx context.Context, userID string) ([]gatehouse.Invitation, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// ActivationsTx is the transaction activation writes in.
type ActivationsTx interface {
	ActivationsReader
	kernel.Writer
	// ActivateUser makes a pending identity active with its password hash;
	// ENOTFOUND when it is not pending.
	ActivateUser(ctx context.Context, userID, passwordHash string, now time.Time) error
	// EndInvitation moves a pending invitation to accepted or cancelled. It
	// fails with ENOTFOUND when the invitation is no longer pending, so a
	// link is used once even when two requests race (single use).
	EndInvitation(ctx context.Context, accountID, id string, status gatehouse.InvitationStatus, now time.Time) error
	SetMembershipStatus(ctx context.Context, accountID, membershipID string, status gatehouse.MembershipStatus) error
}

// ActivationsStore is the store as activation sees it.
type ActivationsStore interface {
	ActivationsReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(ActivationsTx) error) error
}

// PasskeysReader is what passkeys read: a person's own, and the ceremonies
// in progress.
type PasskeysReader interface {
	kernel.Reader
	// HasActiveAdminMembership tells whether the identity must use a second
	// factor (R-P4).
	HasActiveAdminMembership(ctx context.Context, userID string) (bool, error)
	Credentials(ctx context.Context, username string) (gatehouse.Credentials, error)
	// InvitationByTokenHash finds an invitation by the SHA-256 of its link's
	// secret, whatever its status, or ENOTFOUND.
	InvitationByTokenHash(ctx context.Context, hash []byte) (gatehouse.Invitation, error)
	MFAChallengeByHash(ctx context.Context, hash []byte) (gatehouse.MFAChallenge, error)
	// PasskeyByCredentialID finds a passkey by its authenticator's id for
	// it, or ENOTFOUND.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (gatehouse.Passkey, error)
	// PasskeysOf lists an identity's passkeys, oldest first.
	PasskeysOf(ctx context.Context, userID string) ([]gatehouse.Passkey, error)
	// PendingInvitationsOf lists the invitations of an identity that wait
	// for its activation, expired ones included.
	PendingInvitationsOf(ctx context.Context, userID string) ([]gatehouse.Invitation, error)
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// PasskeysTx is the transaction passkeys write in.
type PasskeysTx interface {
	PasskeysReader
	kernel.Writer
	// ActivateUser makes a pending identity active with its password hash
	// ("" for none); ENOTFOUND when it is not pending.
	ActivateUser(ctx context.Context, userID, passwordHash string, now time.Time) error
	// DeletePasskey removes one passkey of the identity, or ENOTFOUND.
	DeletePasskey(ctx context.Context, userID, id string) error
	EndInvitation(ctx context.Context, accountID, id string, status gatehouse.InvitationStatus, now time.Time) error
	InsertPasskey(ctx context.Context, p gatehouse.Passkey) error
	InsertPasskeyCeremony(ctx context.Context, c gatehouse.PasskeyCeremony) error
	InsertSession(ctx context.Context, s gatehouse.Session) error
	// ReplaceRecoveryCodes replaces the identity's recovery codes.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// RevokeOtherSessions ends every session of the identity but keepID.
	RevokeOtherSessions(ctx context.Context, userID, keepID string, now time.Time) error
	SetMembershipStatus(ctx context.Context, accountID, membershipID string, status gatehouse.MembershipStatus) error
	// UseMFAChallenge marks a challenge used; ENOTFOUND if it already was.
	UseMFAChallenge(ctx context.Context, id string, now time.Time) error
	// UsePasskey records a use with the authenticator's counter, which must
	// move forward (or stay 0 for one that keeps none): ENOTFOUND
	// otherwise, decided by the database so that racing nodes agree.
	UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, now time.Time) error
	// UsePasskeyCeremony uses up the live, unused ceremony of this purpose
	// whose secret has this SHA-256, and returns it; ENOTFOUND otherwise.
	// One statement decides, so two nodes never both use one ceremony.
	UsePasskeyCeremony(ctx context.Context, hash []byte, purpose string, now time.Time) (gatehouse.PasskeyCeremony, error)
}

// PasskeysStore is the store as passkeys sees it.
type PasskeysStore interface {
	PasskeysReader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(PasskeysTx) error) error
}
