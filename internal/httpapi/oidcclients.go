package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/oidcprovider"
)

type oidcClientJSON struct {
	ClientID     string   `json:"client_id"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris"`
	Type         string   `json:"type"`
	// AccountID is a service client's one account.
	AccountID string `json:"account_id,omitempty"`
	// OwnerAccountID is the integrator whose administrators registered it.
	OwnerAccountID         string    `json:"owner_account_id,omitempty"`
	SigningAlgorithm       string    `json:"id_token_signed_response_alg"`
	BackchannelLogoutURI   string    `json:"backchannel_logout_uri,omitempty"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	Issuer                 string    `json:"issuer"`
	CreatedAt              time.Time `json:"created_at"`
	// ClientSecret is shown once, when a confidential client is made.
	ClientSecret string `json:"client_secret,omitempty"`
}

func (s *Server) toOIDCClientJSON(c gatehouse.OIDCClient) oidcClientJSON {
	kind := "public"
	if c.Service {
		kind = "service"
	} else if c.Device {
		kind = "device"
	} else if c.Confidential {
		kind = "confidential"
	}
	uris, postLogout := c.RedirectURIs, c.PostLogoutRedirectURIs
	if uris == nil {
		uris = []string{}
	}
	if postLogout == nil {
		postLogout = []string{}
	}
	return oidcClientJSON{ClientID: c.ID, Name: c.Name, RedirectURIs: uris, Type: kind, AccountID: c.AccountID,
		OwnerAccountID: c.OwnerAccountID, SigningAlgorithm: c.SigningAlgorithm, BackchannelLogoutURI: c.BackchannelLogoutURI,
		PostLogoutRedirectURIs: postLogout, Issuer: s.svc.PublicURL(), CreatedAt: c.CreatedAt}
}

func (s *Server) createOIDCClient(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name                   string   `json:"name"`
		RedirectURIs           []string `json:"redirect_uris"`
		Type                   string   `json:"type"`
		AccountID              string   `json:"account_id"`
		BackchannelLogoutURI   string   `json:"backchannel_logout_uri"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
		// OwnerAccountID registers an integrator's own application.
		OwnerAccountID   string `json:"owner_account_id"`
		SigningAlgorithm string `json:"id_token_signed_response_alg"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Type != "public" && in.Type != "confidential" && in.Type != "service" && in.Type != "device" {
		s.writeError(w, r, gatehouse.Invalid("type", "type is public, confidential, service or device"))
		return
	}
	if in.Type != "service" && in.AccountID != "" {
		s.writeError(w, r, gatehouse.Invalid("account_id", "only a service client is scoped to an account"))
		return
	}
	c, secret, err := s.svc.OIDC.CreateClient(r.Context(), caller(r), oidcprovider.NewClient{Name: in.Name,
		RedirectURIs: in.RedirectURIs, Confidential: in.Type == "confidential", Service: in.Type == "service", Device: in.Type == "device", AccountID: in.AccountID,
		OwnerAccountID: in.OwnerAccountID, SigningAlgorithm: in.SigningAlgorithm,
		BackchannelLogoutURI: in.BackchannelLogoutURI, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := s.toOIDCClientJSON(c)
	out.ClientSecret = secret
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listOIDCClients(w http.ResponseWriter, r *http.Request) {
	clients, err := s.svc.OIDC.Clients(r.Context(), caller(r), r.URL.Query().Get("account_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]oidcClientJSON, len(clients))
	for i, c := range clients {
		items[i] = s.toOIDCClientJSON(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nil})
}

func (s *Server) deleteOIDCClient(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.OIDC.DeleteClient(r.Context(), caller(r), r.PathValue("client_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
