package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// oauthPost posts a form to one of the provider's endpoints as a
// confidential client (HTTP basic), and returns the status and JSON body.
func oauthPost(t *testing.T, e *apitest.Env, path, clientID, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func introspect(t *testing.T, e *apitest.Env, clientID, secret, token string) map[string]any {
	t.Helper()
	status, body := oauthPost(t, e, "/oauth2/introspect", clientID, secret, url.Values{"token": {token}})
	if status != 200 {
		t.Fatalf("introspection: %d %v", status, body)
	}
	return body
}

// signInWithSecondFactor signs an administrator in on the portal with
// password and authenticator (enrolled on the way), coming back to next.
func signInWithSecondFactor(t *testing.T, b *browser, username, next string) {
	t.Helper()
	resp, page := b.do(t, "POST", "/login", url.Values{"username": {username}, "password": {goodPassword}, "next": {next}})
	secret := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page)
	challenge := challengeField.FindStringSubmatch(page)
	if resp.StatusCode != 200 || secret == nil || challenge == nil {
		t.Fatalf("administrator sign-in page: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = b.do(t, "POST", "/login/mfa", url.Values{"challenge": {challenge[1]}, "code": {code(t, b.e, secret[1], b.e.Clock.Now())},
		"next": {next}})
	if resp.StatusCode != 303 || b.cookie == nil {
		t.Fatalf("second step: %d", resp.StatusCode)
	}
}

// A confidential application's resource servers introspect its tokens
// (RFC 7662): a live access token is active with the person's and the
// account's claims; a revoked or expired one is inactive. Revocation (RFC
// 7009) ends a refresh token's family and an access token alone. A person
// who signed in with a second factor has amr ["pwd","otp"].
func TestOpenIDProviderIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			activeUser(t, e, lyon, "boss@example.com", "client_admin")

			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", apitest.OperatorToken,
				map[string]any{"name": "Back office", "redirect_uris": []string{"https://office.example.com/callback"}, "type": "confidential"})
			clientID, secret := created.String("client_id"), created.String("client_secret")
			if !strings.HasPrefix(secret, "gh_") {
				t.Fatalf("a confidential client: %s", created.Raw)
			}
			other := e.Must(t, 201, "POST", "/api/v1/oidc-clients", apitest.OperatorToken,
				map[string]any{"name": "Other", "redirect_uris": []string{"https://other.example.com/callback"}, "type": "confidential"})

			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			config := oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
				RedirectURL: "https://office.example.com/callback",
				Scopes:      []string{oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess, "account:" + lyon}}

			// The administrator signs in with their authenticator first.
			person := &browser{e: e}
			signInWithSecondFactor(t, person, "boss@example.com", "/accounts")
			pkce := oauth2.GenerateVerifier()
			back := signInThroughGatehouse(t, person, config.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), "boss@example.com")
			token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("exchange (%s): %v", back, err)
			}
			idToken, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, token.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			var claims struct {
				AMR []string `json:"amr"`
			}
			_ = idToken.Claims(&claims)
			if strings.Join(claims.AMR, " ") != "pwd otp" {
				t.Errorf("amr after a second factor: %v", claims.AMR)
			}

			// Introspection: the client authenticates.
			if status, _ := oauthPost(t, e, "/oauth2/introspect", clientID, "wrong", url.Values{"token": {token.AccessToken}}); status == 200 {
				t.Errorf("introspection with a wrong secret: %d", status)
			}
			if status, _ := oauthPost(t, e, "/oauth2/introspect", "", "", url.Values{"token": {token.AccessToken}}); status == 200 {
				t.Errorf("introspection without a client: %d", status)
			}
			got := introspect(t, e, clientID, secret, token.AccessToken)
			if got["active"] != true || got["sub"] != idToken.Subject || got["client_id"] != clientID || got["account_id"] != lyon ||
				got["account_name"] != "Lyon Store" || got["level"] != "client_admin" || got["integrator_id"] != in ||
				got["email"] != "boss@example.com" || got["token_type"] != "Bearer" {
				t.Errorf("an active token: %v", got)
			}
			if scope, _ := got["scope"].(string); !strings.Contains(scope, "account:"+lyon) {
				t.Errorf("introspected scope: %v", got["scope"])
			}
			if got := introspect(t, e, clientID, secret, "not-a-token"); got["active"] != false {
				t.Errorf("garbage: %v", got)
			}

			// Revoking the access token: introspection says inactive, the
			// refresh token still works.
			if status, body := oauthPost(t, e, "/oauth2/revoke", other.String("client_id"), other.String("client_secret"),
				url.Values{"token": {token.AccessToken}}); status == 200 {
				t.Errorf("another client revoked the token: %d %v", status, body)
			}
			if got := introspect(t, e, clientID, secret, token.AccessToken); got["active"] != true {
				t.Errorf("after another client's revocation: %v", got)
			}
			if status, body := oauthPost(t, e, "/oauth2/revoke", clientID, secret, url.Values{"token": {token.AccessToken}, "token_type_hint": {"access_token"}}); status != 200 {
				t.Fatalf("revoking the access token: %d %v", status, body)
			}
			if got := introspect(t, e, clientID, secret, token.AccessToken); got["active"] != false {
				t.Errorf("a revoked access token: %v", got)
			}
			rotated, err := config.TokenSource(ctx, &oauth2.Token{RefreshToken: token.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
			if err != nil {
				t.Fatalf("refresh after the access token's revocation: %v", err)
			}
			if got := introspect(t, e, clientID, secret, rotated.AccessToken); got["active"] != true {
				t.Errorf("the new access token: %v", got)
			}

			// Revoking the refresh token: it no longer refreshes, and the
			// access tokens of its family are inactive.
			if status, body := oauthPost(t, e, "/oauth2/revoke", clientID, secret, url.Values{"token": {rotated.RefreshToken}, "token_type_hint": {"refresh_token"}}); status != 200 {
				t.Fatalf("revoking the refresh token: %d %v", status, body)
			}
			if _, err := config.TokenSource(ctx, &oauth2.Token{RefreshToken: rotated.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
				t.Errorf("a revoked refresh token refreshed")
			}
			if got := introspect(t, e, clientID, secret, rotated.AccessToken); got["active"] != false {
				t.Errorf("an access token of a revoked family: %v", got)
			}
			// An unknown token is no error (RFC 7009 §2.2).
			if status, _ := oauthPost(t, e, "/oauth2/revoke", clientID, secret, url.Values{"token": {"gh_ort_unknown"}}); status != 200 {
				t.Errorf("revoking an unknown token: %d", status)
			}

			// An expired access token is inactive.
			pkce = oauth2.GenerateVerifier()
			back = signInThroughGatehouse(t, person, config.AuthCodeURL("s2", oauth2.S256ChallengeOption(pkce)), "boss@example.com")
			fresh, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatal(err)
			}
			if got := introspect(t, e, clientID, secret, fresh.AccessToken); got["active"] != true {
				t.Errorf("a fresh access token: %v", got)
			}
			e.Clock.Advance(16 * time.Minute)
			if got := introspect(t, e, clientID, secret, fresh.AccessToken); got["active"] != false {
				t.Errorf("an expired access token: %v", got)
			}
		})
	}
}
