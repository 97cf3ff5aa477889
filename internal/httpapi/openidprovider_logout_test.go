package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
