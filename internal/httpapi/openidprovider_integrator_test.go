package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// An integrator's administrators register their own applications; other
// integrators' administrators, and client administrators, cannot see or
// remove them. People consent once to such an application, which names its
// integrator and what it will see, and it signs them in to that integrator's
// accounts alone — whatever else they belong to.
func TestOpenIDProviderIntegratorApplications(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			acme := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", acme)
			beta := e.CreateAccount(t, "integrator", "Beta", "")
			berlin := e.CreateAccount(t, "client", "Berlin Store", beta)
			acmeAdmin, _ := e.Member(t, acme, gatehouse.LevelIntegratorAdmin)
			betaAdmin, _ := e.Member(t, beta, gatehouse.LevelIntegratorAdmin)
			lyonAdmin, _ := e.Member(t, lyon, gatehouse.LevelClientAdmin)
			acmeUser, _ := e.Member(t, acme, gatehouse.LevelIntegratorUser)
			e.Must(t, 201, "POST", "/api/v1/accounts/"+lyon+"/users", op, newUser("pierre@example.com", "client_user"))
			tokens := e.ActivationTokens(t, "pierre@example.com")
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[len(tokens)-1], "password": goodPassword})
			e.Must(t, 201, "POST", "/api/v1/accounts/"+berlin+"/users", op, newUser("pierre@example.com", "client_user"))

			app := map[string]any{"name": "Acme Guard", "redirect_uris": []string{"https://guard.acme.example/callback"}, "type": "public",
				"owner_account_id": acme}
			for name, token := range map[string]string{"another integrator's administrator": betaAdmin, "a client administrator": lyonAdmin} {
				if r := e.Do(t, "POST", "/api/v1/oidc-clients", token, app); r.Status != 404 {
					t.Errorf("%s registered an application for Acme: %d %s", name, r.Status, r.Raw)
				}
				if r := e.Do(t, "GET", "/api/v1/oidc-clients?account_id="+acme, token, nil); r.Status != 404 {
					t.Errorf("%s listed Acme's applications: %d", name, r.Status)
				}
			}
			if r := e.Do(t, "POST", "/api/v1/oidc-clients", acmeUser, app); r.Status != 403 {
				t.Errorf("an integrator user registered an application: %d", r.Status)
			}
			if r := e.Do(t, "POST", "/api/v1/oidc-clients", acmeAdmin, map[string]any{"name": "Mine", "type": "device", "owner_account_id": acme}); r.Status != 400 {
				t.Errorf("an integrator registered a device client: %d", r.Status)
			}
			if r := e.Do(t, "POST", "/api/v1/oidc-clients", acmeAdmin, map[string]any{"name": "Robot", "type": "service",
				"account_id": berlin, "owner_account_id": acme}); r.Status != 400 {
				t.Errorf("Acme registered a service client for Beta's client: %d %s", r.Status, r.Raw)
			}
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", acmeAdmin, app)
			clientID := created.String("client_id")
			if created.String("owner_account_id") != acme {
				t.Errorf("the application's owner: %s", created.Raw)
			}
			if items := e.Must(t, 200, "GET", "/api/v1/oidc-clients?account_id="+acme, acmeAdmin, nil).Items(); len(items) != 1 || items[0]["client_id"] != clientID {
				t.Errorf("Acme's applications: %v", items)
			}
			if items := e.Must(t, 200, "GET", "/api/v1/oidc-clients?account_id="+beta, betaAdmin, nil).Items(); len(items) != 0 {
				t.Errorf("Beta sees applications: %v", items)
			}
			if r := e.Do(t, "DELETE", "/api/v1/oidc-clients/"+clientID, betaAdmin, nil); r.Status != 404 {
				t.Errorf("Beta removed Acme's application: %d", r.Status)
			}

			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			config := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: "https://guard.acme.example/callback",
				Scopes: []string{oidc.ScopeOpenID, "email", "account:" + lyon}}
			person := &browser{e: e}
			pkce := oauth2.GenerateVerifier()
			authorize := func(c oauth2.Config) (*url.URL, string) {
				t.Helper()
				u, _ := url.Parse(c.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)))
				resp, page := person.do(t, "GET", u.RequestURI(), nil)
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if strings.HasPrefix(loc.Path, "/login") {
					next := loc.Query().Get("next")
					if person.cookie == nil {
						person.do(t, "POST", "/login", url.Values{"username": {"pierre@example.com"}, "password": {goodPassword}, "next": {next}})
					}
					resp, page = person.do(t, "GET", next, nil)
					loc, _ = url.Parse(resp.Header.Get("Location"))
				}
				return loc, page
			}

			// The first sign-in asks for consent, naming the integrator and
			// what the application will see.
			loc, page := authorize(config)
			if loc.Host != "" {
				t.Fatalf("no consent was asked: the browser went to %s", loc)
			}
			for _, want := range []string{"Allow Acme Guard?", "Acme Guard, an application of Acme, asks to sign you in.",
				"your e-mail address or username", "the account you sign in to, and your level in it", `value="allow"`} {
				if !strings.Contains(page, want) {
					t.Errorf("the consent page lacks %q:\n%s", want, page)
				}
			}
			id := func(page string) string {
				i := strings.Index(page, `name="id" value="`)
				return strings.SplitN(page[i+len(`name="id" value="`):], `"`, 2)[0]
			}
			resp, _ := person.do(t, "POST", "/oauth2/continue", url.Values{"id": {id(page)}, "action": {"allow"}})
			back, _ := url.Parse(resp.Header.Get("Location"))
			token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("exchange after consent: %v (%s)", err, back)
			}
			idToken, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, token.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			_ = idToken.Claims(&claims)
			if claims["account_id"] != lyon || claims["integrator_id"] != acme {
				t.Errorf("claims: %v", claims)
			}
			// Consent is not asked again.
			if loc, page = authorize(config); loc.Host != "guard.acme.example" || loc.Query().Get("code") == "" {
				t.Errorf("a second sign-in asked again: %s %s", loc, page)
			}

			// Beta's client, though the person is a member there.
			other := config
			other.Scopes = []string{oidc.ScopeOpenID, "account:" + berlin}
			if loc, _ = authorize(other); loc.Query().Get("error") != "access_denied" {
				t.Errorf("Acme's application signed the person in to Beta's client: %s", loc)
			}
			// The chooser offers Acme's accounts alone.
			choose := config
			choose.Scopes = []string{oidc.ScopeOpenID, "email", "account"}
			loc, page = authorize(choose)
			if !strings.Contains(page, "Lyon Store") || strings.Contains(page, "Berlin Store") {
				t.Errorf("the chooser of Acme's application:\n%s", page)
			}
			resp, _ = person.do(t, "POST", "/oauth2/continue", url.Values{"id": {id(page)}, "action": {"choose"}, "account": {berlin}})
			if to, _ := url.Parse(resp.Header.Get("Location")); to.Query().Get("error") != "access_denied" {
				t.Errorf("choosing Beta's client by hand: %s", to)
			}
			// No account at all: refused before any sign-in.
			none := config
			none.Scopes = []string{oidc.ScopeOpenID, "email"}
			if loc, _ = authorize(none); loc.Query().Get("error") != "invalid_scope" {
				t.Errorf("an integrator's application without an account: %s", loc)
			}

			// Disconnecting from the profile forgets the consent.
			if resp, page := person.do(t, "POST", "/profile/applications/"+clientID+"/disconnect", url.Values{}); resp.StatusCode != 303 {
				t.Fatalf("disconnecting: %d %s", resp.StatusCode, page)
			}
			if loc, page = authorize(config); loc.Host != "" || !strings.Contains(page, "Allow Acme Guard?") {
				t.Errorf("after disconnecting, no consent was asked: %s", loc)
			}

			e.Must(t, 204, "DELETE", "/api/v1/oidc-clients/"+clientID, acmeAdmin, nil)
			if _, err := config.TokenSource(ctx, token).Token(); err != nil {
				// The access token is still fresh: TokenSource returns it.
				t.Fatal(err)
			}
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token)); err == nil {
				t.Errorf("the removed application's token still reads userinfo")
			}
		})
	}
}

