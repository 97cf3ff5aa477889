package gatehouse

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Member is one membership seen with its identity: what the API calls a
// user of an account.
type Member struct {
	Membership
	Username  string
	FirstName string
	LastName  string
	Language  string
	Roles     []string
}

// Notifications are a member's choices for external notifications (R-N3).
type Notifications struct {
	Enabled bool
	Email   bool
	SMS     bool
}

// InvitationStatus is the life of one invitation link (R-M4, R-M5).
// "expired" is not stored: a pending invitation past its expiry is expired.
type InvitationStatus string

const (
	InvitationPending   InvitationStatus = "pending"
	InvitationAccepted  InvitationStatus = "accepted"
	InvitationExpired   InvitationStatus = "expired"
	InvitationCancelled InvitationStatus = "cancelled"
)

// Invitation is the activation link sent to a person added to an account.
// Only the SHA-256 of the link's secret is stored.
type Invitation struct {
	ID           string
	AccountID    string
	MembershipID string
	UserID       string
	Email        string
	Status       InvitationStatus
	TokenHash    []byte
	InvitedBy    string
	SentAt       time.Time
	ExpiresAt    time.Time
	EndedAt      time.Time // accepted or cancelled at; zero while pending
}

// StatusAt is the invitation's status as seen at now.
func (i Invitation) StatusAt(now time.Time) InvitationStatus {
	if i.Status == InvitationPending && !now.Before(i.ExpiresAt) {
		return InvitationExpired
	}
	return i.Status
}

// Limits on people's fields.
const (
	MaxEmailLen = 254 // RFC 5321 path limit
	MaxNameLen  = 100
)

// ParseEmail checks an e-mail address as people type it and returns it
// trimmed. It accepts the plain addr-spec form only (no display names, no
// comments, no quoted local parts with spaces): usernames and notification
// addresses are things people read and type.
func ParseEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid(field, "%s is required", field)
	}
	if len(s) > MaxEmailLen || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == '"' || r == ',' }) {
		return "", Invalid(field, "%s must be an e-mail address such as ann@example.com", field)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", Invalid(field, "%s must be an e-mail address such as ann@example.com", field)
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") || strings.HasPrefix(domain, "[") {
		return "", Invalid(field, "%s must be an e-mail address with a domain, such as ann@example.com", field)
	}
	return s, nil
}

// ValidatePersonName checks a first or last name and returns it trimmed.
func ValidatePersonName(field, name string) (string, error) {
	return validateText(field, name, "%s is required for a new username", MaxNameLen)
}

// validateText checks one line of plain text that people type and read (a
// name, a label) and returns it trimmed: present, valid UTF-8 without
// control characters, at most max characters. missing is the message when it
// is empty, with %s for the field.
func validateText(field, text, missing string, max int) (string, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "", Invalid(field, missing, field)
	case !utf8.ValidString(text) || strings.ContainsFunc(text, isControl):
		return "", Invalid(field, "%s must be plain text", field)
	case strings.ContainsFunc(text, isBidiControl):
		return "", Invalid(field, "%s must not contain characters that change the direction of text", field)
	case utf8.RuneCountInString(text) > max:
		return "", Invalid(field, "%s must be at most %d characters", field, max)
	}
	return text, nil
}

// Languages are the languages Gatehouse speaks (R-U6): adding one is adding
// its message catalogue and its code here.
var Languages = []string{"en", "fr"}

// ValidLanguage tells whether Gatehouse has a catalogue for lang.
func ValidLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Truncate cuts s to at most n bytes without splitting a character, for
// text that is echoed back or used as a key.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
