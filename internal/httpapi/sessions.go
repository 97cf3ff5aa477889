package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/signin"
)

type sessionJSON struct {
	Token     string    `json:"token"`
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

func toSessionJSON(s *signin.NewSession) sessionJSON {
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
	res, err := s.svc.SignIn.SignIn(r.Context(), clientIP(r), requestID(r.Context()), in.Username, in.Password)
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
			"methods": res.Methods, "sms_sent": res.SMSSent, "challenge_expires_at": res.ChallengeEnds})
	}
}

// resendSMSCode texts a new code for an SMS challenge (throttled).
func (s *Server) resendSMSCode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Challenge string `json:"challenge"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	expires, err := s.svc.SignIn.ResendSMSCode(r.Context(), clientIP(r), requestID(r.Context()), in.Challenge)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sms_sent": true, "challenge_expires_at": expires})
}

// enrollBySMS turns a sign-in's authenticator enrollment into enrollment
// by text: a code goes to the phone given, or the profile's.
func (s *Server) enrollBySMS(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Challenge string `json:"challenge"`
		Phone     string `json:"phone"`
		Country   string `json:"country"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.SignIn.EnrollBySMS(r.Context(), clientIP(r), requestID(r.Context()), in.Challenge, in.Phone, in.Country)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"mfa_enrollment_required": true, "challenge": res.Challenge,
		"methods": res.Methods, "sms_sent": true, "challenge_expires_at": res.ChallengeEnds})
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
	session, err := s.svc.SignIn.CompleteMFA(r.Context(), clientIP(r), requestID(r.Context()), in.Challenge, in.Code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toSessionJSON(session))
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignIn.SignOut(r.Context(), caller(r)); err != nil {
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
	// MFAMethod is "totp", "sms" or "".
	MFAMethod         string `json:"mfa_method"`
	RecoveryCodesLeft int    `json:"recovery_codes_left"`
	Phone             string `json:"phone"`
	UserType          string `json:"user_type"`
	IdentityProvider  string `json:"identity_provider"`
}

type meMembershipJS struct {
	ID          string `json:"id"`
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name"`
	AccountKind string `json:"account_kind"`
	// IntegratorName tells apart two sites of one name (a client's).
	IntegratorName string `json:"integrator_name,omitempty"`
	// AccountSuspended: the account is suspended, and this member cannot
	// act in it until it is restored.
	AccountSuspended bool   `json:"account_suspended"`
	Level            string `json:"level"`
	Status           string `json:"status"`
	// ExpiresAt is when the membership ends by itself; null for never.
	// Memberships that ended are not listed.
	ExpiresAt *time.Time `json:"expires_at"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	me, err := s.svc.SignIn.WhoAmI(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := meJSON{User: meUserJSON{ID: me.User.ID, Username: me.User.Username, FirstName: me.User.FirstName,
		LastName: me.User.LastName, Language: me.User.Language, MFAEnabled: me.MFAMethod != "", MFAMethod: me.MFAMethod,
		RecoveryCodesLeft: me.RecoveryCodesLeft, Phone: me.User.Phone, UserType: me.User.UserType,
		IdentityProvider: me.User.IdentityProviderID}, Memberships: []meMembershipJS{}}
	for _, m := range me.Memberships {
		out.Memberships = append(out.Memberships, meMembershipJS{ID: m.ID, AccountID: m.AccountID, AccountName: m.AccountName,
			AccountKind: string(m.AccountKind), IntegratorName: m.IntegratorName, AccountSuspended: m.Suspended, Level: string(m.Level), Status: string(m.Status),
			ExpiresAt: optionalTime(m.ExpiresAt)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request) {
	e, err := s.svc.SignIn.StartTOTPEnrollment(r.Context(), caller(r))
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
	if err := s.svc.SignIn.ConfirmEnrollment(r.Context(), caller(r), in.Challenge, in.Code); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// startSMS texts a code to the caller's phone; confirming it (at
// /api/v1/me/mfa/sms/confirm, like an authenticator) makes SMS their second
// factor.
func (s *Server) startSMS(w http.ResponseWriter, r *http.Request) {
	e, err := s.svc.SignIn.StartSMSEnrollment(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"challenge": e.Challenge, "phone": e.Phone, "challenge_expires_at": e.ExpiresAt})
}

// disableMFA turns the caller's second factor off (refused to administrators).
func (s *Server) disableMFA(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignIn.DisableMFA(r.Context(), caller(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// newRecoveryCodes answers ten new single-use recovery codes, shown once.
func (s *Server) newRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	codes, err := s.svc.SignIn.NewRecoveryCodes(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"codes": codes})
}

// unlockSignIn ends a username's sign-in lock (R-S3).
func (s *Server) resetSecondFactor(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignIn.ResetSecondFactor(r.Context(), caller(r), r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) unlockSignIn(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.People.UnlockSignIn(r.Context(), caller(r), r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
