package gatehouse

import (
	"strings"
	"time"
	"unicode/utf8"
)

// AccountKind tells integrator accounts (resellers) from client accounts
// (one per customer site) (R-T2, R-T3).
type AccountKind string

const (
	KindIntegrator AccountKind = "integrator"
	KindClient     AccountKind = "client"
)

// DefaultMaxClientUsers is the client-user limit of a new client account (R-L1).
const DefaultMaxClientUsers = 9

// Limits on account fields; long enough for any real name or postal address,
// short enough that nobody stores a document in them.
const (
	MaxAccountNameLen    = 200
	MaxAccountAddressLen = 1000
)

// Account is an integrator account or a client account.
type Account struct {
	ID   string
	Kind AccountKind
	Name string
	// Address is the postal address, free text (several lines allowed).
	Address string
	// IntegratorID is the owning integrator of a client account; empty for
	// integrator accounts.
	IntegratorID string
	Settings     AccountSettings
	// TimeZone is the IANA name of the site's time zone ("Europe/Paris"),
	// in which its pages show times and the service provider's access ends
	// by default; DefaultTimeZone until someone sets it.
	TimeZone string
	// ProviderAccessUntil is when the service provider's access to a
	// client's cameras and media ends (R-PV1, R-PV2); zero while it is closed.
	ProviderAccessUntil time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
	// Status is where the account is in its life; PurgeAfter is when a
	// deleted account goes for good.
	Status     AccountStatus
	PurgeAfter time.Time
	// IntegratorStatus is the status of a client's integrator: suspending
	// an integrator suspends its staff in all its clients.
	IntegratorStatus AccountStatus
}

// AccountStatus is an account's place in its life.
type AccountStatus string

const (
	// AccountActive is an account in use.
	AccountActive AccountStatus = "active"
	// AccountSuspended is an account whose own members cannot act in it
	// (a client who stopped paying); its integrator's staff still manage it
	// and its remote monitoring user keeps working.
	AccountSuspended AccountStatus = "suspended"
	// AccountDeleted is an account whose people are gone, kept for an
	// operator to restore until it is purged.
	AccountDeleted AccountStatus = "deleted"
)

// DeletedAccountKept is how long a deleted account may be restored.
const DeletedAccountKept = 30 * 24 * time.Hour

// AccountSettings are the per-account switches only operators may change.
type AccountSettings struct {
	MaxClientUsers                     int
	ClientAdminsCanAddRemoteMonitoring bool
}

// NameKey is the form of a name used for case-insensitive search and
// ordering: trimmed and lower-cased with Unicode simple case folding.
func NameKey(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// ValidateAccountName checks a name as the user typed it and returns it
// trimmed.
func ValidateAccountName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", Invalid(field, "name is required")
	case !utf8.ValidString(name):
		return "", Invalid(field, "name must be UTF-8 text")
	case utf8.RuneCountInString(name) > MaxAccountNameLen:
		return "", Invalid(field, "name must be at most %d characters", MaxAccountNameLen)
	case strings.ContainsFunc(name, isControl):
		return "", Invalid(field, "name must not contain control characters")
	}
	return name, nil
}

// ValidateAddress checks a postal address; line breaks and tabs are allowed,
// other control characters are not.
func ValidateAddress(field, address string) (string, error) {
	address = strings.TrimSpace(address)
	switch {
	case !utf8.ValidString(address):
		return "", Invalid(field, "address must be UTF-8 text")
	case utf8.RuneCountInString(address) > MaxAccountAddressLen:
		return "", Invalid(field, "address must be at most %d characters", MaxAccountAddressLen)
	case strings.ContainsFunc(address, func(r rune) bool { return r != '\n' && r != '\r' && r != '\t' && isControl(r) }):
		return "", Invalid(field, "address must not contain control characters")
	}
	return address, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// AccountFilter selects accounts for a list (R-T4).
type AccountFilter struct {
	Kind         AccountKind // empty: both kinds
	IntegratorID string      // only the clients of this integrator
	Query        string      // case-insensitive substring of the name
	// Status keeps the accounts of one status; empty keeps all (deleted
	// ones are seen by operators alone).
	Status AccountStatus
	// Visible restricts the list to what a principal may see; nil for operators.
	Visible *Visibility
	Page    PageRequest
}

// Visibility describes the accounts a user principal may see: the accounts
// they hold an active membership on, and the clients of the integrators where
// they are integrator staff. ScopeAccountID narrows that to one account (and
// its clients) for account-scoped tokens. A membership that ended by
// itself at At shows nothing.
type Visibility struct {
	UserID         string
	ScopeAccountID string
	At             time.Time
}
