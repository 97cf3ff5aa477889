package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// What ends a person's sessions, or their place in an account, ends the
// tokens the platform's applications hold for them at once: a refresh
// fails, introspection says inactive, the rows are revoked. Removal,
// expiry, suspension and deletion end the account's tokens; a password
// changed or reset, a second factor reset and sessions ended by an
// administrator end all of them. Others' tokens live on.
func TestOpenIDProviderTokensEndWithTheirPerson(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			paris := e.CreateAccount(t, "client", "Paris Store", in)
			nice := e.CreateAccount(t, "client", "Nice Store", in)

			app := map[string]any{"name": "Video wall", "redirect_uris": []string{"https://app.example.com/callback"}, "type": "confidential"}
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, app)
			clientID, secret := created.String("client_id"), created.String("client_secret")
			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}

			type grant struct {
				config oauth2.Config
				token  *oauth2.Token
			}
			signInTo := func(username string, scopes ...string) grant {
				t.Helper()
				config := oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
					RedirectURL: "https://app.example.com/callback", Scopes: append([]string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}, scopes...)}
				pkce := oauth2.GenerateVerifier()
				back := signInThroughGatehouse(t, &browser{e: e}, config.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce)), username)
				token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
				if err != nil {
					t.Fatalf("%s: exchange: %v (%s)", username, err, back)
				}
				return grant{config, token}
			}
			active := func(g grant) bool {
				t.Helper()
				form := url.Values{"token": {g.token.AccessToken}}
				req, _ := http.NewRequest("POST", e.URL+"/oauth2/introspect", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var answer struct{ Active bool }
				if err := json.NewDecoder(resp.Body).Decode(&answer); resp.StatusCode != 200 || err != nil {
					t.Fatalf("introspection: %d %v", resp.StatusCode, err)
				}
				return answer.Active
			}
			// ended checks that an event ended the grant: the refresh token
			// is revoked in the store (not only refused by the claims'
			// checks), refreshing fails, and the access token is inactive.
			ended := func(event string, g grant) {
				t.Helper()
				tok, err := e.Store.OIDCRefreshToken(context.Background(), gatehouse.HashToken(g.token.RefreshToken))
				if err != nil || tok.RevokedAt.IsZero() {
					t.Errorf("%s: the refresh token is not revoked: %v %+v", event, err, tok)
				}
				expired := &oauth2.Token{RefreshToken: g.token.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
				if _, err := g.config.TokenSource(ctx, expired).Token(); err == nil {
					t.Errorf("%s: the refresh token still works", event)
				}
				if active(g) {
					t.Errorf("%s: introspection says the access token is active", event)
				}
			}
			lives := func(event string, g grant) {
				t.Helper()
				if !active(g) {
					t.Errorf("%s: another token ended", event)
				}
			}

			// Removed from an account: its tokens end, not those of another.
			removed := addActive(t, e, lyon, "removed@example.com", "client_user", nil)
			addActive(t, e, paris, "removed@example.com", "client_user", nil)
			inLyon, inParis, bare := signInTo("removed@example.com", "account:"+lyon), signInTo("removed@example.com", "account:"+paris), signInTo("removed@example.com")
			stays := addActive(t, e, lyon, "stays@example.com", "client_user", nil)
			staysLyon := signInTo("stays@example.com", "account:"+lyon)
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+lyon+"/users/"+removed.String("id"), op, nil)
			ended("removal", inLyon)
			lives("removal, the person's other account", inParis)
			lives("removal, the person's token without an account", bare)
			lives("removal, another member", staysLyon)

			// Access that ended by itself, swept.
			end := e.Clock.Now().Add(time.Minute)
			body := newUser("expiring@example.com", "client_user")
			body["expires_at"] = end.Format(time.RFC3339)
			e.Must(t, 201, "POST", "/api/v1/accounts/"+lyon+"/users", op, body)
			tokens := e.ActivationTokens(t, "expiring@example.com")
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[len(tokens)-1], "password": goodPassword})
			expiring := signInTo("expiring@example.com", "account:"+lyon)
			e.Clock.Advance(2 * time.Minute)
			if _, err := e.Services.People.EndExpiredAccess(context.Background()); err != nil {
				t.Fatal(err)
			}
			ended("expiry", expiring)
			lives("expiry, another member", staysLyon)

			// A suspended account: everyone's tokens for it end.
			addActive(t, e, paris, "parisian@example.com", "client_user", nil)
			parisian := signInTo("parisian@example.com", "account:"+paris)
			e.Must(t, 200, "POST", "/api/v1/accounts/"+paris+"/suspend", op, nil)
			ended("suspension", parisian)
			ended("suspension, a member of two accounts", inParis)
			lives("suspension, another account", staysLyon)

			// A deleted account.
			addActive(t, e, nice, "nicois@example.com", "client_user", nil)
			nicois := signInTo("nicois@example.com", "account:"+nice)
			e.Must(t, 200, "DELETE", "/api/v1/accounts/"+nice, op, map[string]string{"confirm_name": "Nice Store"})
			ended("deletion", nicois)
			lives("deletion, another account", staysLyon)

			// Identity-wide events end every token of the person.
			addActive(t, e, lyon, "changer@example.com", "client_user", nil)
			changerBare, changerLyon := signInTo("changer@example.com"), signInTo("changer@example.com", "account:"+lyon)
			e.Must(t, 204, "POST", "/api/v1/me/password", session(t, e, "changer@example.com"),
				map[string]string{"current_password": goodPassword, "new_password": "a fresh passphrase"})
			ended("password change", changerBare)
			ended("password change", changerLyon)

			addActive(t, e, lyon, "forgetful@example.com", "client_user", nil)
			forgetful := signInTo("forgetful@example.com", "account:"+lyon)
			e.Must(t, 202, "POST", "/api/v1/password-resets", "", map[string]string{"username": "forgetful@example.com"})
			links := resetLinks(t, e, "forgetful@example.com")
			if len(links) != 1 {
				t.Fatalf("reset links: %v", links)
			}
			e.Must(t, 200, "POST", "/api/v1/password-resets/confirm", "", map[string]string{"token": links[0], "password": "a brand new passphrase"})
			ended("password reset", forgetful)

			lost := addActive(t, e, lyon, "lost@example.com", "client_user", nil)
			lostBare := signInTo("lost@example.com")
			e.Must(t, 204, "DELETE", "/api/v1/users/"+lost.String("user_id")+"/mfa", op, nil)
			ended("second factor reset", lostBare)

			stolen := addActive(t, e, lyon, "stolen@example.com", "client_user", nil)
			stolenLyon := signInTo("stolen@example.com", "account:"+lyon)
			e.Must(t, 204, "DELETE", "/api/v1/users/"+stolen.String("user_id")+"/sessions", op, nil)
			ended("sessions ended by an administrator", stolenLyon)

			lives("all along, another member", staysLyon)
			_ = stays
		})
	}
}
