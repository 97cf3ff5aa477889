package httpapi

import "net/http"

func (s *Server) activate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	user, err := s.svc.SignIn.Activate(r.Context(), clientIP(r), requestID(r.Context()), in.Token, in.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"user_id": user.ID, "status": "active"})
}
