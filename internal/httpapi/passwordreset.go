package httpapi

import "net/http"

// requestPasswordReset mails a reset link if the username has a password.
// The answer is the same for every username (no enumeration).
func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.SignIn.RequestPasswordReset(r.Context(), clientIP(r), requestID(r.Context()), in.Username); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "if this username has a password, a link is on its way"})
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	user, err := s.svc.SignIn.ResetPassword(r.Context(), clientIP(r), requestID(r.Context()), in.Token, in.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"user_id": user.ID})
}
