package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Failed sign-ins count per subject, forget what is older than the window,
// lock at the limit and start counting again (R-S3).
func testSignInFailures(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	count := func(subject string, at time.Time, window time.Duration) bool {
		t.Helper()
		var locked bool
		write(t, s, func(tx gatehouse.Tx) error {
			var err error
			_, locked, err = tx.CountSignInFailure(ctx, subject, at, window, 3, time.Minute)
			return err
		})
		return locked
	}
	lockedUntil := func(at time.Time, subjects ...string) time.Time {
		t.Helper()
		until, err := s.SignInLockedUntil(ctx, subjects, at)
		if err != nil {
			t.Fatal(err)
		}
		return until
	}
	var n int
	write(t, s, func(tx gatehouse.Tx) error {
		var err error
		n, _, err = tx.CountSignInFailure(ctx, "username:carl", t0, 0, 3, time.Minute)
		return err
	})
	if n != 1 {
		t.Errorf("a first failure counts %d", n)
	}
	if count("username:ann", t0, 0) || count("username:ann", t0, 0) {
		t.Fatal("locked before the limit")
	}
	if !count("username:ann", t0, 0) {
		t.Fatal("not locked at the limit")
	}
	if got := lockedUntil(t0, "username:ann", "source:1.2.3.4"); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("locked until %v", got)
	}
	if got := lockedUntil(t0.Add(time.Minute), "username:ann"); !got.IsZero() {
		t.Errorf("still locked when the lock ended: %v", got)
	}
	if !lockedUntil(t0, "username:bob").IsZero() {
		t.Errorf("another subject is locked")
	}
	// After the lock the count starts again.
	if count("username:ann", t0.Add(2*time.Minute), 0) {
		t.Errorf("locked again at once")
	}
	// A window forgets older failures.
	count("source:1.2.3.4", t0, time.Minute)
	count("source:1.2.3.4", t0, time.Minute)
	if count("source:1.2.3.4", t0.Add(2*time.Minute), time.Minute) {
		t.Errorf("failures older than the window counted")
	}
	write(t, s, func(tx gatehouse.Tx) error { return tx.ClearSignInFailures(ctx, "username:ann") })
	if count("username:ann", t0.Add(3*time.Minute), 0) || count("username:ann", t0.Add(3*time.Minute), 0) {
		t.Errorf("the count survived clearing")
	}
}
