package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
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
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const issuer = "https://gatehouse.example.com"

// relyingParty is an application of the platform: go-oidc and x/oauth2,
// reaching the test server at the issuer's address, never following
// redirects (the browser does).
func relyingParty(t *testing.T, e *apitest.Env) context.Context {
	target, _ := url.Parse(e.URL)
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "gatehouse.example.com" {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
		}
		return http.DefaultTransport.RoundTrip(r)
	}), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return oidc.ClientContext(context.Background(), client)
}

// signInThroughGatehouse follows an authorization URL as a person's browser:
// to the portal's sign-in, the form, then back to the application. It
// returns the address the application is sent to.
func signInThroughGatehouse(t *testing.T, b *browser, authURL, username string) *url.URL {
	t.Helper()
	u, _ := url.Parse(authURL)
	resp, page := b.do(t, "GET", u.RequestURI(), nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 && resp.StatusCode != 303 {
		return &url.URL{Path: "/error", RawQuery: url.Values{"status": {resp.Status}, "body": {page}}.Encode()}
	}
	if b.cookie == nil {
		if !strings.HasPrefix(loc, "/login?next=") {
			t.Fatalf("authorize sent the browser to %q", loc)
		}
		next, _ := url.Parse(loc)
		resp, _ = b.do(t, "POST", "/login", url.Values{"username": {username}, "password": {goodPassword}, "next": {next.Query().Get("next")}})
		loc = resp.Header.Get("Location")
		if !strings.HasPrefix(loc, "/oauth2/continue?") {
			t.Fatalf("the sign-in led to %d %q, not back to the authorization", resp.StatusCode, loc)
		}
		resp, _ = b.do(t, "GET", loc, nil)
		loc = resp.Header.Get("Location")
	} else if strings.HasPrefix(loc, "/login?next=") {
		next, _ := url.Parse(loc)
		resp, _ = b.do(t, "GET", next.Query().Get("next"), nil)
		loc = resp.Header.Get("Location")
	}
	to, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// The platform's applications sign people in through Gatehouse with the
// authorization code flow and PKCE; go-oidc verifies the ID token against
// the JWKS; the account asked for is in the tokens; refresh tokens rotate
// and a reused one revokes its family; codes work once, PKCE and redirect
// URIs are held exactly; only operators register applications.
func TestOpenIDProviderCodeFlow(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			paris := e.CreateAccount(t, "client", "Paris Store", in)
			activeUser(t, e, lyon, "viewer@example.com", "client_user")
			memberToken, _ := e.Member(t, lyon, gatehouse.LevelClientAdmin)

			app := map[string]any{"name": "Video wall", "redirect_uris": []string{"https://app.example.com/callback"}, "type": "public"}
			if r := e.Do(t, "POST", "/api/v1/oidc-clients", memberToken, app); r.Status != 403 && r.Status != 404 {
				t.Errorf("a client administrator registering an application: %d", r.Status)
			}
			if r := e.Do(t, "GET", "/api/v1/oidc-clients", memberToken, nil); r.Status != 403 && r.Status != 404 {
				t.Errorf("a client administrator listing applications: %d", r.Status)
			}
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", apitest.OperatorToken, app)
			clientID := created.String("client_id")
			if created.String("client_secret") != "" || created.String("type") != "public" {
				t.Errorf("a public client: %s", created.Raw)
			}
			if got := e.Must(t, 200, "GET", "/api/v1/oidc-clients", apitest.OperatorToken, nil).Items(); len(got) != 1 || got[0]["client_id"] != clientID {
				t.Errorf("listed: %v", got)
			}

			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			config := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: "https://app.example.com/callback",
				Scopes: []string{oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess, "account:" + lyon}}
			verifier := provider.Verifier(&oidc.Config{ClientID: clientID})

			// Code and PKCE, through the portal's sign-in.
			person := &browser{e: e}
			pkce := oauth2.GenerateVerifier()
			back := signInThroughGatehouse(t, person, config.AuthCodeURL("state-1", oauth2.S256ChallengeOption(pkce), oidc.Nonce("nonce-1")), "viewer@example.com")
			code := back.Query().Get("code")
			if back.Host != "app.example.com" || back.Query().Get("state") != "state-1" || code == "" {
				t.Fatalf("the application got %s", back)
			}
			token, err := config.Exchange(ctx, code, oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			raw, _ := token.Extra("id_token").(string)
			idToken, err := verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("the ID token does not verify: %v", err)
			}
			var claims map[string]any
			_ = idToken.Claims(&claims)
			if idToken.Subject == "" || claims["email"] != "viewer@example.com" || claims["preferred_username"] != "viewer@example.com" ||
				idToken.Nonce != "nonce-1" {
				t.Errorf("ID token claims: %v", claims)
			}
			if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
				t.Errorf("amr without a second factor: %v", claims["amr"])
			}
			if claims["account_id"] != lyon || claims["account_name"] != "Lyon Store" || claims["account_kind"] != "client" ||
				claims["integrator_id"] != in || claims["level"] != "client_user" {
				t.Errorf("account claims: %v", claims)
			}
			info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var infoClaims map[string]any
			_ = info.Claims(&infoClaims)
			if info.Subject != idToken.Subject || infoClaims["account_id"] != lyon || infoClaims["level"] != "client_user" {
				t.Errorf("userinfo: %v", infoClaims)
			}

			// Refresh tokens rotate; the old one used again revokes the family.
			if !strings.HasPrefix(token.RefreshToken, "gh_ort_") {
				t.Fatalf("no refresh token: %q", token.RefreshToken)
			}
			expired := &oauth2.Token{RefreshToken: token.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
			rotated, err := config.TokenSource(ctx, expired).Token()
			if err != nil || rotated.RefreshToken == "" || rotated.RefreshToken == token.RefreshToken {
				t.Fatalf("refresh: %v %v", err, rotated)
			}
			if _, err := config.TokenSource(ctx, expired).Token(); err == nil {
				t.Errorf("a refresh token used twice was accepted")
			}
			if _, err := config.TokenSource(ctx, &oauth2.Token{RefreshToken: rotated.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
				t.Errorf("after a reuse, the rotated refresh token still works")
			}
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(rotated)); err == nil {
				t.Errorf("after a reuse, the family's access token still works")
			}

			// A code works once (the tokens it led to are revoked by its reuse).
			if _, err := config.Exchange(ctx, code, oauth2.VerifierOption(pkce)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Errorf("a code used again: %v", err)
			}

			// PKCE mismatch.
			pkce = oauth2.GenerateVerifier()
			back = signInThroughGatehouse(t, person, config.AuthCodeURL("state-2", oauth2.S256ChallengeOption(pkce)), "viewer@example.com")
			if _, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
				t.Errorf("a wrong PKCE verifier was accepted")
			}
			// A public client without PKCE.
			back = signInThroughGatehouse(t, person, config.AuthCodeURL("state-3"), "viewer@example.com")
			if back.Query().Get("error") != "invalid_request" {
				t.Errorf("a public client without PKCE: %s", back)
			}
			// A redirect URI not registered exactly: no redirect at all.
			wrong := config
			wrong.RedirectURL = "https://app.example.com/callback/"
			back = signInThroughGatehouse(t, person, wrong.AuthCodeURL("state-4", oauth2.S256ChallengeOption(pkce)), "viewer@example.com")
			if back.Path != "/error" || back.Host != "" {
				t.Errorf("an unregistered redirect URI led to %s", back)
			}
			// An account the person is not in.
			other := config
			other.Scopes = []string{oidc.ScopeOpenID, "account:" + paris}
			back = signInThroughGatehouse(t, person, other.AuthCodeURL("state-5", oauth2.S256ChallengeOption(pkce)), "viewer@example.com")
			if back.Host != "app.example.com" || back.Query().Get("error") != "access_denied" || back.Query().Get("code") != "" {
				t.Errorf("an account the person is not in: %s", back)
			}

			// Removing the application revokes what it holds.
			e.Must(t, 204, "DELETE", "/api/v1/oidc-clients/"+clientID, apitest.OperatorToken, nil)
			if _, err := config.Exchange(ctx, "whatever", oauth2.VerifierOption(pkce)); err == nil {
				t.Errorf("a removed client exchanged a code")
			}
		})
	}
}