// An application may require a second factor (acr_values): a person whose
// session used none is stopped on a page that says so; once they set one up
// in that session, the sign-in finishes with acr and amr saying so. An
// application registered for RS256 gets RS256 tokens, verified against the
// JWKS like the ES256 ones.
func TestOpenIDProviderSecondFactorAndRS256(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			activeUser(t, e, lyon, "viewer@example.com", "client_user")
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Legacy CMS", "type": "public",
				"redirect_uris": []string{"https://cms.example.com/callback"}, "id_token_signed_response_alg": "RS256"})
			if created.String("id_token_signed_response_alg") != "RS256" {
				t.Errorf("registered: %s", created.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "X", "type": "public",
				"redirect_uris": []string{"https://x.example.com/cb"}, "id_token_signed_response_alg": "HS256"}); r.Status != 400 {
				t.Errorf("HS256 accepted: %d", r.Status)
			}
			clientID := created.String("client_id")
			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			config := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: "https://cms.example.com/callback",
				Scopes: []string{oidc.ScopeOpenID, "account:" + lyon}}
			pkce := oauth2.GenerateVerifier()
			person := &browser{e: e}
			u, _ := url.Parse(config.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("acr_values", "urn:gatehouse:acr:mfa")))
			resp, _ := person.do(t, "GET", u.RequestURI(), nil)
			next, _ := url.Parse(resp.Header.Get("Location"))
			person.do(t, "POST", "/login", url.Values{"username": {"viewer@example.com"}, "password": {goodPassword}, "next": {next.Query().Get("next")}})
			resp, page := person.do(t, "GET", next.Query().Get("next"), nil)
			if resp.StatusCode != 403 || !strings.Contains(page, "A second factor is needed") || !strings.Contains(page, "Legacy CMS asks") {
				t.Fatalf("a sign-in without a second factor, the application requiring one: %d %s", resp.StatusCode, page)
			}
			// The person sets one up on their profile, in this session.
			start := e.Must(t, 200, "POST", "/api/v1/me/mfa/totp", person.cookie.Value, nil)
			e.Must(t, 204, "POST", "/api/v1/me/mfa/totp/confirm", person.cookie.Value, map[string]string{"challenge": start.String("challenge"),
				"code": code(t, e, start.String("totp_secret"), e.Clock.Now())})
			back := signInThroughGatehouse(t, person, config.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce),
				oauth2.SetAuthURLParam("acr_values", "urn:gatehouse:acr:mfa")), "viewer@example.com")
			token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("exchange: %v (%s)", err, back)
			}
			raw := token.Extra("id_token").(string)
			header, _ := base64.RawURLEncoding.DecodeString(strings.SplitN(raw, ".", 2)[0])
			var h struct{ Alg, Kid string }
			_ = json.Unmarshal(header, &h)
			if h.Alg != "RS256" || !strings.HasSuffix(h.Kid, "-rs256") {
				t.Errorf("the RS256 application's ID token header: %s", header)
			}
			idToken, err := provider.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"RS256"}}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("the RS256 ID token does not verify: %v", err)
			}
			var claims map[string]any
			_ = idToken.Claims(&claims)
			if claims["acr"] != "urn:gatehouse:acr:mfa" || len(claims["amr"].([]any)) != 2 {
				t.Errorf("acr and amr after a second factor: %v %v", claims["acr"], claims["amr"])
			}
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token)); err != nil {
				t.Errorf("userinfo with an RS256 access token: %v", err)
			}
		})
	}
}
