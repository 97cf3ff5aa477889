package httpapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/people"
)

// notifyAccount fans a notification out to the members of an account who
// enabled external notifications (R-N3). The idempotency key comes in the
// body or in the Idempotency-Key header; a repeat is answered 200 with the
// first outcome, a first sending 202 (the outbox delivers it).
func (s *Server) notifyAccount(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Subject        string `json:"subject"`
		Message        string `json:"message"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.IdempotencyKey == "" {
		in.IdempotencyKey = r.Header.Get("Idempotency-Key")
	}
	res, err := s.svc.People.NotifyAccount(r.Context(), caller(r), r.PathValue("id"), people.Notice{Subject: in.Subject, Text: in.Message,
		IdempotencyKey: in.IdempotencyKey})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if res.Repeated {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"id": res.ID, "emails": res.Emails, "sms": res.SMS, "repeated": res.Repeated})
}
