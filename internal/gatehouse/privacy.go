package gatehouse

import (
	"strings"
	"time"

	// The IANA time zone database, built in: a site's time zone must be
	// known wherever the binary runs, with or without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// The client's privacy (R-PV1…R-PV3): a client account's service provider — its
// integrator's staff, and platform support — manage its people and
// settings but reach its cameras and media only while a client
// administrator allows it, until a time.

// DefaultTimeZone is the time zone of an account nobody set one for.
const DefaultTimeZone = "UTC"

// MaxProviderAccess is how far ahead the service provider's access may be
// opened at most.
const MaxProviderAccess = 30 * 24 * time.Hour

// MaxProviderAccessReason bounds the reason given with a request.
const MaxProviderAccessReason = 500

// ProviderPrivatePermissions are the permissions a client's service
// provider holds in the client account only while the client allows it:
// every cameras.* and media.* permission of the catalogue.
var ProviderPrivatePermissions = privatePermissions()

func privatePermissions() PermissionSet {
	var s PermissionSet
	for _, p := range Permissions {
		if strings.HasPrefix(p, "cameras.") || strings.HasPrefix(p, "media.") {
			s |= PermissionBit(p)
		}
	}
	return s
}

// ValidateTimeZone checks an IANA time zone name ("Europe/Paris", "UTC")
// and returns it trimmed.
func ValidateTimeZone(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || name == "Local" {
		return "", Invalid(field, "%s must be an IANA time zone name such as Europe/Paris", field)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return "", Invalid(field, "%s must be an IANA time zone name such as Europe/Paris", field)
	}
	return name, nil
}

// Location is the account's time zone; UTC when it has none or an unknown
// one.
func (a Account) Location() *time.Location {
	if a.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ProviderAccessOpen tells whether the service provider reaches the
// client's cameras and media at now: until the end, not at it.
func (a Account) ProviderAccessOpen(now time.Time) bool {
	return now.Before(a.ProviderAccessUntil)
}

// NextMidnight is the first midnight after now in loc: where the service
// provider's access ends unless the client chooses another end. On a day
// whose midnight a clock change skips, it is the first instant of the day.
func NextMidnight(now time.Time, loc *time.Location) time.Time {
	local := now.In(loc)
	return time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc).UTC()
}

// ProviderAccessStatus is where a request for the service provider's
// access stands.
type ProviderAccessStatus string

const (
	ProviderAccessPending  ProviderAccessStatus = "pending"
	ProviderAccessApproved ProviderAccessStatus = "approved"
	ProviderAccessRefused  ProviderAccessStatus = "refused"
)

// ProviderAccessRequest is the integrator's staff asking a client for
// access to its cameras and media; its administrators approve it (until
// a time) or refuse it.
type ProviderAccessRequest struct {
	ID        string
	AccountID string
	// RequestedBy is the identity of the staff member who asked.
	RequestedBy string
	Reason      string
	Status      ProviderAccessStatus
	CreatedAt   time.Time
	// DecidedBy and DecidedAt are set once an administrator answered;
	// Until is the end an approval chose.
	DecidedBy string
	DecidedAt time.Time
	Until     time.Time
}

// ProviderAccessRequestFilter selects one account's requests, newest
// first; Status "" keeps every status.
type ProviderAccessRequestFilter struct {
	Status ProviderAccessStatus
	Page   PageRequest
}

// ValidateProviderAccessReason checks the reason given with a request and
// returns it on one line, its runs of spaces and line breaks made one
// space; "" when none is given.
func ValidateProviderAccessReason(field, reason string) (string, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if reason == "" {
		return "", nil
	}
	return validateText(field, reason, "", MaxProviderAccessReason)
}
