package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Personal API tokens.

type apiTokenJSON struct {
	ID         string     `json:"id"`
	AccountID  string     `json:"account_id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	Token      string     `json:"token,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func toAPITokenJSON(t gatehouse.APIToken) apiTokenJSON {
	out := apiTokenJSON{ID: t.ID, AccountID: t.AccountID, Name: t.Name, Scopes: t.Scopes, CreatedAt: t.CreatedAt}
	if !t.ExpiresAt.IsZero() {
		out.ExpiresAt = &t.ExpiresAt
	}
	if !t.LastUsedAt.IsZero() {
		out.LastUsedAt = &t.LastUsedAt
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	return out
}

func (s *Server) createAPIToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name      string     `json:"name"`
		Scopes    []string   `json:"scopes"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	req := accounts.NewAPIToken{Name: in.Name, Scopes: in.Scopes}
	if in.ExpiresAt != nil {
		req.ExpiresAt = *in.ExpiresAt
	}
	tok, secret, err := s.svc.Accounts.CreateAPIToken(r.Context(), caller(r), r.PathValue("id"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toAPITokenJSON(tok)
	out.Token = secret
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listAPITokens(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.svc.Accounts.APITokens(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(gatehouse.Page[gatehouse.APIToken]{Items: tokens}, toAPITokenJSON))
}

func (s *Server) revokeAPIToken(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Accounts.RevokeAPIToken(r.Context(), caller(r), r.PathValue("id"), r.PathValue("token_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