// Two nodes on one PostgreSQL, asked for their keys at once, publish the
// same key: the first one made is kept. When the rotation period is over
// and both rotate at once, they make one new key and publish the same two.
func TestOpenIDProviderKeysAreSharedByNodes(t *testing.T) {
	t.Parallel()
	if !storetest.PostgresAvailable(t) {
		t.Skip("no PostgreSQL")
	}
	db, _ := storetest.OpenPostgres(t)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	var keys [2]string
	var handlers [2]http.Handler
	clock := apitest.NewClock(time.Now())
	for i := range handlers {
		svc := service.New(db, service.Options{PublicURL: issuer, SecretKey: secret, PasswordParams: apitest.FastPasswords, Clock: clock})
		h, err := svc.OIDC.Handler(func(*http.Request) (gatehouse.Caller, bool) { return gatehouse.Caller{}, false })
		if err != nil {
			t.Fatal(err)
		}
		handlers[i] = h
	}
	fetch := func() {
		var wg sync.WaitGroup
		for i, h := range handlers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/oauth2/keys", nil))
				body, _ := io.ReadAll(rec.Body)
				keys[i] = string(body)
			}()
		}
		wg.Wait()
	}
	fetch()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(keys[0]), &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["alg"] != "ES256" {
		t.Fatalf("JWKS: %s (%v)", keys[0], err)
	}
	if keys[0] != keys[1] {
		t.Errorf("two nodes publish different keys:\n%s\n%s", keys[0], keys[1])
	}
	first := set.Keys[0]["kid"]

	clock.Advance(31 * 24 * time.Hour)
	fetch()
	set.Keys = nil
	if err := json.Unmarshal([]byte(keys[0]), &set); err != nil || len(set.Keys) != 2 || set.Keys[1]["kid"] != first {
		t.Fatalf("JWKS after the rotation period: %s (%v)", keys[0], err)
	}
	if keys[0] != keys[1] {
		t.Errorf("after rotating at once two nodes publish different keys:\n%s\n%s", keys[0], keys[1])
	}
}
