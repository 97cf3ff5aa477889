package httpapi_test

import (
	"context"
	"crypto/rand"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/ops"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func randomKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

// withKeys configures a node with the server key and, while it is being
// replaced, the previous one (nil: none).
func withKeys(key, previous []byte) func(*service.Options) {
	return func(o *service.Options) {
		o.SecretKey, o.PreviousSecretKey, o.WebhooksAllowLoopback = key, previous, true
	}
}

// sealedSecrets reads every sealed secret of the database, by kind.
func sealedSecrets(t *testing.T, db *store.DB, now time.Time) map[store.SealedKind][]store.SealedValue {
	t.Helper()
	out := map[store.SealedKind][]store.SealedValue{}
	for _, kind := range store.SealedKinds() {
		values, err := db.SealedValues(context.Background(), kind, "", 1000, now)
		if err != nil {
			t.Fatal(err)
		}
		out[kind] = values
	}
	return out
}

// The server key is replaced while nodes serve: every secret sealed with
// the old key (an enrolled authenticator, one being enrolled, a webhook's
// secret and the one it replaced, an identity provider's client secret, a
// trip to that provider, a remote monitoring password, an OpenID signing
// key) is sealed again with the new key, and a node given the new key alone
// then serves them all, while one with the old key alone opens none. A
// wrong previous key is refused before anything is written; a second
// reseal changes nothing.
func TestResealWithNewServerKey(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			oldKey, newKey := randomKey(t), randomKey(t)
			old := apitest.StartWith(t, b, withKeys(oldKey, nil))
			integrator := old.CreateAccount(t, "integrator", "Acme", "")
			site := old.CreateAccount(t, "client", "Site", integrator)

			activeUser(t, old, site, "careful@example.com", "client_user")
			careful := session(t, old, "careful@example.com")
			start := old.Must(t, 200, "POST", "/api/v1/me/mfa/totp", careful, nil)
			totpSecret := start.String("totp_secret")
			old.Must(t, 204, "POST", "/api/v1/me/mfa/totp/confirm", careful,
				map[string]string{"challenge": start.String("challenge"), "code": code(t, old, totpSecret, old.Clock.Now())})
			activeUser(t, old, site, "halfway@example.com", "client_user")
			halfway := session(t, old, "halfway@example.com")
			pending := old.Must(t, 200, "POST", "/api/v1/me/mfa/totp", halfway, nil)

			rec := newHookReceiver(t)
			admin, _ := old.Member(t, site, gatehouse.LevelClientAdmin)
			hook := old.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/webhooks", admin, map[string]any{"url": rec.URL, "event_types": []string{"*"}})
			hookPath := "/api/v1/accounts/" + site + "/webhooks/" + hook.String("id")
			hookSecret := old.Must(t, 200, "POST", hookPath+"/rotate-secret", admin, nil).String("secret")
			replacedHookSecret := hook.String("secret")

			issuer := startProvider(t, map[string]string{"sub-ann": "ann@idp.example"})
			provider := old.Must(t, 201, "POST", "/api/v1/identity-providers", op,
				map[string]any{"name": "Acme SSO", "issuer": issuer, "client_id": "gatehouse", "client_secret": "provider client secret"}).String("id")
			if _, err := old.Services.SignIn.StartProviderSignIn(ctx, provider, ""); err != nil {
				t.Fatal(err)
			}

			monitoring := "/api/v1/accounts/" + site + "/remote-monitoring-user"
			old.Must(t, 201, "POST", monitoring, op, map[string]string{"description": "Night watch"})
			password := parseDetails(t, string(old.Must(t, 200, "GET", monitoring+"/connection-details", op, nil).Raw))["Password"]

			if _, err := old.Services.OIDC.RotateKeys(ctx); err != nil {
				t.Fatal(err)
			}

			// Every node is given the new key and the old one: it opens
			// what the old key sealed.
			rolled := apitest.Serve(t, old.Store, old.DatabaseURL, withKeys(newKey, oldKey))
			if got := parseDetails(t, string(rolled.Must(t, 200, "GET", monitoring+"/connection-details", op, nil).Raw))["Password"]; got != password {
				t.Errorf("a node with both keys reads the password %q, want %q", got, password)
			}

			before := sealedSecrets(t, old.Store, old.Clock.Now())
			for kind, values := range before {
				if len(values) == 0 && kind != store.SealedSigningKeyRSA {
					t.Errorf("no sealed %s to reseal: the test makes too little", kind)
				}
			}
			now := func() time.Time { return old.Clock.Now() }
			if _, err := ops.Reseal(ctx, old.Store, ops.ResealOptions{Key: newKey, Previous: randomKey(t), Now: now}); !errors.Is(err, ops.ErrWrongKey) {
				t.Fatalf("a wrong previous key: %v, want ErrWrongKey", err)
			}
			if after := sealedSecrets(t, old.Store, old.Clock.Now()); !reflect.DeepEqual(after, before) {
				t.Fatal("a reseal refused for a wrong previous key wrote")
			}

			counts, err := ops.Reseal(ctx, old.Store, ops.ResealOptions{Key: newKey, Previous: oldKey, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range counts {
				if c.Resealed != len(before[c.Kind]) || c.Already != 0 {
					t.Errorf("%s: %d resealed and %d already with the new key, want %d and 0", c.Kind, c.Resealed, c.Already, len(before[c.Kind]))
				}
			}
			resealed := sealedSecrets(t, old.Store, old.Clock.Now())
			again, err := ops.Reseal(ctx, old.Store, ops.ResealOptions{Key: newKey, Previous: oldKey, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range again {
				if c.Resealed != 0 || c.Already != len(before[c.Kind]) {
					t.Errorf("a second reseal, %s: %d resealed and %d already, want 0 and %d", c.Kind, c.Resealed, c.Already, len(before[c.Kind]))
				}
			}
			if !reflect.DeepEqual(sealedSecrets(t, old.Store, old.Clock.Now()), resealed) {
				t.Error("a second reseal wrote")
			}

			// The previous key is dropped: a node with the new key alone.
			fresh := apitest.Serve(t, old.Store, old.DatabaseURL, withKeys(newKey, nil))
			fresh.Clock.Advance(time.Minute) // past the time step careful's code was used at
			in := signIn(fresh, t, "careful@example.com", goodPassword)
			if in.Status != 200 || in.Body["mfa_required"] != true {
				t.Fatalf("sign-in with an authenticator: %d %s", in.Status, in.Raw)
			}
			if s := answer(t, fresh, in.String("challenge"), code(t, fresh, totpSecret, fresh.Clock.Now())); s.Status != 201 || s.String("token") == "" {
				t.Errorf("the authenticator's code, on a node with the new key alone: %d %s", s.Status, s.Raw)
			}
			fresh.Must(t, 204, "POST", "/api/v1/me/mfa/totp/confirm", halfway,
				map[string]string{"challenge": pending.String("challenge"), "code": code(t, fresh, pending.String("totp_secret"), fresh.Clock.Now())})

			fresh.Must(t, 202, "POST", hookPath+"/ping", admin, nil)
			deliverHooks(t, fresh)
			got := rec.take()
			if len(got) == 0 || !verifies(got[len(got)-1], hookSecret) || !verifies(got[len(got)-1], replacedHookSecret) {
				t.Errorf("the ping is not signed with the webhook's secret and the one it replaced: %+v", got)
			}
			if got := parseDetails(t, string(fresh.Must(t, 200, "GET", monitoring+"/connection-details", op, nil).Raw))["Password"]; got != password {
				t.Errorf("the remote monitoring password reads %q, want %q", got, password)
			}
			if _, err := fresh.Services.SignIn.StartProviderSignIn(ctx, provider, ""); err != nil {
				t.Errorf("a trip to the identity provider (its client secret opened): %v", err)
			}
			if _, err := fresh.Services.OIDC.LogoutToken(ctx, "an-app", "a-subject", "jti-1"); err != nil {
				t.Errorf("signing with the OpenID signing key: %v", err)
			}

			// A node left with the old key alone opens none of it.
			stale := apitest.Serve(t, old.Store, old.DatabaseURL, withKeys(oldKey, nil))
			if r := stale.Do(t, "GET", monitoring+"/connection-details", op, nil); r.Status == 200 {
				t.Error("a node with the old key alone read the remote monitoring password")
			}
			if _, err := stale.Services.SignIn.StartProviderSignIn(ctx, provider, ""); err == nil {
				t.Error("a node with the old key alone opened the identity provider's client secret")
			}
			if _, err := stale.Services.OIDC.LogoutToken(ctx, "an-app", "a-subject", "jti-2"); err == nil {
				t.Error("a node with the old key alone opened the OpenID signing key")
			}
		})
	}
}
