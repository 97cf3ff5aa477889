package gatehouse

import "time"

// MFAPasskey is the method of a second-factor challenge answered with a
// passkey. It is never an identity's chosen MFAMethod: passkeys are kept
// apart, and a person may have them beside an authenticator app or SMS.
const MFAPasskey = "passkey"

// MaxPasskeyNameLen bounds the name a person gives a passkey.
const MaxPasskeyNameLen = 100

// Passkey is one WebAuthn credential of a person (R-S6). The public key
// and the counter are what sign-in checks; the rest is shown or kept for
// policy.
type Passkey struct {
	ID           string
	UserID       string
	CredentialID []byte
	Name         string
	// PublicKey is the credential's COSE public key.
	PublicKey         []byte
	AttestationType   string
	AttestationFormat string
	// Transports are how the browser reaches the authenticator (internal,
	// usb, hybrid…), given back to it at sign-in.
	Transports []string
	// AAGUID names the authenticator's model (16 bytes; zeros when the
	// authenticator does not say).
	AAGUID []byte
	// SignCount is the authenticator's signature counter at the last use;
	// a use whose counter does not move forward is refused (a cloned key),
	// unless the authenticator keeps none (always 0).
	SignCount      uint32
	UserVerified   bool
	BackupEligible bool
	BackupState    bool
	CreatedAt      time.Time
	LastUsedAt     time.Time
}

// Purposes of a passkey ceremony.
const (
	CeremonyRegister     = "register"
	CeremonySignIn       = "sign_in"
	CeremonySecondFactor = "second_factor"
	CeremonyActivate     = "activate"
)

// PasskeyCeremony is a WebAuthn ceremony between its options and the
// browser's answer: the library's session data (its challenge), kept in the
// database so that any node may finish it, found by the hash of the secret
// handed to the browser, and used once.
type PasskeyCeremony struct {
	ID      string
	Hash    []byte
	Purpose string
	// UserID is the person registering or answering a second factor; ""
	// for a passwordless sign-in, where the passkey names the person.
	UserID string
	// ChallengeID is the second-factor challenge this ceremony answers.
	ChallengeID string
	// InvitationHash is the hash of the invitation link being activated.
	InvitationHash []byte
	// SessionData is the library's session data as JSON.
	SessionData string
	ExpiresAt   time.Time
	UsedAt      time.Time
}
