package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/signin"
)

type identityProviderJSON struct {
	ID        string  `json:"id"`
	AccountID *string `json:"account_id"`
	Name      string  `json:"name"`
	Issuer    string  `json:"issuer"`
	ClientID  string  `json:"client_id"`
	// SignInURL is the page that signs people in through this provider;
	// RedirectURI the address to register at the provider.
	SignInURL   string    `json:"sign_in_url"`
	RedirectURI string    `json:"redirect_uri"`
	CreatedAt   time.Time `json:"created_at"`
}

func (s *Server) toIdentityProviderJSON(p gatehouse.IdentityProvider) identityProviderJSON {
	out := identityProviderJSON{ID: p.ID, Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, CreatedAt: p.CreatedAt,
		SignInURL: s.svc.PublicURL() + "/oidc/" + p.ID + "/sign-in", RedirectURI: s.svc.PublicURL() + signin.CallbackPath}
	if p.AccountID != "" {
		out.AccountID = &p.AccountID
	}
	return out
}

func (s *Server) createIdentityProvider(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AccountID    string `json:"account_id"`
		Name         string `json:"name"`
		Issuer       string `json:"issuer"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.svc.SignIn.CreateIdentityProvider(r.Context(), caller(r), signin.NewIdentityProvider{AccountID: in.AccountID,
		Name: in.Name, Issuer: in.Issuer, ClientID: in.ClientID, ClientSecret: in.ClientSecret})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.toIdentityProviderJSON(p))
}

func (s *Server) listIdentityProviders(w http.ResponseWriter, r *http.Request) {
	providers, err := s.svc.SignIn.IdentityProviders(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]identityProviderJSON, len(providers))
	for i, p := range providers {
		items[i] = s.toIdentityProviderJSON(p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nil})
}

func (s *Server) deleteIdentityProvider(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SignIn.DeleteIdentityProvider(r.Context(), caller(r), r.PathValue("provider_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
