package httpapi

import "net/http"

func (s *Server) listOperators(w http.ResponseWriter, r *http.Request) {
	users, err := s.svc.Accounts.Operators(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]userJSON, len(users))
	for i, u := range users {
		items[i] = toUserJSON(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nil})
}

// setOperator makes an identity an operator (PUT) or takes it away (DELETE).
func (s *Server) setOperator(operator bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, err := s.svc.Accounts.SetOperator(r.Context(), caller(r), r.PathValue("user_id"), operator)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !operator {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, toUserJSON(user))
	}
}
