package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/service"
)

type sessionJSON struct {
	Token     string    `json:"token"`
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

func toSessionJSON(s *service.NewSession) sessionJSON {
	return sessionJSON{Token: s.Token, UserID: s.UserID, ExpiresAt: s.ExpiresAt}
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.SignIn(r.Context(), clientIP(r), requestID(r.Context()), in.Username, in.Password)
	switch {
	case err != nil:
		s.writeError(w, r, err)
	case res.Session != nil:
		writeJSON(w, http.StatusCreated, toSessionJSON(res.Session))
	case res.Enroll:
		writeJSON(w, http.StatusOK, map[string]any{"mfa_enrollment_required": true, "challenge": res.Challenge,
			"totp_secret": res.TOTPSecret, "otpauth_uri": res.OTPAuthURI, "challenge_expires_at": res.ChallengeEnds})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"mfa_required": true, "challenge": res.Challenge,
			"methods": []string{"totp"}, "challenge_expires_at": res.ChallengeEnds})
	}
}

func (s *Server) completeMFA(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Challenge string `json:"challenge"`
		Code      string `json:"code"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	session, err := s.svc.CompleteMFA(r.Context(), clientIP(r), requestID(r.Context()), in.Challenge, in.Code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toSessionJSON(session))
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignOut(r.Context(), caller(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type meJSON struct {
	User        meUserJSON       `json:"user"`
	Memberships []meMembershipJS `json:"memberships"`
}

type meUserJSON struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Language   string `json:"language"`
	MFAEnabled bool   `json:"mfa_enabled"`
}

type meMembershipJS struct {
	ID          string `json:"id"`
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	AccountKind string `json:"account_kind"`
	Level       string `json:"level"`
	Status      string `json:"status"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	me, err := s.svc.WhoAmI(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := meJSON{User: meUserJSON{ID: me.User.ID, Username: me.User.Username, FirstName: me.User.FirstName,
		LastName: me.User.LastName, Language: me.User.Language, MFAEnabled: me.MFAEnabled}, Memberships: []meMembershipJS{}}
	for _, m := range me.Memberships {
		out.Memberships = append(out.Memberships, meMembershipJS{ID: m.ID, AccountID: m.AccountID, AccountName: m.AccountName,
			AccountKind: string(m.AccountKind), Level: string(m.Level), Status: string(m.Status)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request) {
	e, err := s.svc.StartTOTPEnrollment(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"challenge": e.Challenge, "totp_secret": e.TOTPSecret,
		"otpauth_uri": e.OTPAuthURI, "challenge_expires_at": e.ExpiresAt})
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Challenge string `json:"challenge"`
		Code      string `json:"code"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.ConfirmTOTPEnrollment(r.Context(), caller(r), in.Challenge, in.Code); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// unlockSignIn ends a username's sign-in lock (R-S3).
func (s *Server) unlockSignIn(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.UnlockSignIn(r.Context(), caller(r), r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
