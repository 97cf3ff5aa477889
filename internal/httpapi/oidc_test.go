package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// startProvider runs a real OpenID provider (zitadel/oidc's op package, with
// its example storage and login form) on a local port, with the given
// people (id → username) who all have the password "provider password",
// and one confidential client for Gatehouse.
func startProvider(t *testing.T, people map[string]string) string {
	t.Helper()
	users := map[string]*storage.User{}
	for id, username := range people {
		users[id] = &storage.User{ID: id, Username: username, Password: "provider password", FirstName: "Person",
			LastName: id, Email: username, EmailVerified: true}
	}
	data, err := json.Marshal(users)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	userStore, err := storage.StoreFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*storage.Client{
		"gatehouse": storage.WebClient("gatehouse", "provider client secret", "https://gatehouse.example.com/oidc/callback"),
	}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	handler = exampleop.SetupServer(srv.URL, storage.NewStorageWithClients(userStore, clients), quiet, false)
	return srv.URL
}

// browser is a person's web browser: it keeps cookies and follows redirects;
// the test server's public address (gatehouse.example.com) leads to it.
func newBrowser(t *testing.T, e *apitest.Env) *http.Client {
	jar, _ := cookiejar.New(nil)
	target, _ := url.Parse(e.URL)
	return &http.Client{Jar: jar, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "gatehouse.example.com" {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

var loginRequestID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// atProvider follows a link to the provider's login form, signs in there as
// username, and returns the page the browser lands on at the end.
func atProvider(t *testing.T, browser *http.Client, link, username string) (*http.Response, string) {
	t.Helper()
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	match := loginRequestID.FindStringSubmatch(page)
	if match == nil {
		t.Fatalf("%s did not lead to the provider's login form: %d %.300s", link, resp.StatusCode, page)
	}
	form := url.Values{"id": {match[1]}, "username": {username}, "password": {"provider password"}}
	resp, err = browser.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login/username", form)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// R-U5, R-M3: a person added with an identity provider activates
// by following the invitation link, which leads to the provider; the
// callback binds the provider's subject to the invited identity and signs
// them in. Later they sign in through the provider, never with a password;
// an account at the provider that no invitation bound gets nothing; a state
// works once. Providers are made by operators (platform-wide) and by an
// integrator's administrators (for its accounts).
func TestOpenIDConnectSignIn(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			issuer := startProvider(t, map[string]string{"sub-ann": "ann@idp.example", "sub-mallory": "mallory@idp.example",
				"sub-ivy": "ivy@idp.example"})
			provider := map[string]any{"name": "Acme SSO", "issuer": issuer, "client_id": "gatehouse", "client_secret": "provider client secret"}

			if r := e.Do(t, "POST", "/api/v1/identity-providers", op, map[string]any{"name": "Nowhere", "issuer": issuer + "/nothing-here",
				"client_id": "x", "client_secret": "y"}); r.Status != 400 || r.Field() != "issuer" {
				t.Errorf("an issuer without discovery: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/identity-providers", ts.tokens["i1-admin"], provider); r.Status != 403 {
				t.Errorf("an integrator admin making a platform-wide provider: %d", r.Status)
			}
			platform := e.Must(t, 201, "POST", "/api/v1/identity-providers", op, provider)
			if strings.Contains(string(platform.Raw), "provider client secret") {
				t.Errorf("the client secret is shown back: %s", platform.Raw)
			}
			own := map[string]any{"account_id": ts.i1, "name": "Integrator One SSO", "issuer": issuer, "client_id": "gatehouse",
				"client_secret": "provider client secret"}
			for p, want := range map[string]int{"i1-user": 403, "c1-admin": 404, "i2-admin": 404} {
				if r := e.Do(t, "POST", "/api/v1/identity-providers", ts.tokens[p], own); r.Status != want {
					t.Errorf("%s making I1's provider: %d, want %d", p, r.Status, want)
				}
			}
			integrators := e.Must(t, 201, "POST", "/api/v1/identity-providers", ts.tokens["i1-admin"], own)
			listed := names(e.Must(t, 200, "GET", "/api/v1/identity-providers", ts.tokens["c1-admin"], nil).Items(), "name")
			if strings.Join(listed, ",") != "Acme SSO,Integrator One SSO" {
				t.Errorf("providers a client admin of I1's client sees: %v", listed)
			}
			if got := names(e.Must(t, 200, "GET", "/api/v1/identity-providers", ts.tokens["i2-admin"], nil).Items(), "name"); strings.Join(got, ",") != "Acme SSO" {
				t.Errorf("providers I2 sees: %v", got)
			}
			c2Add := newUser("x@example.com", "client_user")
			c2Add["identity_provider"] = integrators.String("id")
			if r := e.Do(t, "POST", "/api/v1/accounts/"+ts.c2+"/users", op, c2Add); r.Status != 400 || r.Field() != "identity_provider" {
				t.Errorf("I1's provider for a user of I2's client: %d %s", r.Status, r.Raw)
			}

			// Activation through the provider.
			add := newUser("ann@example.com", "client_user")
			add["identity_provider"] = platform.String("id")
			member := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, add)
			tokens := e.ActivationTokens(t, "ann@example.com")
			if len(tokens) != 1 {
				t.Fatalf("%d activation links", len(tokens))
			}
			if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[0], "password": goodPassword}); r.Status != 400 || r.Field() != "password" {
				t.Errorf("a password for a provider's user: %d %s", r.Status, r.Raw)
			}
			browser := newBrowser(t, e)
			resp, page := atProvider(t, browser, "https://gatehouse.example.com/activate?token="+tokens[0], "ann@idp.example")
			if resp.StatusCode != 200 || resp.Request.URL.Path != "/accounts/"+ts.c1 || !strings.Contains(page, "Client One A") {
				t.Fatalf("after activating through the provider: %d at %s\n%.500s", resp.StatusCode, resp.Request.URL, page)
			}
			got := e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1+"/users/"+member.String("id"), op, nil)
			if got.String("status") != "active" {
				t.Errorf("membership after activation: %s", got.Raw)
			}
			if r := signIn(e, t, "ann@example.com", goodPassword); r.Status != 401 {
				t.Errorf("a password sign-in of a provider's user: %d", r.Status)
			}
			// The link is used.
			resp, _ = atProviderOrPage(t, newBrowser(t, e), "https://gatehouse.example.com/activate?token="+tokens[0])
			if resp.StatusCode != 410 {
				t.Errorf("the activation link again: %d", resp.StatusCode)
			}

			// Signing in again through the provider, offered on the sign-in
			// page for platform-wide providers.
			signInLink := platform.String("sign_in_url")
			_, login := atProviderOrPage(t, newBrowser(t, e), "https://gatehouse.example.com/login")
			if !strings.Contains(login, `href="/oidc/`+platform.String("id")+`/sign-in">Acme SSO`) || strings.Contains(login, "Integrator One SSO") {
				t.Errorf("the sign-in page does not offer exactly the platform's provider:\n%s", login)
			}
			resp, page = atProvider(t, newBrowser(t, e), signInLink, "ann@idp.example")
			if resp.Request.URL.Path != "/accounts/"+ts.c1 || !strings.Contains(page, "ann@example.com") {
				t.Errorf("sign-in through the provider ended at %s: %.300s", resp.Request.URL, page)
			}
			// Someone the provider knows but no invitation bound.
			resp, page = atProvider(t, newBrowser(t, e), signInLink, "mallory@idp.example")
			if resp.StatusCode != 401 || resp.Request.URL.Path != "/oidc/callback" || !strings.Contains(page, "no Gatehouse user is linked") {
				t.Errorf("an unbound provider account: %d at %s %.300s", resp.StatusCode, resp.Request.URL, page)
			}
			// The same state twice: the second is refused.
			stopAtCallback := newBrowser(t, e)
			stopAtCallback.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
				if r.URL.Path == "/oidc/callback" {
					return http.ErrUseLastResponse
				}
				return nil
			}
			resp, _ = atProvider(t, stopAtCallback, signInLink, "ann@idp.example")
			callback := resp.Header.Get("Location")
			if !strings.HasPrefix(callback, "https://gatehouse.example.com/oidc/callback?") {
				t.Fatalf("the provider sent the browser to %q", callback)
			}
			first, _ := atProviderOrPage(t, newBrowser(t, e), callback)
			second, _ := atProviderOrPage(t, newBrowser(t, e), callback)
			if first.Request.URL.Path != "/accounts/"+ts.c1 || second.StatusCode != 401 {
				t.Errorf("one callback twice: first at %s, second %d", first.Request.URL, second.StatusCode)
			}

			// An administrator signing in through a provider still enrolls a
			// second factor (R-P4).
			admin := newUser("ivy@example.com", "client_admin")
			admin["identity_provider"] = integrators.String("id")
			e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, admin)
			link := "https://gatehouse.example.com/activate?token=" + e.ActivationTokens(t, "ivy@example.com")[0]
			resp, page = atProvider(t, newBrowser(t, e), link, "ivy@idp.example")
			if resp.StatusCode != 200 || !strings.Contains(page, `id="totp-secret"`) {
				t.Errorf("an administrator after the provider: %d at %s %.300s", resp.StatusCode, resp.Request.URL, page)
			}

			if r := e.Do(t, "DELETE", "/api/v1/identity-providers/"+platform.String("id"), op, nil); r.Status != 409 || r.Code() != "identity_provider_in_use" {
				t.Errorf("deleting a provider in use: %d %s", r.Status, r.Raw)
			}
			unused := e.Must(t, 201, "POST", "/api/v1/identity-providers", op, map[string]any{"name": "Spare", "issuer": issuer,
				"client_id": "gatehouse", "client_secret": "provider client secret"})
			if r := e.Do(t, "DELETE", "/api/v1/identity-providers/"+unused.String("id"), ts.tokens["i1-admin"], nil); r.Status != 404 {
				t.Errorf("an integrator admin deleting a platform provider: %d", r.Status)
			}
			e.Must(t, 204, "DELETE", "/api/v1/identity-providers/"+unused.String("id"), op, nil)
			for _, action := range []string{"identity_provider.created", "session.provider_accepted", "user.activated"} {
				if auditCount(t, e, action) == 0 {
					t.Errorf("no %s audit event", action)
				}
			}
		})
	}
}

// atProviderOrPage opens a link and returns where the browser ends.
func atProviderOrPage(t *testing.T, browser *http.Client, link string) (*http.Response, string) {
	t.Helper()
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}
