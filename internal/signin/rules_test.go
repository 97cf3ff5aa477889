package signin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service/servicetest"
	"github.com/gatehouse/gatehouse/internal/signin"
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

// A mistyped code while enrolling an authenticator keeps the key: the
// refusal comes with a new challenge for the same secret, which the right
// code then answers; the used challenge stays used, and past the first
// challenge's deadline there is no retry.
func TestEnrollmentRetryKeepsTheKey(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := servicetest.Start(t, b)
			ctx := context.Background()
			acme := e.Account(t, gatehouse.KindIntegrator, "Acme", "")
			site := e.Account(t, gatehouse.KindClient, "Lyon", acme.ID)
			e.Person(t, site.ID, "boss@example.com", gatehouse.LevelClientAdmin)

			first, err := e.SignIn.SignIn(ctx, "192.0.2.9", "", "boss@example.com", servicetest.Password)
			if err != nil || !first.Enroll {
				t.Fatalf("an administrator's first sign-in: %v %+v", err, first)
			}
			_, err = e.SignIn.CompleteMFA(ctx, "192.0.2.9", "", first.Challenge, "000000")
			var retry *signin.EnrollmentRetry
			if !errors.As(err, &retry) || servicetest.Code(err) != gatehouse.EUNAUTHENTICATED {
				t.Fatalf("a wrong enrollment code: %v, want a retry that is a 401", err)
			}
			if retry.Retry.TOTPSecret != first.TOTPSecret || retry.Retry.Challenge == first.Challenge {
				t.Fatal("the retry changed the key, or kept the used challenge")
			}
			code, _ := totp.GenerateCode(first.TOTPSecret, e.Clock.Now())
			if _, err := e.SignIn.CompleteMFA(ctx, "192.0.2.9", "", first.Challenge, code); err == nil {
				t.Error("the used challenge answered")
			}
			if s, err := e.SignIn.CompleteMFA(ctx, "192.0.2.9", "", retry.Retry.Challenge, code); err != nil || s == nil {
				t.Fatalf("the right code for the same key: %v", err)
			}

			// Past the first deadline, a wrong code ends the enrollment.
			e.Person(t, site.ID, "late@example.com", gatehouse.LevelClientAdmin)
			late, _ := e.SignIn.SignIn(ctx, "192.0.2.9", "", "late@example.com", servicetest.Password)
			e.Clock.Advance(signin.ChallengeLifetime + time.Second)
			if _, err := e.SignIn.CompleteMFA(ctx, "192.0.2.9", "", late.Challenge, "000000"); errors.As(err, &retry) {
				t.Error("an expired enrollment earned a retry")
			}
		})
	}
}
