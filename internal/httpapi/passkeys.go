package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// Passkeys (R-S6). Each ceremony has two steps: …/options answers the
// options for navigator.credentials (create or get) with the ceremony's
// secret; the browser's answer comes back with that secret, as the
// PublicKeyCredential in JSON (what its toJSON() gives).

type passkeyJSON struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
	BackupEligible bool       `json:"backup_eligible"`
	BackupState    bool       `json:"backed_up"`
}

func toPasskeyJSON(k gatehouse.Passkey) passkeyJSON {
	out := passkeyJSON{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, BackupEligible: k.BackupEligible, BackupState: k.BackupState}
	if !k.LastUsedAt.IsZero() {
		out.LastUsedAt = &k.LastUsedAt
	}
	return out
}

func writeCeremony(w http.ResponseWriter, c signin.PasskeyCeremony) {
	writeJSON(w, http.StatusOK, map[string]any{"ceremony": c.Ceremony, "options": c.Options, "ceremony_expires_at": c.ExpiresAt})
}

func (s *Server) listPasskeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.svc.SignIn.Passkeys(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]passkeyJSON, len(keys))
	for i, k := range keys {
		items[i] = toPasskeyJSON(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nil})
}

func (s *Server) passkeyRegistrationOptions(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.SignIn.BeginPasskeyRegistration(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCeremony(w, c)
}

func (s *Server) addPasskey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ceremony   string          `json:"ceremony"`
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	key, err := s.svc.SignIn.FinishPasskeyRegistration(r.Context(), caller(r), in.Ceremony, in.Name, in.Credential)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toPasskeyJSON(key))
}

func (s *Server) removePasskey(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignIn.RemovePasskey(r.Context(), caller(r), r.PathValue("passkey_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) passkeySignInOptions(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.SignIn.BeginPasskeySignIn(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCeremony(w, c)
}

func (s *Server) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ceremony   string          `json:"ceremony"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	session, err := s.svc.SignIn.FinishPasskeySignIn(r.Context(), clientIP(r), requestID(r.Context()), in.Ceremony, in.Credential)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toSessionJSON(session))
}

func (s *Server) passkeySecondFactorOptions(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Challenge string `json:"challenge"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.SignIn.BeginPasskeySecondFactor(r.Context(), in.Challenge)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCeremony(w, c)
}

func (s *Server) passkeySecondFactor(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Challenge  string          `json:"challenge"`
		Ceremony   string          `json:"ceremony"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	session, err := s.svc.SignIn.CompletePasskeySecondFactor(r.Context(), clientIP(r), requestID(r.Context()), in.Challenge, in.Ceremony, in.Credential)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toSessionJSON(session))
}

func (s *Server) passkeyActivationOptions(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.SignIn.BeginPasskeyActivation(r.Context(), in.Token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCeremony(w, c)
}

func (s *Server) activateWithPasskey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token      string          `json:"token"`
		Ceremony   string          `json:"ceremony"`
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	user, err := s.svc.SignIn.ActivateWithPasskey(r.Context(), clientIP(r), requestID(r.Context()), in.Token, in.Ceremony, in.Name, in.Credential)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"user_id": user.ID, "status": "active"})
}
