package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A person signs in to one of the platform's applications through
// Gatehouse, in Chromium: the application (go-oidc and x/oauth2, served by
// the test) sends the browser to Gatehouse's authorization endpoint; the
// person signs in on the portal's page, sets up their authenticator as an
// administrator must, and lands back in the application, which verifies the
// ID token and greets them with the account and level it carries and the
// second factor it saw.
func TestSignInToAnApplicationInABrowser(t *testing.T) {
	ctx := startBrowser(t)
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	op := apitest.OperatorToken
	acme := e.CreateAccount(t, "integrator", "Acme", "")
	lyon := e.CreateAccount(t, "client", "Lyon Store", acme)
	e.Must(t, 201, "POST", "/api/v1/accounts/"+lyon+"/users", op, map[string]any{"username": "ann@example.com",
		"first_name": "Ann", "last_name": "Admin", "level": "client_admin"})
	const password = "lantern marble orchard"
	e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": e.ActivationTokens(t, "ann@example.com")[0], "password": password})

	// The application. Gatehouse's issuer is its public address; on the
	// test's network it answers at e.URL, so the application's calls and
	// the browser's visits go there.
	gatehouseAt, _ := url.Parse(e.URL)
	backChannel := oidc.ClientContext(context.Background(), &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = gatehouseAt.Scheme, gatehouseAt.Host
		return http.DefaultTransport.RoundTrip(r)
	})})
	provider, err := oidc.NewProvider(backChannel, "https://gatehouse.example.com")
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(nil)
	t.Cleanup(app.Close)
	clientID := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Video wall", "type": "public",
		"redirect_uris": []string{app.URL + "/callback"}}).String("client_id")
	config := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: app.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "email", "account:" + lyon}}
	var (
		mu       sync.Mutex
		verifier = map[string]string{} // state → PKCE verifier
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		state := rand.Text()
		pkce := oauth2.GenerateVerifier()
		mu.Lock()
		verifier[state] = pkce
		mu.Unlock()
		asked := config
		if r.URL.Query().Get("choose") != "" {
			asked.Scopes = []string{oidc.ScopeOpenID, "email", "account"}
		}
		to, _ := url.Parse(asked.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce)))
		to.Scheme, to.Host = gatehouseAt.Scheme, gatehouseAt.Host
		http.Redirect(w, r, to.String(), http.StatusFound)
	})
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pkce, ok := verifier[r.URL.Query().Get("state")]
		delete(verifier, r.URL.Query().Get("state"))
		mu.Unlock()
		if !ok {
			http.Error(w, "unknown state", http.StatusBadRequest)
			return
		}
		token, err := config.Exchange(backChannel, r.URL.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		idToken, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(backChannel, token.Extra("id_token").(string))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var claims struct {
			Email       string `json:"email"`
			AccountName string `json:"account_name"`
			Level       string `json:"level"`
			ACR         string `json:"acr"`
		}
		_ = idToken.Claims(&claims)
		fmt.Fprintf(w, `<!doctype html><title>Video wall</title><p id="hello">Hello %s, in %s as %s, with %s</p>`,
			html.EscapeString(claims.Email), html.EscapeString(claims.AccountName), html.EscapeString(claims.Level), html.EscapeString(claims.ACR))
	})
	app.Config.Handler = mux

	step(t, ctx, "open the application", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(chromedp.ID("username")), waitLocation("/login?next="))
	enrollAtSignIn(t, ctx, e, "ann@example.com", password, "hello", "")
	if got := text(t, ctx, "#hello"); got != "Hello ann@example.com, in Lyon Store as client_admin, with urn:gatehouse:acr:mfa" {
		t.Errorf("the application greets %q", got)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, app.URL+"/callback?") {
		t.Errorf("the browser ended at %s, not in the application", loc)
	}

	// Signed in already, the person picks the account on the chooser, whose
	// form sends the browser on to the application.
	step(t, ctx, "the account chooser", chromedp.Navigate(app.URL+"/?choose=1"), chromedp.WaitVisible(chromedp.ID("account-0")))
	screenshot(t, ctx, "")
	step(t, ctx, "choose", chromedp.Click(chromedp.ID("account-0")), chromedp.Click(chromedp.CSS(`button[value=choose]`)),
		chromedp.WaitVisible(chromedp.ID("hello")))
	if got := text(t, ctx, "#hello"); !strings.Contains(got, "in Lyon Store as client_admin") {
		t.Errorf("after choosing, the application greets %q", got)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
