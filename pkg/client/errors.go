package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The stable error codes of the contract (docs/api.md, "Errors"), for
// comparing with Error.Code. The server may add codes; a program should
// fall back on the status for a code it does not know.
const (
	CodeValidationFailed           = "validation_failed"
	CodeUnauthenticated            = "unauthenticated"
	CodeForbidden                  = "forbidden"
	CodeSharedIdentity             = "shared_identity"
	CodeAccountSuspended           = "account_suspended"
	CodeNotFound                   = "not_found"
	CodeMethodNotAllowed           = "method_not_allowed"
	CodeConflict                   = "conflict"
	CodeUserLimitReached           = "user_limit_reached"
	CodeAlreadyMember              = "already_member"
	CodeRemoteMonitoringUserExists = "remote_monitoring_user_exists"
	CodeUsernameTaken              = "username_taken"
	CodeNotActivated               = "not_activated"
	CodePreviewStale               = "preview_stale"
	CodeMFARequired                = "mfa_required"
	CodeIdentityProviderInUse      = "identity_provider_in_use"
	CodeRoleInUse                  = "role_in_use"
	CodeFolderNotEmpty             = "folder_not_empty"
	CodeInvitationExpired          = "invitation_expired"
	CodeInvitationInvalid          = "invitation_invalid"
	CodeConfirmationInvalid        = "confirmation_invalid"
	CodeTooLarge                   = "too_large"
	CodeRateLimited                = "rate_limited"
	CodeUnavailable                = "unavailable"
	CodeInternal                   = "internal"
)

// Error is an answer of the server that is not a success: its HTTP status
// and the contract's error body.
type Error struct {
	// StatusCode is the HTTP status, such as 404.
	StatusCode int
	// Code is stable and meant for programs ("not_found"); "" when the
	// answer carried no error body (a proxy's page, say).
	Code string
	// Message is for people and may change.
	Message string
	// Field names the input at fault, in the request's own spelling, when
	// one is.
	Field string
	// Fields lists every invalid input when there are several, the first
	// being Field and Message.
	Fields []FieldError
	// RequestID is the answer's X-Request-Id, under which the server logged
	// the request: give it when asking about an internal error.
	RequestID string
	// Method and Path are the request that failed.
	Method string
	Path   string
}

// FieldError is one invalid input of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gatehouse: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// maxErrorText bounds how much of an answer that is no error body goes into
// the message.
const maxErrorText = 200

func readError(method, route string, resp *http.Response) error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id"), Method: method, Path: route}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body struct {
		Error *struct {
			Code    string       `json:"code"`
			Message string       `json:"message"`
			Field   string       `json:"field"`
			Fields  []FieldError `json:"fields"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != nil && body.Error.Code != "" {
		e.Code, e.Message, e.Field, e.Fields = body.Error.Code, body.Error.Message, body.Error.Field, body.Error.Fields
		return e
	}
	// Not the contract's body: a proxy or load balancer answered. Its text
	// says more than the status alone.
	text := strings.TrimSpace(string(raw))
	if len(text) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	if text == "" || !utf8.ValidString(text) {
		text = http.StatusText(resp.StatusCode)
	}
	e.Message = text
	return e
}
