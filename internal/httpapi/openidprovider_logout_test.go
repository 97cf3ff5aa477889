package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// logoutReceiver is an application's back-channel logout URI: it keeps
// the logout tokens POSTed to it.
type logoutReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
}

func newLogoutReceiver(t *testing.T) *logoutReceiver {
	rec := &logoutReceiver{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.PostFormValue("logout_token") == "" {
			http.Error(w, "a form POST with a logout_token, please", http.StatusBadRequest)
			return
		}
		rec.mu.Lock()
		rec.tokens = append(rec.tokens, r.PostFormValue("logout_token"))
		rec.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// deliver runs the outbox worker as a node would, back-channel logouts
// included (mail goes nowhere), until the queue is empty, and returns the
// logout tokens the receiver got meanwhile.
func (rec *logoutReceiver) deliver(t *testing.T, e *apitest.Env) []string {
	t.Helper()
	w := outbox.NewWorker(e.Store, outbox.Channels{Email: discard{}, SMS: discard{},
		BackchannelLogout: outbox.NewBackchannelLogoutSender(e.Services.OIDC)}, "test-node", quietLog)
	w.Clock = e.Clock
	for {
		n, err := w.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := rec.tokens
	rec.tokens = nil
	return got
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

type discard struct{}

func (discard) Send(context.Context, gatehouse.Message) error { return nil }

// checkLogoutToken verifies a logout token as an application would, with
// go-oidc against the provider's JWKS, and checks what the back-channel
// logout specification asks of it: typ logout+jwt, the application as
// aud, the person as sub, a jti, the back-channel logout event, no nonce,
// and a short life.
func checkLogoutToken(t *testing.T, ctx context.Context, provider *oidc.Provider, raw, clientID, subject string) {
	t.Helper()
	token, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("the logout token does not verify against the JWKS: %v", err)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h struct{ Typ, Alg, Kid string }
	if err := json.Unmarshal(header, &h); err != nil || h.Typ != "logout+jwt" || h.Alg != "ES256" || h.Kid == "" {
		t.Errorf("the logout token's header: %s", header)
	}
	var claims map[string]any
	_ = token.Claims(&claims)
	events, _ := claims["events"].(map[string]any)
	event, isObject := events["http://schemas.openid.net/event/backchannel-logout"].(map[string]any)
	if token.Subject != subject || len(token.Audience) != 1 || token.Audience[0] != clientID || claims["jti"] == "" || claims["jti"] == nil ||
		!isObject || len(event) != 0 || token.Issuer != issuer {
		t.Errorf("the logout token's claims: %v", claims)
	}
	if _, ok := claims["nonce"]; ok {
		t.Errorf("a logout token carries a nonce: %v", claims)
	}
	if life := token.Expiry.Sub(token.IssuedAt); life <= 0 || life > 2*time.Minute {
		t.Errorf("the logout token lives %s", life)
	}
}

// An application that registered a back-channel logout URI hears, signed
// by Gatehouse, when a person's sign-in to it ends: when an administrator
// ends the person's sessions, and when the person leaves the account the
// tokens carry. Ending what is ended already tells it nothing more; an
// application without such a URI hears nothing. The URI is https, or http
// on this machine, and is listed with the client.
func TestOpenIDProviderBackchannelLogout(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			member := addActive(t, e, lyon, "ann@example.com", "client_user", nil)
			ann := member.String("user_id")

			for _, bad := range []map[string]any{
				{"name": "Wall", "type": "public", "redirect_uris": []string{"https://app.example.com/callback"}, "backchannel_logout_uri": "http://app.example.com/logout"},
				{"name": "Wall", "type": "public", "redirect_uris": []string{"https://app.example.com/callback"}, "backchannel_logout_uri": "https://app.example.com/logout#here"},
				{"name": "Wall", "type": "public", "redirect_uris": []string{"https://app.example.com/callback"}, "backchannel_logout_uri": "/logout"},
				{"name": "Wall", "type": "public", "redirect_uris": []string{"https://app.example.com/callback"}, "backchannel_logout_uri": "com.example.app:/logout"},
				{"name": "Feed", "type": "service", "account_id": lyon, "backchannel_logout_uri": "https://feed.example.com/logout"},
			} {
				if r := e.Do(t, "POST", "/api/v1/oidc-clients", op, bad); r.Status != 400 || r.Field() != "backchannel_logout_uri" {
					t.Errorf("%v: %d %s", bad, r.Status, r.Raw)
				}
			}
			rec := newLogoutReceiver(t)
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Video wall", "type": "confidential",
				"redirect_uris": []string{"https://app.example.com/callback"}, "backchannel_logout_uri": rec.URL + "/backchannel"})
			clientID, secret := created.String("client_id"), created.String("client_secret")
			if created.String("backchannel_logout_uri") != rec.URL+"/backchannel" {
				t.Errorf("the client made: %s", created.Raw)
			}
			silent := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Reports", "type": "public",
				"redirect_uris": []string{"https://reports.example.com/callback"}})
			for _, c := range e.Must(t, 200, "GET", "/api/v1/oidc-clients", op, nil).Items() {
				if c["client_id"] == clientID && c["backchannel_logout_uri"] != rec.URL+"/backchannel" {
					t.Errorf("listed: %v", c)
				}
			}

			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			var discovery struct {
				BackchannelLogout bool   `json:"backchannel_logout_supported"`
				EndSession        string `json:"end_session_endpoint"`
			}
			if err := provider.Claims(&discovery); err != nil || !discovery.BackchannelLogout || discovery.EndSession != issuer+"/oauth2/end_session" {
				t.Errorf("discovery: %+v %v", discovery, err)
			}
			signIn := func(config oauth2.Config) *oauth2.Token {
				t.Helper()
				pkce := oauth2.GenerateVerifier()
				back := signInThroughGatehouse(t, &browser{e: e}, config.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), "ann@example.com")
				token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
				if err != nil {
					t.Fatalf("exchange: %v (%s)", err, back)
				}
				return token
			}
			wall := oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: "https://app.example.com/callback",
				Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, "account:" + lyon}}
			reports := oauth2.Config{ClientID: silent.String("client_id"), Endpoint: provider.Endpoint(), RedirectURL: "https://reports.example.com/callback",
				Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}}

			// (a) An administrator ends Ann's sessions: two sign-ins to the
			// wall, one logout token; the reports application hears nothing.
			signIn(wall)
			signIn(wall)
			signIn(reports)
			if got := rec.deliver(t, e); len(got) != 0 {
				t.Fatalf("logout tokens before anything ended: %q", got)
			}
			e.Must(t, 204, "DELETE", "/api/v1/users/"+ann+"/sessions", op, nil)
			got := rec.deliver(t, e)
			if len(got) != 1 {
				t.Fatalf("after the sessions ended, the wall got %d logout tokens, want 1", len(got))
			}
			checkLogoutToken(t, ctx, provider, got[0], clientID, ann)
			firstLogout := got[0]
			e.Must(t, 204, "DELETE", "/api/v1/users/"+ann+"/sessions", op, nil)
			if got := rec.deliver(t, e); len(got) != 0 {
				t.Errorf("ending the ended sessions again told the wall again: %d tokens", len(got))
			}

			// (b) Ann leaves the account her sign-in to the wall carries.
			signIn(wall)
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+lyon+"/users/"+member.String("id"), op, nil)
			got = rec.deliver(t, e)
			if len(got) != 1 {
				t.Fatalf("after the removal, the wall got %d logout tokens, want 1", len(got))
			}
			checkLogoutToken(t, ctx, provider, got[0], clientID, ann)
			var first, second map[string]any
			_ = json.Unmarshal(payload(t, firstLogout), &first)
			_ = json.Unmarshal(payload(t, got[0]), &second)
			if first["jti"] == second["jti"] {
				t.Errorf("two logouts carry one jti: %v", first["jti"])
			}
		})
	}
}

