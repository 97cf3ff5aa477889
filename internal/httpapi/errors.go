package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/httperr"
)

// retryAfterSeconds is the Retry-After of every 503: worth trying again
// soon, since the database is back in seconds after a restart, and a
// standby's promotion takes about as long (docs/operations.md, "Fail over").
const retryAfterSeconds = "2"

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Fields lists every invalid field of the request, the first one (in
	// field and message) included, when there are several.
	Fields []fieldError `json:"fields,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
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
	status := httperr.Status(e.Code)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	body := errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}
	if len(e.Also) > 0 {
		body.Fields = []fieldError{{Field: e.Field, Message: e.Message}}
		for _, other := range e.Also {
			body.Fields = append(body.Fields, fieldError{Field: other.Field, Message: other.Message})
		}
	}
	writeJSON(w, status, errorBody{Error: body})
}
