package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The sealed secrets a reseal walks: columns that hold one (not the empty
// ones), with the id their context names, a page at a time; short-lived
// rows only while they can be used. A secret is replaced only if it is
// still what was read, so that one a node changed meanwhile stays.
func TestSealedValues(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := b.Open(t)
			now := time.Now()
			exec := func(query string, args ...any) {
				t.Helper()
				if _, err := writePool(db).Exec(query, args...); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range []struct{ id, secret string }{{"p1", "v1:one"}, {"p2", "v1:two"}} {
				exec(`INSERT INTO identity_providers (id, name, issuer, client_id, client_secret, created_by, created_at)
					VALUES ($1, $1, 'https://idp.example', 'gatehouse', $2, 'op', 0)`, p.id, p.secret)
			}
			later, earlier := now.Add(time.Minute).UnixMicro(), now.Add(-time.Minute).UnixMicro()
			exec(`INSERT INTO oidc_logins (id, state_hash, provider_id, verifier, nonce, expires_at) VALUES ('live', $1, 'p2', 'v1:verifier', 'v1:nonce', $2)`,
				[]byte("state-1"), later)
			exec(`INSERT INTO oidc_logins (id, state_hash, provider_id, verifier, nonce, expires_at) VALUES ('expired', $1, 'p1', 'v1:old', 'v1:old', $2)`,
				[]byte("state-2"), earlier)
			exec(`INSERT INTO oidc_logins (id, state_hash, provider_id, verifier, nonce, expires_at, used_at) VALUES ('used', $1, 'p1', 'v1:old', 'v1:old', $2, $3)`,
				[]byte("state-3"), later, earlier)

			first, err := db.SealedValues(ctx, store.SealedProviderSecret, "", 1, now)
			if err != nil || len(first) != 1 || first[0] != (store.SealedValue{Kind: store.SealedProviderSecret, RowID: "p1", Owner: "p1", Sealed: "v1:one"}) {
				t.Fatalf("first page: %+v, %v", first, err)
			}
			second, err := db.SealedValues(ctx, store.SealedProviderSecret, "p1", 1, now)
			if err != nil || len(second) != 1 || second[0].RowID != "p2" {
				t.Fatalf("second page: %+v, %v", second, err)
			}
			trips, err := db.SealedValues(ctx, store.SealedLoginVerifier, "", 10, now)
			if err != nil || len(trips) != 1 || trips[0].RowID != "live" || trips[0].Owner != "p2" || trips[0].Sealed != "v1:verifier" {
				t.Errorf("trips to a provider: %+v, %v, want the live one alone, owned by its provider", trips, err)
			}
			if totp, err := db.SealedValues(ctx, store.SealedTOTP, "", 10, now); err != nil || len(totp) != 0 {
				t.Errorf("authenticator keys of a database without any: %+v, %v", totp, err)
			}

			var replaced, stale bool
			err = db.Write(ctx, func(tx *store.WriteTx) error {
				var err error
				if replaced, err = tx.ResealValue(ctx, first[0], "v1:one-again"); err != nil {
					return err
				}
				stale, err = tx.ResealValue(ctx, first[0], "v1:lost")
				return err
			})
			if err != nil || !replaced || stale {
				t.Errorf("reseal: replaced %v, then over a changed value %v (%v)", replaced, stale, err)
			}
			if after, _ := db.SealedValues(ctx, store.SealedProviderSecret, "", 1, now); len(after) != 1 || after[0].Sealed != "v1:one-again" {
				t.Errorf("after the reseal: %+v", after)
			}
		})
	}
}
