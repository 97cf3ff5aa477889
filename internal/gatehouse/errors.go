// Package gatehouse holds Gatehouse's domain: accounts, people and their
// memberships, the principals that act on them, the one coded error type, and
// the store contract the database adapters fulfil. It imports no database or
// HTTP code, so every adapter and use case speaks the same vocabulary.
package gatehouse

import (
	"errors"
	"fmt"
)

// Error codes. Each is part of the public contract (docs/api.md):
// the HTTP layer maps a code to its status and puts it in the error body.
const (
	EINVALID          = "validation_failed"
	EUNAUTHENTICATED  = "unauthenticated"
	EFORBIDDEN        = "forbidden"
	ENOTFOUND         = "not_found"
	ECONFLICT         = "conflict"
	ETOOLARGE         = "too_large"
	ERATELIMITED      = "rate_limited"
	EINTERNAL         = "internal"
	EUNAVAILABLE      = "unavailable"
	EUSERLIMIT        = "user_limit_reached"
	EALREADYMEMBER    = "already_member"
	EREMOTEEXISTS     = "remote_monitoring_user_exists"
	EUSERNAMETAKEN    = "username_taken"
	ENOTACTIVATED     = "not_activated"
	EPREVIEWSTALE     = "preview_stale"
	EINVITEEXPIRED    = "invitation_expired"
	EINVITEINVALID    = "invitation_invalid"
	EMETHODNOTALLOWED = "method_not_allowed"
	EROLEINUSE        = "role_in_use"
	EFOLDERNOTEMPTY   = "folder_not_empty"
	// EMFAREQUIRED: administrators cannot turn their second factor off (R-P4).
	EMFAREQUIRED = "mfa_required"
	// EPROVIDERINUSE: a provider people sign in through cannot be deleted.
	EPROVIDERINUSE = "identity_provider_in_use"
	// ECONFIRMINVALID: a username-change link that was used, replaced or
	// expired.
	ECONFIRMINVALID = "confirmation_invalid"
	// ESHAREDIDENTITY: an identity-wide attribute (username, names, password,
	// second factor...) of a person who also belongs to accounts the caller
	// does not manage; only the person, an operator or an administrator of
	// every one of their accounts may change it.
	ESHAREDIDENTITY = "shared_identity"
	// EACCOUNTSUSPENDED: the account (or its integrator) is suspended; its
	// own members cannot act in it until it is restored.
	EACCOUNTSUSPENDED = "account_suspended"
	// EPRECONDITION: the resource changed since the version the request
	// names (If-Match).
	EPRECONDITION = "precondition_failed"
)

// Error is the one error type that crosses package boundaries with a meaning
// a caller can act on. Anything else is an internal error: logged in full,
// shown to clients only as "internal error".
type Error struct {
	Code    string
	Message string
	// Field names the input at fault, in the request's own spelling.
	Field string
	// Also are the other invalid fields of the same request, so that a
	// form shows every mistake at once rather than one per attempt.
	Also []*Error
}

// Validation gathers the invalid fields of one request.
type Validation struct {
	first *Error
	err   error
}

// Check records err: a validation error joins the others, and the first
// error of another kind is kept to be answered instead of them.
func (v *Validation) Check(err error) {
	var e *Error
	switch {
	case err == nil:
	case errors.As(err, &e) && e.Code == EINVALID && e.Field != "":
		if v.first == nil {
			v.first = &Error{Code: e.Code, Message: e.Message, Field: e.Field}
		} else {
			v.first.Also = append(v.first.Also, e)
		}
	case v.err == nil:
		v.err = err
	}
}

// Err returns nil when every check passed; otherwise the first error that
// is not a validation error, or the first invalid field with the others.
func (v *Validation) Err() error {
	if v.err != nil {
		return v.err
	}
	if v.first != nil {
		return v.first
	}
	return nil
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("gatehouse: %s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("gatehouse: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error that names the field at fault.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Field: field}
}

// NotFound is the answer for anything unknown or not visible to the caller;
// the two are never told apart (R-X2).
func NotFound(what string) *Error {
	return &Error{Code: ENOTFOUND, Message: what + " not found"}
}

// ErrorCode returns the code of err, EINTERNAL when err is not an *Error,
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
