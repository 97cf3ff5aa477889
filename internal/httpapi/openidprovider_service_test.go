package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A service client, registered by an operator for one account, gets access
// tokens for that account alone with client credentials (sub is its
// client_id, no person); introspection reports them; it cannot use the code
// flow, nor can a code-flow client use client credentials; removing it
// revokes its tokens.
func TestOpenIDProviderClientCredentials(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			paris := e.CreateAccount(t, "client", "Paris Store", in)
			memberToken, _ := e.Member(t, lyon, "client_admin")

			svc := map[string]any{"name": "Stock sync", "type": "service", "account_id": lyon}
			if r := e.Do(t, "POST", "/api/v1/oidc-clients", memberToken, svc); r.Status != 403 && r.Status != 404 {
				t.Errorf("a client administrator registering a service client: %d", r.Status)
			}
			for _, bad := range []map[string]any{
				{"name": "x", "type": "service"},
				{"name": "x", "type": "service", "account_id": "nope"},
				{"name": "x", "type": "service", "account_id": lyon, "redirect_uris": []string{"https://x.example.com/cb"}},
				{"name": "x", "type": "confidential", "account_id": lyon, "redirect_uris": []string{"https://x.example.com/cb"}},
			} {
				if r := e.Do(t, "POST", "/api/v1/oidc-clients", apitest.OperatorToken, bad); r.Status != 400 {
					t.Errorf("registering %v: %d %s", bad, r.Status, r.Raw)
				}
			}
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", apitest.OperatorToken, svc)
			clientID, secret := created.String("client_id"), created.String("client_secret")
			if created.String("type") != "service" || created.String("account_id") != lyon || secret == "" {
				t.Fatalf("a service client: %s", created.Raw)
			}
			if got := e.Must(t, 200, "GET", "/api/v1/oidc-clients", apitest.OperatorToken, nil).Items(); len(got) != 1 ||
				got[0]["type"] != "service" || got[0]["account_id"] != lyon {
				t.Errorf("listed: %v", got)
			}
			app := e.Must(t, 201, "POST", "/api/v1/oidc-clients", apitest.OperatorToken,
				map[string]any{"name": "Back office", "redirect_uris": []string{"https://office.example.com/callback"}, "type": "confidential"})

			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			var discovery struct {
				GrantTypes []string `json:"grant_types_supported"`
			}
			_ = provider.Claims(&discovery)
			if !strings.Contains(strings.Join(discovery.GrantTypes, " "), "client_credentials") {
				t.Errorf("discovery's grant types: %v", discovery.GrantTypes)
			}
			config := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: provider.Endpoint().TokenURL}
			token, err := config.Token(ctx)
			if err != nil {
				t.Fatalf("client credentials: %v", err)
			}
			if token.AccessToken == "" || token.RefreshToken != "" {
				t.Errorf("the token: %+v", token)
			}
			// The access token itself (a JWT) names the client and the account.
			var jwt struct {
				Subject   string `json:"sub"`
				AccountID string `json:"account_id"`
				Level     string `json:"level"`
			}
			if parts := strings.Split(token.AccessToken, "."); len(parts) != 3 {
				t.Errorf("not a JWT: %q", token.AccessToken)
			} else if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil || json.Unmarshal(raw, &jwt) != nil ||
				jwt.Subject != clientID || jwt.AccountID != lyon || jwt.Level != "" {
				t.Errorf("the access token's claims: %s (%v)", raw, err)
			}
			got := introspect(t, e, clientID, secret, token.AccessToken)
			if got["active"] != true || got["sub"] != clientID || got["client_id"] != clientID || got["account_id"] != lyon ||
				got["account_name"] != "Lyon Store" || got["account_kind"] != "client" || got["integrator_id"] != in || got["email"] != nil {
				t.Errorf("introspected: %v", got)
			}
			// Another confidential client of the platform introspects it too.
			if got := introspect(t, e, app.String("client_id"), app.String("client_secret"), token.AccessToken); got["active"] != true {
				t.Errorf("introspected by another client: %v", got)
			}
			// Its own account as scope is fine; another account is not.
			own := config
			own.Scopes = []string{"account:" + lyon}
			if _, err := own.Token(ctx); err != nil {
				t.Errorf("asking for its own account: %v", err)
			}
			other := config
			other.Scopes = []string{"account:" + paris}
			if _, err := other.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
				t.Errorf("asking for another account: %v", err)
			}
			wrong := config
			wrong.ClientSecret = "gh_wrong"
			if _, err := wrong.Token(ctx); err == nil {
				t.Errorf("a wrong secret got a token")
			}
			// No userinfo: there is no person.
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token)); err == nil {
				t.Errorf("userinfo answered for a service token")
			}

			// A code-flow client cannot use client credentials.
			codeFlow := clientcredentials.Config{ClientID: app.String("client_id"), ClientSecret: app.String("client_secret"),
				TokenURL: provider.Endpoint().TokenURL}
			if _, err := codeFlow.Token(ctx); err == nil || !strings.Contains(err.Error(), "unauthorized_client") {
				t.Errorf("a code-flow client with client credentials: %v", err)
			}
			// A service client cannot use the code flow.
			authorize := oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
				RedirectURL: "https://office.example.com/callback", Scopes: []string{oidc.ScopeOpenID}}
			resp := get(t, ctx, authorize.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if loc := resp.Header.Get("Location"); strings.Contains(loc, "/login") || strings.Contains(loc, "code=") {
				t.Errorf("a service client's authorization led to %d %q", resp.StatusCode, loc)
			}
			if _, err := (&oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
				RedirectURL: "https://office.example.com/callback"}).Exchange(ctx, "whatever"); err == nil {
				t.Errorf("a service client exchanged a code")
			}

			// Removing the client revokes its tokens.
			e.Must(t, 204, "DELETE", "/api/v1/oidc-clients/"+clientID, apitest.OperatorToken, nil)
			if got := introspect(t, e, app.String("client_id"), app.String("client_secret"), token.AccessToken); got["active"] != false {
				t.Errorf("a removed client's token: %v", got)
			}
			if _, err := config.Token(ctx); err == nil {
				t.Errorf("a removed client got a token")
			}
		})
	}
}

// get fetches url with the relying party's HTTP client (no redirects).
func get(t *testing.T, ctx context.Context, url string) *http.Response {
	t.Helper()
	client := ctx.Value(oauth2.HTTPClient).(*http.Client)
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
