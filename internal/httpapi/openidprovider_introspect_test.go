package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Introspection authenticates the asking client before it says anything of
// a token, whatever the token: a live confidential client, by HTTP basic or
// by client_id and client_secret in the form, is answered; a wrong secret, a
// public client, a deleted client or no client at all is answered 401
// invalid_client, for a live token as for garbage, so the endpoint tells
// nobody else whether a token is live. An integrator's own application is
// told of tokens for its integrator's accounts alone: another integrator's
// learns that a live token of Acme's client is inactive. A missing token
// is a 400. A
// service's token stops being active when its client is deleted, and a
// person's when they are removed from the account.
func TestOpenIDProviderIntrospectionAuthenticatesTheClient(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			register := func(body map[string]any) (string, string) {
				created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", apitest.OperatorToken, body)
				return created.String("client_id"), created.String("client_secret")
			}
			serviceID, serviceSecret := register(map[string]any{"name": "Stock sync", "type": "service", "account_id": lyon})
			appID, appSecret := register(map[string]any{"name": "Back office", "type": "confidential",
				"redirect_uris": []string{"https://office.example.com/callback"}})
			publicID, _ := register(map[string]any{"name": "Phone app", "type": "public",
				"redirect_uris": []string{"https://phone.example.com/callback"}})
			goneID, goneSecret := register(map[string]any{"name": "Old office", "type": "confidential",
				"redirect_uris": []string{"https://old.example.com/callback"}})
			// Two integrators' own confidential applications: Acme's, whose
			// client the token is for, and Beta's, which must learn nothing of it.
			acmeAppID, acmeAppSecret := register(map[string]any{"name": "Acme Guard", "type": "confidential",
				"redirect_uris": []string{"https://guard.acme.example/callback"}, "owner_account_id": in})
			beta := e.CreateAccount(t, "integrator", "Beta", "")
			betaAppID, betaAppSecret := register(map[string]any{"name": "Beta Guard", "type": "confidential",
				"redirect_uris": []string{"https://guard.beta.example/callback"}, "owner_account_id": beta})
			e.Must(t, 204, "DELETE", "/api/v1/oidc-clients/"+goneID, apitest.OperatorToken, nil)

			ctx := relyingParty(t, e)
			token, err := (&clientcredentials.Config{ClientID: serviceID, ClientSecret: serviceSecret,
				TokenURL: issuer + "/oauth2/token"}).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}

			// post sends form to /oauth2/introspect, with basic credentials
			// when basic is set.
			post := func(form url.Values, basicID, basicSecret string) (int, string, http.Header) {
				t.Helper()
				req, _ := http.NewRequest("POST", e.URL+"/oauth2/introspect", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if basicID != "" {
					req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, strings.TrimSpace(string(raw)), resp.Header
			}
			live := url.Values{"token": {token.AccessToken}}
			for _, tc := range []struct {
				name          string
				form          url.Values
				id, secret    string
				status        int
				bodyHas       string
				authenticated bool
			}{
				{"basic", live, appID, appSecret, 200, `"active":true`, true},
				{"secret in the form", url.Values{"token": {token.AccessToken}, "client_id": {appID}, "client_secret": {appSecret}},
					"", "", 200, `"active":true`, true},
				{"garbage, authenticated", url.Values{"token": {"not-a-token"}}, appID, appSecret, 200, `{"active":false}`, true},
				{"the token's integrator's own application", live, acmeAppID, acmeAppSecret, 200, `"active":true`, true},
				{"another integrator's own application", live, betaAppID, betaAppSecret, 200, `{"active":false}`, true},
				{"wrong secret", live, appID, "gh_wrong", 401, `"invalid_client"`, false},
				{"wrong secret, garbage token", url.Values{"token": {"not-a-token"}}, appID, "gh_wrong", 401, `"invalid_client"`, false},
				{"public client", live, publicID, "anything", 401, `"invalid_client"`, false},
				{"deleted client", live, goneID, goneSecret, 401, `"invalid_client"`, false},
				{"no client", live, "", "", 401, `"invalid_client"`, false},
				{"no token", url.Values{}, appID, appSecret, 400, `"invalid_request"`, true},
				{"no token, no client", url.Values{}, "", "", 401, `"invalid_client"`, false},
			} {
				status, body, header := post(tc.form, tc.id, tc.secret)
				if status != tc.status || !strings.Contains(body, tc.bodyHas) {
					t.Errorf("%s: %d %s, want %d with %s", tc.name, status, body, tc.status, tc.bodyHas)
				}
				if header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
					t.Errorf("%s: headers %v", tc.name, header)
				}
				if !tc.authenticated && header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: a 401 without WWW-Authenticate", tc.name)
				}
			}

			// Deleting the service client ends its tokens at once.
			e.Must(t, 204, "DELETE", "/api/v1/oidc-clients/"+serviceID, apitest.OperatorToken, nil)
			if status, body, _ := post(live, appID, appSecret); status != 200 || body != `{"active":false}` {
				t.Errorf("the token of a deleted service client: %d %s", status, body)
			}
		})
	}
}
