package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The profile lists the applications a person is signed in to; one
// disconnected after its confirmation loses its tokens, the other keeps
// them. Operators see the registered applications.
func TestConnectedApplicationsPage(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			activeUser(t, e, lyon, "viewer@example.com", "client_user")
			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			person := &browser{e: e}
			signInTo := func(name string) (oauth2.Config, *oauth2.Token) {
				created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op,
					map[string]any{"name": name, "redirect_uris": []string{"https://app.example.com/callback"}, "type": "public"})
				config := oauth2.Config{ClientID: created.String("client_id"), Endpoint: provider.Endpoint(),
					RedirectURL: "https://app.example.com/callback", Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}}
				pkce := oauth2.GenerateVerifier()
				back := signInThroughGatehouse(t, person, config.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), "viewer@example.com")
				token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				return config, token
			}
			wallConfig, wall := signInTo("Video wall")
			doorConfig, door := signInTo("Door control")
			refreshes := func(config oauth2.Config, token *oauth2.Token) bool {
				_, err := config.TokenSource(ctx, &oauth2.Token{RefreshToken: token.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
				return err == nil
			}

			_, page := person.do(t, "GET", "/profile", nil)
			for _, want := range []string{"Connected applications", "Video wall", "Door control", "/profile/applications/" + wallConfig.ClientID + "/disconnect"} {
				if !strings.Contains(page, want) {
					t.Errorf("the profile lacks %q", want)
				}
			}
			path := "/profile/applications/" + wallConfig.ClientID + "/disconnect"
			if resp, page := person.do(t, "GET", path, nil); resp.StatusCode != 200 || !strings.Contains(page, "Disconnect this application: Video wall") {
				t.Errorf("the confirmation: %d", resp.StatusCode)
			}
			if resp, _ := person.do(t, "GET", "/profile/applications/nothing/disconnect", nil); resp.StatusCode != 404 {
				t.Errorf("an application the person is not connected to: %d", resp.StatusCode)
			}
			resp, _ := person.do(t, "POST", path, url.Values{})
			if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || !strings.Contains(loc, "disconnected_flash") {
				t.Fatalf("disconnecting: %d %s", resp.StatusCode, loc)
			}
			if refreshes(wallConfig, wall) {
				t.Errorf("the disconnected application still refreshes")
			}
			if !refreshes(doorConfig, door) {
				t.Errorf("the other application lost its tokens")
			}
			if _, page := person.do(t, "GET", "/profile", nil); strings.Contains(page, "Video wall") || !strings.Contains(page, "Door control") {
				t.Errorf("the profile after disconnecting still lists it, or lost the other")
			}

			// The operators' list.
			if resp, _ := person.do(t, "GET", "/platform/applications", nil); resp.StatusCode != 403 && resp.StatusCode != 404 {
				t.Errorf("a member on the operators' list: %d", resp.StatusCode)
			}
		})
	}
}

// An integrator's administrators register and remove their own applications
// on a tab of their integrator account: a confidential one's secret is shown
// on the answer once; a mistake comes back at its field, with nothing
// registered; removal asks first. Another integrator's administrators find
// no such page, and operators see every application on theirs.
func TestIntegratorApplicationsPage(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	acme := e.CreateAccount(t, "integrator", "Acme", "")
	beta := e.CreateAccount(t, "integrator", "Beta", "")
	activeUser(t, e, acme, "ia@acme.example", "integrator_admin")
	activeUser(t, e, beta, "ia@beta.example", "integrator_admin")
	admin := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "ia@acme.example")}}
	other := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "ia@beta.example")}}
	base := "/accounts/" + acme + "/applications"

	resp, page := admin.do(t, "GET", "/accounts/"+acme, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `href="`+base+`"`) {
		t.Fatalf("the integrator's tabs lack its applications: %d", resp.StatusCode)
	}
	resp, page = admin.do(t, "POST", base, url.Values{"name": {"Acme Guard"}, "type": {"confidential"},
		"redirect_uris": {"https://guard.acme.example/callback\nhttp://guard.acme.example/plain"}, "signing_algorithm": {"ES256"}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="redirect_uris-error"`) {
		t.Errorf("an http redirect URI off localhost: %d", resp.StatusCode)
	}
	if items := e.Must(t, 200, "GET", "/api/v1/oidc-clients", op, nil).Items(); len(items) != 0 {
		t.Fatalf("a refused form registered %v", items)
	}
	resp, page = admin.do(t, "POST", base, url.Values{"name": {"Acme Guard"}, "type": {"confidential"},
		"redirect_uris": {"https://guard.acme.example/callback\r\n"}, "signing_algorithm": {"RS256"}})
	if resp.StatusCode != 201 || !strings.Contains(page, `id="application-secret"`) || !strings.Contains(page, "gh_") {
		t.Fatalf("registering: %d %s", resp.StatusCode, page)
	}
	items := e.Must(t, 200, "GET", "/api/v1/oidc-clients", op, nil).Items()
	if len(items) != 1 || items[0]["owner_account_id"] != acme || items[0]["type"] != "confidential" || items[0]["id_token_signed_response_alg"] != "RS256" {
		t.Fatalf("registered: %v", items)
	}
	clientID := items[0]["client_id"].(string)
	if _, page = admin.do(t, "GET", base, nil); !strings.Contains(page, "Acme Guard") || strings.Contains(page, `id="application-secret"`) {
		t.Errorf("the list shows the secret again, or lacks the application")
	}
	for _, path := range []string{base, base + "/" + clientID + "/delete"} {
		if resp, _ := other.do(t, "GET", path, nil); resp.StatusCode != 404 {
			t.Errorf("another integrator's administrator on %s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := other.do(t, "GET", "/accounts/"+beta+"/applications/"+clientID+"/delete", nil); resp.StatusCode != 404 {
		t.Errorf("Acme's application through Beta's tab: %d", resp.StatusCode)
	}
	resp, page = admin.do(t, "GET", base+"/"+clientID+"/delete", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Remove this application: Acme Guard") {
		t.Errorf("the confirmation: %d", resp.StatusCode)
	}
	resp, _ = admin.do(t, "POST", base+"/"+clientID+"/delete", url.Values{})
	if resp.StatusCode != 303 || len(e.Must(t, 200, "GET", "/api/v1/oidc-clients", op, nil).Items()) != 0 {
		t.Errorf("removing: %d", resp.StatusCode)
	}
}
