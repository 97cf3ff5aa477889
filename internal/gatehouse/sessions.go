package gatehouse

import "time"

// Credentials are what sign-in checks of an identity. The password hash and
// the sealed authenticator key never leave the service.
type Credentials struct {
	UserID       string
	Username     string
	Status       UserStatus
	PasswordHash string
	// TOTPSecret is the authenticator key sealed with the server key, or "".
	TOTPSecret   string
	TOTPLastStep int64
	// MFAMethod is the second factor the identity chose (MFATOTP, MFASMS)
	// or MFANone.
	MFAMethod string
	// MFAPhone is the number SMS codes go to: the one a code proved when
	// SMS was chosen, not the profile's phone, which anyone who may edit
	// the profile can change.
	MFAPhone string
	// IdentityProviderID is set for identities that sign in through an
	// external provider: they have no password (R-U5).
	IdentityProviderID string
}

// MFA challenge kinds.
const (
	ChallengeVerify = "verify" // enter a code of the enrolled authenticator
	ChallengeEnroll = "enroll" // confirm a new authenticator with its first code
)

// MFAChallenge is the second step of a sign-in whose password was right.
type MFAChallenge struct {
	ID     string
	Hash   []byte
	UserID string
	Kind   string
	// Method is what the code comes from: MFATOTP or MFASMS.
	Method     string
	TOTPSecret string // sealed; authenticator enrollment only
	// CodeHash is the SHA-256 of the code sent by SMS, to Phone; Sends
	// counts the texts sent, the last at LastSentAt.
	CodeHash   []byte
	Phone      string
	Sends      int
	LastSentAt time.Time
	ExpiresAt  time.Time
	UsedAt     time.Time
}

// Session is a signed-in browser or client (R-S4).
type Session struct {
	ID         string
	UserID     string
	Hash       []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time // absolute
	LastSeenAt time.Time // for the idle limit
	RevokedAt  time.Time
	// SecondFactor tells whether the session was opened with a second
	// factor (the amr of the ID tokens it leads to).
	SecondFactor bool
	// AMR are the methods it was opened with when a passkey took part
	// ("hwk", "user", after "pwd" when a password came first); nil for
	// the others, whose methods follow from SecondFactor.
	AMR []string
	// Operator is read from the identity at every use: an operator whose
	// flag is taken away loses the powers at the next request.
	Operator bool
}

// MembershipSummary is one entry of the account switcher (R-M6).
type MembershipSummary struct {
	ID          string
	AccountID   string
	AccountName string
	AccountKind AccountKind
	// IntegratorName names a client account's integrator, which tells two
	// sites of one name apart; "" for an integrator account.
	IntegratorName string
	// AccountAddress tells apart two clients of one integrator that shared
	// a name before names were unique.
	AccountAddress string
	// Suspended is set when the account, or for its staff the integrator,
	// is suspended: the account stays in the switcher, marked.
	Suspended bool
	Level     Level
	Status    MembershipStatus
	// Notifications are the member's choices there (R-N3).
	Notifications Notifications
	// ExpiresAt is when the membership ends by itself; zero for never.
	// Lists of a person's memberships leave out those that ended.
	ExpiresAt time.Time
}
