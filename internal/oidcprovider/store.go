package oidcprovider

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// The store as the OpenID Provider sees it. Every method returns ENOTFOUND
// for a missing row; internal/store implements it on SQLite and PostgreSQL.

// Reader is what the provider reads.
type Reader interface {
	kernel.Reader
	User(ctx context.Context, id string) (gatehouse.User, error)
	// MembershipsOf lists an identity's memberships that did not end by
	// themselves at now (the account chooser's list).
	MembershipsOf(ctx context.Context, userID string, now time.Time) ([]gatehouse.MembershipSummary, error)
	// HasActiveAdminMembership tells whether a second factor is required
	// of the identity: an administrator somewhere, an operator, or someone
	// an administrator required it of.
	HasActiveAdminMembership(ctx context.Context, userID string) (bool, error)
	// SessionSecondFactor tells whether a portal session was opened with a
	// second factor, and the methods (amr) recorded when a passkey took
	// part (nil otherwise).
	SessionSecondFactor(ctx context.Context, sessionID string) (second bool, amr []string, err error)
	// OIDCSigningKeys lists the signing keys, newest generation first
	// (none before the first is made).
	OIDCSigningKeys(ctx context.Context) ([]gatehouse.OIDCSigningKey, error)
	// OIDCClient returns a live client.
	OIDCClient(ctx context.Context, id string) (gatehouse.OIDCClient, error)
	// OIDCClients lists the live clients, newest first.
	OIDCClients(ctx context.Context) ([]gatehouse.OIDCClient, error)
	// OIDCAuthRequest returns a request that has not expired at now.
	OIDCAuthRequest(ctx context.Context, id string, now time.Time) (gatehouse.OIDCAuthRequest, error)
	// OIDCToken returns a token by id, whatever its state.
	OIDCToken(ctx context.Context, id string) (gatehouse.OIDCToken, error)
	// OIDCTokenHolder reads an access token, whatever its state, with whom
	// it was given to and, when accountID is set, that account with the
	// person's access to it at now, and the secret hash of the client that
	// asks (ENOTFOUND when the token or the account is missing).
	OIDCTokenHolder(ctx context.Context, tokenID, accountID, askingClientID string, now time.Time) (gatehouse.OIDCTokenHolder, error)
	// OIDCRefreshToken returns a refresh token by hash, whatever its state.
	OIDCRefreshToken(ctx context.Context, hash []byte) (gatehouse.OIDCToken, error)
	// OIDCConnectionsOf lists the applications holding a live token of the
	// identity at now, with its latest sign-in to each.
	OIDCConnectionsOf(ctx context.Context, userID string, now time.Time) ([]gatehouse.OIDCConnection, error)
	// OIDCDeviceCodeByUserCode returns a pending device authorization live
	// at now.
	OIDCDeviceCodeByUserCode(ctx context.Context, userCode string, now time.Time) (gatehouse.OIDCDeviceCode, error)
	// OIDCDeviceCode returns a device authorization by its device code's
	// hash, whatever its state.
	OIDCDeviceCode(ctx context.Context, hash []byte) (gatehouse.OIDCDeviceCode, error)
	// OIDCConsent returns a person's consent to an application.
	OIDCConsent(ctx context.Context, userID, clientID string) (gatehouse.OIDCConsent, error)
	// OIDCDeviceCodeFailures counts a subject's wrong user codes since.
	OIDCDeviceCodeFailures(ctx context.Context, subject string, since time.Time) (int, error)
}

// Tx is the transaction the provider writes in.
type Tx interface {
	Reader
	kernel.Writer
	// InsertOIDCSigningKey stores a key as its generation unless another
	// node stored that generation first: the caller reads back who won.
	InsertOIDCSigningKey(ctx context.Context, k gatehouse.OIDCSigningKey) error
	// SetOIDCSigningKeyRSA gives a generation its RS256 key unless another
	// node gave it one first: the caller reads back who won.
	SetOIDCSigningKeyRSA(ctx context.Context, id, sealed string) error
	// DeleteOIDCSigningKey drops a retired key.
	DeleteOIDCSigningKey(ctx context.Context, id string) error
	InsertOIDCClient(ctx context.Context, c gatehouse.OIDCClient) error
	// DeleteOIDCClient removes a live client and revokes its tokens.
	DeleteOIDCClient(ctx context.Context, id string, now time.Time) error
	InsertOIDCAuthRequest(ctx context.Context, a gatehouse.OIDCAuthRequest) error
	// FinishOIDCAuthRequest records who signed in for a live, unfinished
	// request, with its scopes (the account chosen replacing "account").
	FinishOIDCAuthRequest(ctx context.Context, id, userID string, scopes, amr []string, authTime time.Time) error
	SetOIDCAuthCode(ctx context.Context, id string, codeHash []byte) error
	// UseOIDCAuthCode marks the live code used and returns its request with
	// first set; a code used before returns its request with first unset.
	UseOIDCAuthCode(ctx context.Context, codeHash []byte, now time.Time) (a gatehouse.OIDCAuthRequest, first bool, err error)
	DeleteOIDCAuthRequest(ctx context.Context, id string) error
	InsertOIDCToken(ctx context.Context, t gatehouse.OIDCToken) error
	// UseOIDCRefreshToken marks a live, unused refresh token used.
	UseOIDCRefreshToken(ctx context.Context, id string, now time.Time) error
	// RevokeOIDCToken revokes one access token.
	RevokeOIDCToken(ctx context.Context, id string, now time.Time) error
	// RevokeOIDCFamily revokes every token of one sign-in. This and the
	// other revocations of a sign-in's end queue, in the transaction, a
	// back-channel logout to each application with a back-channel logout
	// URI, for each person whose live tokens they revoked.
	RevokeOIDCFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeOIDCClientTokensOf revokes the tokens one application holds for
	// an identity.
	RevokeOIDCClientTokensOf(ctx context.Context, userID, clientID string, now time.Time) error
	InsertOIDCDeviceCode(ctx context.Context, d gatehouse.OIDCDeviceCode) error
	// DecideOIDCDeviceCode approves or denies a pending, live device
	// authorization.
	DecideOIDCDeviceCode(ctx context.Context, id, state, userID string, scopes, amr []string, now time.Time) error
	// UseOIDCDeviceCode marks an approved device authorization used: it
	// gives tokens once.
	UseOIDCDeviceCode(ctx context.Context, id string, now time.Time) error
	RecordOIDCDeviceCodeFailure(ctx context.Context, subjects []string, now time.Time) error
	// SaveOIDCConsent records (or widens) a person's consent.
	SaveOIDCConsent(ctx context.Context, c gatehouse.OIDCConsent) error
	DeleteOIDCConsent(ctx context.Context, userID, clientID string) error
	// RevokeSession ends a portal session (ENOTFOUND when it is over).
	RevokeSession(ctx context.Context, id string, now time.Time) error
	// PurgeOIDC deletes the authorization requests, device codes and
	// tokens expired for over a day, and the revoked tokens that expired.
	PurgeOIDC(ctx context.Context, now time.Time) (gatehouse.OIDCPurged, error)
}

// Store is the store as the provider sees it.
type Store interface {
	Reader
	Write(ctx context.Context, fn func(Tx) error) error
}
