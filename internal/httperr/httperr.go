// Package httperr maps Gatehouse's error codes to HTTP statuses: one table
// for the JSON API and the portal, so that a person at a page and a program
// calling the API get the same status for the same refusal.
package httperr

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// statuses maps every error code to its HTTP status (docs/api.md, "Errors").
var statuses = map[string]int{
	gatehouse.EINVALID:          http.StatusBadRequest,
	gatehouse.EUNAUTHENTICATED:  http.StatusUnauthorized,
	gatehouse.EFORBIDDEN:        http.StatusForbidden,
	gatehouse.ESHAREDIDENTITY:   http.StatusForbidden,
	gatehouse.EACCOUNTSUSPENDED: http.StatusForbidden,
	gatehouse.ENOTFOUND:         http.StatusNotFound,
	gatehouse.EMETHODNOTALLOWED: http.StatusMethodNotAllowed,
	gatehouse.ECONFLICT:         http.StatusConflict,
	gatehouse.EUSERLIMIT:        http.StatusConflict,
	gatehouse.EALREADYMEMBER:    http.StatusConflict,
	gatehouse.EREMOTEEXISTS:     http.StatusConflict,
	gatehouse.EUSERNAMETAKEN:    http.StatusConflict,
	gatehouse.ENOTACTIVATED:     http.StatusConflict,
	gatehouse.EPREVIEWSTALE:     http.StatusConflict,
	gatehouse.EMFAREQUIRED:      http.StatusConflict,
	gatehouse.EPROVIDERINUSE:    http.StatusConflict,
	gatehouse.ECONFIRMINVALID:   http.StatusGone,
	gatehouse.EROLEINUSE:        http.StatusConflict,
	gatehouse.EFOLDERNOTEMPTY:   http.StatusConflict,
	gatehouse.EINVITEEXPIRED:    http.StatusGone,
	gatehouse.EINVITEINVALID:    http.StatusGone,
	gatehouse.ETOOLARGE:         http.StatusRequestEntityTooLarge,
	gatehouse.EPRECONDITION:     http.StatusPreconditionFailed,
	gatehouse.ERATELIMITED:      http.StatusTooManyRequests,
	gatehouse.EUNAVAILABLE:      http.StatusServiceUnavailable,
	gatehouse.EINTERNAL:         http.StatusInternalServerError,
}

// Status is the HTTP status of an error code; 500 for a code not in the
// table.
func Status(code string) int {
	if status, ok := statuses[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// StatusOf is the HTTP status of err: its code's, 500 for an error that is
// not a *gatehouse.Error, 200 for nil.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return Status(gatehouse.ErrorCode(err))
}

// Codes lists every code in the table, for tests that go through them all.
func Codes() []string {
	codes := make([]string, 0, len(statuses))
	for code := range statuses {
		codes = append(codes, code)
	}
	return codes
}
