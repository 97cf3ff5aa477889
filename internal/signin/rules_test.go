package signin_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Ten wrong passwords in a row lock the username, the right one included,
// until the lock ends; a password reset link works once. Through the use cases
// alone, on both databases.
func TestSignInRules(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			e.Person(t, site.ID, "ann@example.com", gatehouse.LevelClientUser)

			if res, err := e.SignIn.SignIn(ctx, "192.0.2.9", "", "ann@example.com", servicetest.Password); err != nil || res.Session == nil {
				t.Fatalf("the right password: %v %+v", err, res)
			}
			for i := range 10 {
				if _, err := e.SignIn.SignIn(ctx, "192.0.2.9", "", "ann@example.com", "not the password"); servicetest.Code(err) != gatehouse.EUNAUTHENTICATED {
					t.Fatalf("wrong password %d: %v", i+1, err)
				}
			}
			if _, err := e.SignIn.SignIn(ctx, "192.0.2.9", "", "ann@example.com", servicetest.Password); servicetest.Code(err) != gatehouse.ERATELIMITED {
				t.Errorf("the right password while locked: %v, want rate_limited", err)
			}
			e.Clock.Advance(6 * time.Minute)
			if res, err := e.SignIn.SignIn(ctx, "192.0.2.9", "", "ann@example.com", servicetest.Password); err != nil || res.Session == nil {
				t.Errorf("the right password once the lock ended: %v", err)
			}

			if err := e.SignIn.RequestPasswordReset(ctx, "192.0.2.9", "", "ann@example.com"); err != nil {
				t.Fatal(err)
			}
			links := e.Links(t, "ann@example.com", "/reset-password?token=")
			if len(links) != 1 {
				t.Fatalf("%d reset links mailed, want 1", len(links))
			}
			if _, err := e.SignIn.ResetPassword(ctx, "192.0.2.9", "", links[0], "a brand new passphrase"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.SignIn.ResetPassword(ctx, "192.0.2.9", "", links[0], "another new passphrase"); err == nil {
				t.Error("a reset link worked twice")
			}
			if _, err := e.SignIn.SignIn(ctx, "192.0.2.9", "", "ann@example.com", "a brand new passphrase"); err != nil {
				t.Errorf("the new password: %v", err)
			}
		})
	}
}
