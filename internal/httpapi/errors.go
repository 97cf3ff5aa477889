package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// statusOf maps every error code to its HTTP status (API.md "Conventions").
var statusOf = map[string]int{
	gatehouse.EINVALID:          http.StatusBadRequest,
	gatehouse.EUNAUTHENTICATED:  http.StatusUnauthorized,
	gatehouse.EFORBIDDEN:        http.StatusForbidden,
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
	gatehouse.ERATELIMITED:      http.StatusTooManyRequests,
	gatehouse.EUNAVAILABLE:      http.StatusServiceUnavailable,
	gatehouse.EINTERNAL:         http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError answers with the contract's error body. An error that is not a
// *gatehouse.Error is internal: it is logged with the request id and the
// client learns only that something went wrong.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		s.log.ErrorContext(r.Context(), "internal error", slog.String("request_id", requestID(r.Context())), slog.Any("error", err))
		e = &gatehouse.Error{Code: gatehouse.EINTERNAL, Message: "internal error"}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusServiceUnavailable {
		// Worth trying again soon: the database or a provider is back in
		// seconds after a restart.
		w.Header().Set("Retry-After", "2")
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
}
