package gatehouse

import "time"

// Second-factor methods an identity may choose (R-S2).
const (
	MFANone = ""
	MFATOTP = "totp" // the authenticator app: the "mobile authentication key"
	MFASMS  = "sms"  // a code sent to the identity's phone
)

// IdentityProvider is an OpenID Connect provider people may sign in through
// (R-U5): platform-wide when AccountID is "" (made by operators), or an
// integrator's, for its own account and its clients.
type IdentityProvider struct {
	ID        string
	AccountID string
	Name      string
	Issuer    string
	ClientID  string
	// ClientSecret is sealed with the server key: it is sent to the
	// provider at every sign-in, so it cannot be a hash.
	ClientSecret string
	CreatedBy    string
	CreatedAt    time.Time
}

// OIDCLogin is one trip to a provider: found again by the hash of the state
// sent along, and used once.
type OIDCLogin struct {
	ID         string
	StateHash  []byte
	ProviderID string
	// InvitationHash is the hash of the invitation link that started an
	// activation, or nil for a sign-in.
	InvitationHash []byte
	// Verifier (PKCE) and Nonce are sealed with the server key.
	Verifier  string
	Nonce     string
	ExpiresAt time.Time
}

// UsernameChange is a new username waiting for the link mailed to it (R-U4).
type UsernameChange struct {
	ID          string
	UserID      string
	NewUsername string
	TokenHash   []byte
	RequestedBy string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// NotificationRecipient is a member of an account who enabled external
// notifications (R-N3), with where to reach them.
type NotificationRecipient struct {
	MembershipID string
	UserID       string
	Language     string
	FirstName    string
	Address      string // the membership's notification e-mail address
	Phone        string // E.164, or "" when the identity has none
	Notifications
}

// AccountNotification is one notification sent to an account, kept by the
// caller's idempotency key.
type AccountNotification struct {
	ID             string
	AccountID      string
	IdempotencyKey string
	Emails, SMS    int
	CreatedBy      string
	CreatedAt      time.Time
}
