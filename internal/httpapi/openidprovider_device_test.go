package httpapi_test

import (
	"encoding/json"
	"io"
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

// A device client (a signage player) signs a person in with the device
// flow: the person types the code at /device after signing in, picks the
// account and approves; the device's poll gets tokens for that account,
// once. A denied code gives access_denied, an expired one expired_token; a
// wrong code is refused at the field, and wrong codes are limited.
func TestOpenIDProviderDeviceSignIn(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			activeUser(t, e, lyon, "ann@example.com", "client_user")

			e.Must(t, 400, "POST", "/api/v1/oidc-clients", op,
				map[string]any{"name": "Player", "redirect_uris": []string{"https://app.example.com/callback"}, "type": "device"})
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Lobby player", "type": "device"})
			if created.String("type") != "device" || created.String("client_secret") != "" {
				t.Fatalf("the device client: %v", created)
			}
			web := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op,
				map[string]any{"name": "Wall", "redirect_uris": []string{"https://app.example.com/callback"}, "type": "public"})
			ctx := relyingParty(t, e)
			other := oauth2.Config{ClientID: web.String("client_id"), Endpoint: oauth2.Endpoint{DeviceAuthURL: issuer + "/oauth2/device_authorization",
				AuthStyle: oauth2.AuthStyleInParams}}
			if _, err := other.DeviceAuth(ctx); err == nil || !strings.Contains(err.Error(), "unauthorized_client") {
				t.Fatalf("a client that is not a device's: %v", err)
			}
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			config := oauth2.Config{ClientID: created.String("client_id"), Scopes: []string{oidc.ScopeOpenID, "account"},
				Endpoint: oauth2.Endpoint{DeviceAuthURL: issuer + "/oauth2/device_authorization", TokenURL: issuer + "/oauth2/token",
					AuthStyle: oauth2.AuthStyleInParams}}
			two := config
			two.Scopes = []string{"account", "account:" + lyon}
			if _, err := two.DeviceAuth(ctx); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
				t.Fatalf("two accounts asked for: %v", err)
			}
			start := func() *oauth2.DeviceAuthResponse {
				t.Helper()
				da, err := config.DeviceAuth(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if da.VerificationURI != issuer+"/device" || len(da.UserCode) != 9 || da.Expiry.Sub(time.Now()) > 10*time.Minute {
					t.Fatalf("device authorization: %+v", da)
				}
				return da
			}
			// poll asks for the token once, as a device does at each interval
			// (oauth2's own poll waits a whole interval before asking).
			poll := func(da *oauth2.DeviceAuthResponse) (*oauth2.Token, string) {
				t.Helper()
				resp, err := http.PostForm(e.URL+"/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
					"device_code": {da.DeviceCode}, "client_id": {config.ClientID}})
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var answer map[string]any
				if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
					t.Fatal(err)
				}
				if code, _ := answer["error"].(string); code != "" {
					return nil, code
				}
				access, _ := answer["access_token"].(string)
				if resp.StatusCode != 200 || access == "" {
					t.Fatalf("the device's token: %d %v", resp.StatusCode, answer)
				}
				return (&oauth2.Token{AccessToken: access}).WithExtra(answer), ""
			}

			// Approve: the person signs in from the link and comes back.
			da := start()
			person := &browser{e: e}
			resp, _ := person.do(t, "GET", "/device?user_code="+da.UserCode, nil)
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != 303 || loc.Path != "/login" || loc.Query().Get("next") != "/device?user_code="+da.UserCode {
				t.Fatalf("/device before sign-in: %d %s", resp.StatusCode, loc)
			}
			resp, _ = person.do(t, "POST", "/login", url.Values{"username": {"ann@example.com"}, "password": {goodPassword},
				"next": {loc.Query().Get("next")}})
			if got := resp.Header.Get("Location"); got != "/device?user_code="+da.UserCode {
				t.Fatalf("the sign-in led to %q", got)
			}
			resp, page := person.do(t, "GET", "/device?user_code="+da.UserCode, nil)
			for _, want := range []string{`lang="en"`, `<label class="field" for="user_code">Code shown on the device`, `value="` + da.UserCode + `"`, `name="viewport"`} {
				if resp.StatusCode != 200 || !strings.Contains(page, want) {
					t.Fatalf("the code form lacks %q: %d %s", want, resp.StatusCode, page)
				}
			}
			// Until the person answers, the device hears authorization_pending.
			pending, err := http.PostForm(e.URL+"/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
				"device_code": {da.DeviceCode}, "client_id": {config.ClientID}})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(pending.Body)
			pending.Body.Close()
			if pending.StatusCode != 400 || !strings.Contains(string(raw), `"authorization_pending"`) {
				t.Fatalf("a pending device: %d %s", pending.StatusCode, raw)
			}
			// A code typed in lower case without its dash is the same code.
			typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))
			resp, page = person.do(t, "POST", "/device", url.Values{"user_code": {typed}, "action": {"check"}})
			for _, want := range []string{"Lobby player asks to sign in as you.", `<label for="account-0">Lyon Store`, ">Approve<", ">Deny<"} {
				if resp.StatusCode != 200 || !strings.Contains(page, want) {
					t.Fatalf("the approval lacks %q: %d %s", want, resp.StatusCode, page)
				}
			}
			resp, page = person.do(t, "POST", "/device", url.Values{"user_code": {da.UserCode}, "action": {"approve"}, "account": {in}})
			if resp.StatusCode != 403 {
				t.Fatalf("approving for an account not offered: %d %s", resp.StatusCode, page)
			}
			resp, page = person.do(t, "POST", "/device", url.Values{"user_code": {da.UserCode}, "action": {"approve"}, "account": {lyon}})
			if resp.StatusCode != 200 || !strings.Contains(page, "the device is signed in") {
				t.Fatalf("approving: %d %s", resp.StatusCode, page)
			}
			tok, code := poll(da)
			if code != "" {
				t.Fatalf("the approved device: %s", code)
			}
			idToken, err := provider.Verifier(&oidc.Config{ClientID: config.ClientID, Now: e.Clock.Now}).Verify(ctx, tok.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			var claims struct {
				AccountID   string `json:"account_id"`
				AccountName string `json:"account_name"`
				Level       string `json:"level"`
			}
			if err := idToken.Claims(&claims); err != nil || idToken.Subject == "" || claims.AccountID != lyon ||
				claims.AccountName != "Lyon Store" || claims.Level != "client_user" {
				t.Fatalf("the ID token: %s %+v %v", idToken.Subject, claims, err)
			}
			info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil || info.Subject != idToken.Subject {
				t.Fatalf("userinfo: %v %v", info, err)
			}
			if _, code := poll(da); code != "access_denied" {
				t.Fatalf("a device code used twice: %q", code)
			}
			// The approval is the person's sign-in to the device, in the
			// audit log of the account it is for.
			signIns := 0
			for _, ev := range e.Must(t, 200, "GET", "/api/v1/accounts/"+lyon+"/audit-events", op, nil).Items() {
				if ev["action"] == "oidc.signed_in" && ev["target_id"] == config.ClientID && ev["actor_id"] == idToken.Subject {
					signIns++
				}
			}
			if signIns != 1 {
				t.Errorf("the account's audit log has %d sign-ins to the device, want 1", signIns)
			}
			resp, _ = person.do(t, "POST", "/device", url.Values{"user_code": {da.UserCode}, "action": {"check"}})
			if resp.StatusCode != 400 {
				t.Fatalf("a code approved already: %d", resp.StatusCode)
			}

			// Deny.
			da = start()
			person.do(t, "POST", "/device", url.Values{"user_code": {da.UserCode}, "action": {"deny"}})
			if _, code := poll(da); code != "access_denied" {
				t.Fatalf("a denied device: %q", code)
			}

			// Expired: ten minutes later, neither the person nor the device
			// can use it.
			da = start()
			e.Clock.Advance(10*time.Minute + time.Second)
			resp, page = person.do(t, "POST", "/device", url.Values{"user_code": {da.UserCode}, "action": {"check"}})
			if resp.StatusCode != 400 || !strings.Contains(page, `aria-invalid="true"`) ||
				!strings.Contains(page, "This code is wrong or has expired.") {
				t.Fatalf("an expired code typed: %d %s", resp.StatusCode, page)
			}
			if _, code := poll(da); code != "expired_token" {
				t.Fatalf("an expired device code: %q", code)
			}

			// Wrong codes: refused at the field, then limited per person
			// (the approved one and the expired one counted: five in all),
			// even for a right code.
			for i := 0; i < 3; i++ {
				resp, page = person.do(t, "POST", "/device", url.Values{"user_code": {"BBBB-BBBB"}, "action": {"check"}})
				if resp.StatusCode != 400 || !strings.Contains(page, `aria-describedby="user_code-hint user_code-error"`) {
					t.Fatalf("wrong code %d: %d %s", i, resp.StatusCode, page)
				}
			}
			da = start()
			resp, page = person.do(t, "POST", "/device", url.Values{"user_code": {da.UserCode}, "action": {"check"}})
			if resp.StatusCode != 429 || !strings.Contains(page, "Too many wrong codes.") {
				t.Fatalf("after five wrong codes: %d %s", resp.StatusCode, page)
			}
			e.Clock.Advance(16 * time.Minute)
			da = start()
			resp, _ = person.do(t, "POST", "/device", url.Values{"user_code": {da.UserCode}, "action": {"check"}})
			if resp.StatusCode != 200 {
				t.Fatalf("after the wait: %d", resp.StatusCode)
			}

			// A French speaker sees the page in French.
			body := newUser("pierre@example.com", "client_user")
			body["language"] = "fr"
			e.Must(t, 201, "POST", "/api/v1/accounts/"+lyon+"/users", op, body)
			tokens := e.ActivationTokens(t, "pierre@example.com")
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[len(tokens)-1], "password": goodPassword})
			pierre := &browser{e: e}
			pierre.do(t, "POST", "/login", url.Values{"username": {"pierre@example.com"}, "password": {goodPassword}, "next": {"/device"}})
			resp, page = pierre.do(t, "POST", "/device", url.Values{"user_code": {da.UserCode}, "action": {"check"}})
			for _, want := range []string{`lang="fr"`, "Connecter un appareil", "Lobby player demande à se connecter en votre nom.",
				"Compte auquel connecter l’appareil", ">Autoriser<", ">Refuser<"} {
				if resp.StatusCode != 200 || !strings.Contains(page, want) {
					t.Fatalf("the French approval lacks %q: %d %s", want, resp.StatusCode, page)
				}
			}

			// Cross-origin forms are refused.
			form := url.Values{"user_code": {da.UserCode}, "action": {"approve"}, "account": {lyon}}
			req, _ := http.NewRequest("POST", e.URL+"/device", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.AddCookie(person.cookie)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
				t.Fatalf("a cross-site approval: %v %v", err, resp)
			}
		})
	}
}
