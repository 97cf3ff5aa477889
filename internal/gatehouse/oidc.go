package gatehouse

import "time"

// Gatehouse as the platform's OpenID Provider: the applications registered
// with it, the authorization requests in flight, and the tokens issued.

// OIDCClient is an application that signs people in through Gatehouse.
type OIDCClient struct {
	ID   string // the client_id
	Name string
	// RedirectURIs are matched exactly.
	RedirectURIs []string
	// Confidential clients authenticate with a secret (only its hash is
	// kept); public ones (single-page and native applications) must use
	// PKCE with S256.
	Confidential bool
	SecretHash   []byte
	// A Service client is confidential, has no redirect URI and gets
	// access tokens for its one account (AccountID) with client
	// credentials; it never signs a person in.
	Service   bool
	AccountID string
	// A Device client (a signage player, a monitoring station) is public,
	// has no redirect URI and signs a person in with the device flow
	// (RFC 8628): the person approves it at /device.
	Device bool
	// SigningAlgorithm signs its ID and access tokens: ES256, or RS256
	// for an application whose library knows no other.
	SigningAlgorithm string
	// OwnerAccountID is the integrator account whose administrators
	// registered the application; empty for the platform's own. An
	// integrator's application signs people in to that integrator's
	// accounts alone, after they consent.
	OwnerAccountID string
	// BackchannelLogoutURI, when set, is where the application hears
	// that a person's sign-in to it ended: the outbox POSTs it a signed
	// logout token.
	BackchannelLogoutURI string
	// PostLogoutRedirectURIs are where /oauth2/end_session may send the
	// browser back, matched exactly.
	PostLogoutRedirectURIs []string
	CreatedBy              string
	CreatedAt              time.Time
}

// Signing algorithms of the OpenID Provider's tokens.
const (
	SigningES256 = "ES256"
	SigningRS256 = "RS256"
)

// OIDCAuthRequest is one authorization request, from /oauth2/authorize to
// the exchange of its code.
type OIDCAuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	// UserID is set when the person signed in and the request is done.
	UserID   string
	AMR      []string
	AuthTime time.Time
	// ACRValues are the authentication context classes the application
	// asked for (acr_values).
	ACRValues []string
	// CodeUsedAt is set when its code was exchanged.
	CodeUsedAt time.Time
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// OIDC token kinds.
const (
	OIDCAccessToken  = "access"
	OIDCRefreshToken = "refresh"
)

// OIDCToken is an access token (a JWT whose jti is ID) or a refresh token
// (opaque; Hash is its SHA-256). FamilyID is the authorization every token
// descends from.
type OIDCToken struct {
	ID        string
	Kind      string
	FamilyID  string
	ClientID  string
	UserID    string
	Hash      []byte
	Scopes    []string
	AMR       []string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
	RevokedAt time.Time
}

// OIDCSigningKey is a key that signs tokens; PrivateKey is sealed.
// Generation numbers the keys from 1: the highest signs, the ones before
// it stay published until the tokens they signed have expired.
type OIDCSigningKey struct {
	ID         string
	Generation int64
	Algorithm  string
	PrivateKey string
	// RSAPrivateKey is the generation's RS256 key, sealed; empty until a
	// token of an RS256 application first needs it.
	RSAPrivateKey string
	CreatedAt     time.Time
}

// OIDCConsent is a person's consent to an integrator's application.
type OIDCConsent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	GrantedAt time.Time
}

// OIDCTokenHolder is an access token read with whom it was given to, in
// one query, for introspection: what makes the token active or not is read
// at each request, never remembered.
type OIDCTokenHolder struct {
	// Token has neither family, hash, amr nor use time.
	Token OIDCToken
	// Username, FirstName and LastName are the person's; empty for a
	// service client's token.
	Username, FirstName, LastName string
	// ClientLive tells the token's application was not deleted;
	// ClientService that it is a service client, whose tokens are for
	// ClientAccountID.
	ClientLive, ClientService bool
	ClientAccountID           string
	// AskingClientSecretHash is the secret hash of the client that asks,
	// read in the same query; nil unless it is a live confidential client.
	AskingClientSecretHash []byte
	// AskingClientOwnerID is the integrator that registered the asking
	// client as its own application; "" for the platform's.
	AskingClientOwnerID string
	// Account is the account asked about — its id, kind, name, integrator,
	// status, integrator's status and settings for remote monitoring, what
	// the claims and kernel.DecideOn read — with the person's levels in it
	// and its integrator (Access); zero when none was asked about.
	Account Account
	Access  Access
}

// OIDCConnection is an application a person is signed in to: one that
// holds a live token of theirs.
type OIDCConnection struct {
	ClientID string
	Name     string
	// SignedInAt is their latest sign-in to it.
	SignedInAt time.Time
}

// OIDCDeviceCode is one device authorization (RFC 8628), from
// /oauth2/device_authorization to the device's tokens.
type OIDCDeviceCode struct {
	ID             string
	ClientID       string
	DeviceCodeHash []byte
	UserCode       string
	Scopes         []string
	// State is pending, approved or denied.
	State     string
	UserID    string
	AMR       []string
	AuthTime  time.Time
	UsedAt    time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Device authorization states.
const (
	DeviceCodePending  = "pending"
	DeviceCodeApproved = "approved"
	DeviceCodeDenied   = "denied"
)

// OIDCPurged counts the rows one purge of the OpenID Provider removed.
type OIDCPurged struct {
	AuthRequests, DeviceCodes, Tokens int
}