// payload is a JWT's claims, undecoded.
func payload(t *testing.T, raw string) []byte {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An application signs a person out at /oauth2/end_session with the ID
// token it holds: the browser goes back to the post-logout redirect URI it
// registered, with its state; the portal session in that browser is over;
// the application's refresh token fails and it hears of it by back
// channel, while another application the person signed in to keeps its
// tokens. The post-logout redirect URI is matched exactly; without one the
// browser lands on the sign-in page; without an ID token nothing ends.
// The audit log of the account records the sign-ins and the sign-out.
func TestOpenIDProviderSignOut(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			ann := addActive(t, e, lyon, "ann@example.com", "client_user", nil).String("user_id")

			for _, bad := range []map[string]any{
				{"name": "Wall", "type": "public", "redirect_uris": []string{"https://app.example.com/callback"}, "post_logout_redirect_uris": []string{"http://app.example.com/bye"}},
				{"name": "Wall", "type": "public", "redirect_uris": []string{"https://app.example.com/callback"}, "post_logout_redirect_uris": []string{"https://app.example.com/bye#now"}},
				{"name": "Player", "type": "device", "post_logout_redirect_uris": []string{"https://app.example.com/bye"}},
			} {
				if r := e.Do(t, "POST", "/api/v1/oidc-clients", op, bad); r.Status != 400 || r.Field() != "post_logout_redirect_uris" {
					t.Errorf("%v: %d %s", bad, r.Status, r.Raw)
				}
			}
			rec := newLogoutReceiver(t)
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Video wall", "type": "public",
				"redirect_uris": []string{"https://app.example.com/callback"}, "post_logout_redirect_uris": []string{"https://app.example.com/signed-out"},
				"backchannel_logout_uri": rec.URL + "/backchannel"})
			clientID := created.String("client_id")
			if got, _ := created.Body["post_logout_redirect_uris"].([]any); len(got) != 1 || got[0] != "https://app.example.com/signed-out" {
				t.Errorf("the client made: %s", created.Raw)
			}
			other := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Reports", "type": "public",
				"redirect_uris": []string{"https://reports.example.com/callback"}})
			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			wall := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: "https://app.example.com/callback",
				Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, "account:" + lyon}}
			reports := oauth2.Config{ClientID: other.String("client_id"), Endpoint: provider.Endpoint(), RedirectURL: "https://reports.example.com/callback",
				Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}}
			signIn := func(person *browser, config oauth2.Config) *oauth2.Token {
				t.Helper()
				pkce := oauth2.GenerateVerifier()
				back := signInThroughGatehouse(t, person, config.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), "ann@example.com")
				token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
				if err != nil {
					t.Fatalf("exchange: %v (%s)", err, back)
				}
				if _, err := provider.Verifier(&oidc.Config{ClientID: config.ClientID}).Verify(ctx, token.Extra("id_token").(string)); err != nil {
					t.Fatal(err)
				}
				return token
			}
			refreshes := func(config oauth2.Config, token *oauth2.Token) bool {
				t.Helper()
				_, err := config.TokenSource(ctx, &oauth2.Token{RefreshToken: token.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
				return err == nil
			}
			signedIn := func(person *browser) bool {
				t.Helper()
				// One account: /accounts leads to it; signed out, to /login.
				resp, _ := person.do(t, "GET", "/accounts", nil)
				loc := resp.Header.Get("Location")
				if resp.StatusCode != 303 || !strings.HasPrefix(loc, "/accounts/") && !strings.HasPrefix(loc, "/login") {
					t.Fatalf("/accounts answered %d %q", resp.StatusCode, loc)
				}
				return strings.HasPrefix(loc, "/accounts/")
			}
			endSession := func(person *browser, query url.Values) *http.Response {
				t.Helper()
				resp, _ := person.do(t, "GET", "/oauth2/end_session?"+query.Encode(), nil)
				return resp
			}

			person := &browser{e: e}
			token := signIn(person, wall)
			kept := signIn(person, reports)
			idToken := token.Extra("id_token").(string)
			rec.deliver(t, e)

			// A post-logout redirect URI not registered exactly: nothing ends.
			resp := endSession(person, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://app.example.com/signed-out/"}, "state": {"x"}})
			if resp.StatusCode != 400 || !signedIn(person) || !refreshes(wall, token) {
				t.Fatalf("an unregistered post-logout redirect URI: %d %q, and something ended", resp.StatusCode, resp.Header.Get("Location"))
			}
			token = signIn(person, wall) // the refresh above rotated it
			idToken = token.Extra("id_token").(string)

			// A native application on this machine: its post-logout redirect
			// URI is matched exactly, port included.
			desk := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Desk", "type": "public",
				"redirect_uris": []string{"http://127.0.0.1:4000/callback"}, "post_logout_redirect_uris": []string{"http://127.0.0.1:4000/signed-out"}})
			deskConfig := oauth2.Config{ClientID: desk.String("client_id"), Endpoint: provider.Endpoint(), RedirectURL: "http://127.0.0.1:4000/callback",
				Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}}
			deskToken := signIn(person, deskConfig)
			resp = endSession(person, url.Values{"id_token_hint": {deskToken.Extra("id_token").(string)},
				"post_logout_redirect_uri": {"http://127.0.0.1:5000/signed-out"}})
			if resp.StatusCode != 400 || !signedIn(person) || !refreshes(deskConfig, deskToken) {
				t.Fatalf("another port on this machine: %d %q, and something ended", resp.StatusCode, resp.Header.Get("Location"))
			}

			// Without an ID token, nothing ends: the browser goes to the sign-in page.
			resp = endSession(person, url.Values{"state": {"x"}})
			if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc.Path != "/login" || !signedIn(person) || !refreshes(wall, token) {
				t.Fatalf("end_session without an ID token: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			token = signIn(person, wall)
			idToken = token.Extra("id_token").(string)
			rec.deliver(t, e)

			resp = endSession(person, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://app.example.com/signed-out"}, "state": {"state-9"}})
			back, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != 302 || back.Host != "app.example.com" || back.Path != "/signed-out" || back.Query().Get("state") != "state-9" {
				t.Fatalf("end_session sent the browser to %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if signedIn(person) {
				t.Errorf("the portal session still signs in after end_session")
			}
			if refreshes(wall, token) {
				t.Errorf("the application's refresh token still works after end_session")
			}
			if !refreshes(reports, kept) {
				t.Errorf("another application's refresh token ended with the sign-out")
			}
			if got := rec.deliver(t, e); len(got) != 1 {
				t.Errorf("the application signing out got %d logout tokens by back channel, want 1", len(got))
			} else {
				checkLogoutToken(t, ctx, provider, got[0], clientID, ann)
			}

			// Signed in again in another browser; the application signs her
			// out without a post-logout redirect URI: the sign-in page.
			again := &browser{e: e}
			token = signIn(again, wall)
			resp = endSession(again, url.Values{"id_token_hint": {token.Extra("id_token").(string)}})
			if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc.Host != "" || loc.Path != "/login" {
				t.Errorf("end_session without a post-logout redirect URI: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if signedIn(again) || refreshes(wall, token) {
				t.Errorf("the second sign-out ended nothing")
			}

			// The account's audit log: each sign-in to the wall, and each
			// sign-out of it, by Ann, naming the application.
			counts := map[string]int{}
			for _, ev := range e.Must(t, 200, "GET", "/api/v1/accounts/"+lyon+"/audit-events?limit=500", op, nil).Items() {
				if ev["target_id"] == clientID && ev["actor_id"] == ann && ev["target_type"] == "oidc_client" {
					counts[ev["action"].(string)]++
				}
			}
			if counts["oidc.signed_in"] != 4 || counts["oidc.signed_out"] != 2 {
				t.Errorf("the account's audit log of the wall: %v, want 4 sign-ins and 2 sign-outs", counts)
			}
		})
	}
}
