package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/oidcprovider"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// kidOf reads the key id in a JWT's header.
func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	header, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatalf("not a JWT: %q", jwt)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(header, &h)
	return h.Kid
}

// publishedKids lists the key ids of the JWKS, in order.
func publishedKids(t *testing.T, e *apitest.Env) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if r := e.Do(t, "GET", "/oauth2/keys", "", nil); r.Status != 200 || json.Unmarshal([]byte(r.Raw), &set) != nil {
		t.Fatalf("JWKS: %d %s", r.Status, r.Raw)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// Signing keys rotate: a forced rotation makes a new key that signs the
// next tokens while the old one stays in the JWKS, so that the tokens it
// signed still verify with go-oidc, until they have all expired; then it
// leaves the JWKS. The schedule rotates by itself after the rotation period.
func TestOpenIDProviderKeyRotation(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			created := e.Must(t, 201, "POST", "/api/v1/oidc-clients", apitest.OperatorToken,
				map[string]any{"name": "Stock sync", "type": "service", "account_id": lyon})
			ctx := relyingParty(t, e)
			provider, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			config := clientcredentials.Config{ClientID: created.String("client_id"), ClientSecret: created.String("client_secret"),
				TokenURL: provider.Endpoint().TokenURL}
			newToken := func() string {
				t.Helper()
				token, err := config.Token(ctx)
				if err != nil {
					t.Fatalf("client credentials: %v", err)
				}
				return token.AccessToken
			}
			// A fresh key set each time: go-oidc caches the keys it fetched.
			verifies := func(jwt string) bool {
				_, err := oidc.NewRemoteKeySet(ctx, issuer+"/oauth2/keys").VerifySignature(ctx, jwt)
				return err == nil
			}

			old := newToken()
			oldKid := kidOf(t, old)
			if kids := publishedKids(t, e); len(kids) != 1 || kids[0] != oldKid || !verifies(old) {
				t.Fatalf("before rotation: JWKS %v, token signed by %q", kids, oldKid)
			}

			newKid, err := e.Services.OIDC.RotateKeys(context.Background())
			if err != nil || newKid == "" || newKid == oldKid {
				t.Fatalf("rotate: %q %v", newKid, err)
			}
			if kids := publishedKids(t, e); len(kids) != 2 || kids[0] != newKid || kids[1] != oldKid {
				t.Errorf("after rotation the JWKS has %v, want [%s %s]", kids, newKid, oldKid)
			}
			if !verifies(old) {
				t.Error("a token the old key signed no longer verifies after the rotation")
			}
			fresh := newToken()
			if kidOf(t, fresh) != newKid || !verifies(fresh) {
				t.Errorf("a new token is signed by %q, want %q", kidOf(t, fresh), newKid)
			}
			if got := introspect(t, e, config.ClientID, config.ClientSecret, old); got["active"] != true {
				t.Errorf("introspecting a token of the old key after rotation: %v", got)
			}

			// Once every token the old key signed has expired, it is gone.
			e.Clock.Advance(oidcprovider.SignedTokenLifetime - time.Minute)
			if kids := publishedKids(t, e); len(kids) != 2 {
				t.Errorf("before the old key's tokens expired the JWKS has %v", kids)
			}
			e.Clock.Advance(time.Minute)
			if kids := publishedKids(t, e); len(kids) != 1 || kids[0] != newKid {
				t.Errorf("after the old key's tokens expired the JWKS has %v, want [%s]", kids, newKid)
			}
			if verifies(old) {
				t.Error("a token of the dropped key still verifies")
			}

			// The schedule: after the rotation period, the next token is
			// signed by a key made for it.
			e.Clock.Advance(oidcprovider.DefaultKeyRotation)
			third := newToken()
			if kid := kidOf(t, third); kid == newKid || !verifies(third) {
				t.Errorf("after the rotation period a token is signed by %q still", kid)
			}
			if kids := publishedKids(t, e); len(kids) != 2 || kids[0] != kidOf(t, third) || kids[1] != newKid {
				t.Errorf("after the scheduled rotation the JWKS has %v", kids)
			}
		})
	}
}
