package httpapi

import (
	"net/http"
	"time"
)

type mySessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

func (s *Server) mySessions(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	sessions, err := s.svc.SignIn.MySessions(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]mySessionJSON, len(sessions))
	for i, ses := range sessions {
		items[i] = mySessionJSON{ID: ses.ID, CreatedAt: ses.CreatedAt, LastSeenAt: ses.LastSeenAt, ExpiresAt: ses.ExpiresAt,
			Current: ses.ID == c.Principal.SessionID}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nil})
}

func (s *Server) endMySession(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignIn.EndMySession(r.Context(), caller(r), r.PathValue("session_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) endSessionsOf(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignIn.EndSessionsOf(r.Context(), caller(r), r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.SignIn.ChangePassword(r.Context(), caller(r), in.Current, in.New); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
