package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The OpenID Provider tells applications how a passkey sign-in was made:
// amr ["hwk","user"] for a passkey alone, ["pwd","hwk","user"] after a
// password, each with the second factor's acr; an administrator who
// signed in with a passkey alone is not stopped for a missing second
// factor.
func TestOpenIDProviderReportsPasskeySignIns(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			lyon := e.CreateAccount(t, "client", "Lyon Store", e.CreateAccount(t, "integrator", "Acme", ""))
			activeUser(t, e, lyon, "boss@example.com", "client_admin")
			a, _ := registerPasskey(t, e, adminSession(t, e, "boss@example.com"), "Key")

			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", apitest.OperatorToken,
				map[string]any{"name": "Back office", "redirect_uris": []string{"https://office.example.com/callback"}, "type": "confidential"})
			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			config := oauth2.Config{ClientID: created.String("client_id"), ClientSecret: created.String("client_secret"), Endpoint: provider.Endpoint(),
				RedirectURL: "https://office.example.com/callback", Scopes: []string{oidc.ScopeOpenID}}

			passwordAndPasskey := func() string {
				r := signIn(e, t, "boss@example.com", goodPassword)
				start := e.Must(t, 200, "POST", "/api/v1/sessions/mfa/passkey/options", "", map[string]string{"challenge": r.String("challenge")})
				cred, _ := a.Get(optionsOf(t, start))
				return e.Must(t, 201, "POST", "/api/v1/sessions/mfa/passkey", "", map[string]any{"challenge": r.String("challenge"),
					"ceremony": start.String("ceremony"), "credential": json.RawMessage(cred)}).String("token")
			}
			for _, c := range []struct {
				how, amr string
				session  func() string
			}{
				{"a passkey alone", "hwk user", func() string { return passkeySignIn(t, e, a).String("token") }},
				{"a password and a passkey", "pwd hwk user", passwordAndPasskey},
			} {
				person := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: c.session()}}
				pkce := oauth2.GenerateVerifier()
				back := signInThroughGatehouse(t, person, config.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), "boss@example.com")
				token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
				if err != nil {
					t.Fatalf("%s: exchange (%s): %v", c.how, back, err)
				}
				idToken, err := provider.Verifier(&oidc.Config{ClientID: config.ClientID}).Verify(ctx, token.Extra("id_token").(string))
				if err != nil {
					t.Fatal(err)
				}
				var claims struct {
					AMR []string `json:"amr"`
					ACR string   `json:"acr"`
				}
				_ = idToken.Claims(&claims)
				if strings.Join(claims.AMR, " ") != c.amr || claims.ACR != "urn:gatehouse:acr:mfa" {
					t.Errorf("%s: amr %v, acr %q", c.how, claims.AMR, claims.ACR)
				}
			}
		})
	}
}
