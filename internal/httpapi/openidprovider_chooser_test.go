package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// An application asking for the scope "account" lets the person choose:
// /oauth2/continue lists their active accounts (a suspended one marked and
// not choosable), in their language; choosing one completes the request
// with its claims; another account, a cancel or a cross-origin form sends
// nothing but an error.
func TestOpenIDProviderAccountChooser(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			paris := e.CreateAccount(t, "client", "Paris Store", in)
			nice := e.CreateAccount(t, "client", "Nice Store", in)
			body := newUser("pierre@example.com", "client_user")
			body["language"] = "fr"
			e.Must(t, 201, "POST", "/api/v1/accounts/"+lyon+"/users", op, body)
			tokens := e.ActivationTokens(t, "pierre@example.com")
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[len(tokens)-1], "password": goodPassword})
			e.Must(t, 201, "POST", "/api/v1/accounts/"+paris+"/users", op, newUser("pierre@example.com", "client_user"))
			e.Must(t, 200, "POST", "/api/v1/accounts/"+paris+"/suspend", op, nil)
			activeUser(t, e, nice, "ann@example.com", "client_user")

			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op,
				map[string]any{"name": "Video wall", "redirect_uris": []string{"https://app.example.com/callback"}, "type": "public"})
			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			config := oauth2.Config{ClientID: created.String("client_id"), Endpoint: provider.Endpoint(),
				RedirectURL: "https://app.example.com/callback", Scopes: []string{oidc.ScopeOpenID, "account"}}

			person := &browser{e: e}
			// start follows an authorization to the chooser and returns the
			// request's id and the page.
			start := func(b *browser, username string) (string, string) {
				t.Helper()
				pkce := oauth2.GenerateVerifier()
				u, _ := url.Parse(config.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)))
				resp, _ := b.do(t, "GET", u.RequestURI(), nil)
				loc, _ := url.Parse(resp.Header.Get("Location"))
				next, _ := url.Parse(loc.Query().Get("next"))
				if b.cookie == nil {
					b.do(t, "POST", "/login", url.Values{"username": {username}, "password": {goodPassword}, "next": {next.String()}})
				}
				resp, page := b.do(t, "GET", next.String(), nil)
				if resp.StatusCode != 200 {
					t.Fatalf("the chooser: %d %s", resp.StatusCode, page)
				}
				return next.Query().Get("id"), page
			}
			choose := func(b *browser, id, account, action string) *url.URL {
				t.Helper()
				resp, page := b.do(t, "POST", "/oauth2/continue", url.Values{"id": {id}, "account": {account}, "action": {action}})
				to, _ := url.Parse(resp.Header.Get("Location"))
				if resp.StatusCode != 302 && resp.StatusCode != 303 {
					t.Fatalf("choosing: %d %s", resp.StatusCode, page)
				}
				return to
			}

			id, page := start(person, "pierre@example.com")
			for _, want := range []string{`lang="fr"`, "Choisir un compte", "Video wall demande à quel compte vous connecter.",
				`<label for="account-0">Lyon Store`, `value="` + paris + `" disabled aria-describedby="account-1-state"`,
				"suspendu : il ne peut pas être choisi", "Continuer", "Annuler", `name="viewport"`} {
				if !strings.Contains(page, want) {
					t.Errorf("the chooser lacks %q:\n%s", want, page)
				}
			}
			if strings.Contains(page, "Nice Store") {
				t.Errorf("the chooser lists another person's account")
			}
			// A form from another site is refused, and changes nothing.
			req, _ := http.NewRequest("POST", e.URL+"/oauth2/continue", strings.NewReader(url.Values{"id": {id}, "account": {lyon}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.AddCookie(person.cookie)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
				t.Errorf("a cross-site choice: %v %v", err, resp)
			}
			// The suspended account, and another person's, cannot be chosen.
			for _, account := range []string{paris, nice} {
				id, _ := start(person, "")
				if to := choose(person, id, account, "choose"); to.Query().Get("error") != "access_denied" || to.Query().Get("code") != "" {
					t.Errorf("choosing %s: %s", account, to)
				}
			}
			// Cancelling.
			id2, _ := start(person, "")
			if to := choose(person, id2, "", "cancel"); to.Host != "app.example.com" || to.Query().Get("error") != "access_denied" {
				t.Errorf("cancel: %s", to)
			}

			// Choosing Lyon completes the request with its claims.
			pkce := oauth2.GenerateVerifier()
			u, _ := url.Parse(config.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)))
			resp, _ := person.do(t, "GET", u.RequestURI(), nil)
			loc, _ := url.Parse(resp.Header.Get("Location"))
			next, _ := url.Parse(loc.Query().Get("next"))
			to := choose(person, next.Query().Get("id"), lyon, "choose")
			if to.Host != "app.example.com" || to.Query().Get("code") == "" {
				t.Fatalf("choosing Lyon: %s", to)
			}
			token, err := config.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatal(err)
			}
			idToken, err := provider.Verifier(&oidc.Config{ClientID: config.ClientID}).Verify(ctx, token.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			_ = idToken.Claims(&claims)
			if claims["account_id"] != lyon || claims["account_name"] != "Lyon Store" || claims["level"] != "client_user" {
				t.Errorf("claims after choosing: %v", claims)
			}
			// English for a person in English.
			ann := &browser{e: e}
			_, page = start(ann, "ann@example.com")
			for _, want := range []string{`lang="en"`, "Choose an account", "Video wall asks which account to sign you in to.", "Nice Store", "Continue"} {
				if !strings.Contains(page, want) {
					t.Errorf("the English chooser lacks %q", want)
				}
			}
			// Asking for two accounts at once is refused.
			two := config
			two.Scopes = []string{oidc.ScopeOpenID, "account", "account:" + lyon}
			u, _ = url.Parse(two.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)))
			resp, _ = ann.do(t, "GET", u.RequestURI(), nil)
			if got, _ := url.Parse(resp.Header.Get("Location")); got.Query().Get("error") != "invalid_scope" {
				t.Errorf("account and account:{id} together: %s", resp.Header.Get("Location"))
			}
		})
	}
}
