package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Failed sign-ins count per subject, forget what is older than the window,
// lock at the limit and start counting again (R-S3).
func testSignInFailures(t *testing.T, s *store.DB) {
	ctx := context.Background()
	count := func(subject string, at time.Time, window time.Duration) bool {
		t.Helper()
		var locked bool
		write(t, s, func(tx *store.WriteTx) error {
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
	write(t, s, func(tx *store.WriteTx) error {
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
	write(t, s, func(tx *store.WriteTx) error { return tx.ClearSignInFailures(ctx, "username:ann") })
	if count("username:ann", t0.Add(3*time.Minute), 0) || count("username:ann", t0.Add(3*time.Minute), 0) {
		t.Errorf("the count survived clearing")
	}
}

// PurgeExpired removes what can never be used again and nothing else: a
// live session, challenge and username link stay, ended ones go; a
// username's run of failures stays until it ends.
func testPurgeExpired(t *testing.T, s *store.DB) {
	ctx := context.Background()
	user := gatehouse.User{ID: newID(), Username: "purge@example.com", Language: "en", Status: gatehouse.UserActive, CreatedAt: t0}
	old, live := t0.Add(-2*time.Hour), t0.Add(time.Hour)
	write(t, s, func(tx *store.WriteTx) error {
		if err := tx.InsertUser(ctx, user); err != nil {
			return err
		}
		for i, ends := range []time.Time{old, live} {
			if err := tx.InsertSession(ctx, gatehouse.Session{ID: newID(), UserID: user.ID, Hash: []byte{byte(i), 1}, CreatedAt: old,
				ExpiresAt: ends, LastSeenAt: old}); err != nil {
				return err
			}
			if err := tx.InsertMFAChallenge(ctx, gatehouse.MFAChallenge{ID: newID(), Hash: []byte{byte(i), 2}, UserID: user.ID,
				Kind: gatehouse.ChallengeVerify, Method: gatehouse.MFATOTP, ExpiresAt: ends}); err != nil {
				return err
			}
			if err := tx.InsertUsernameChange(ctx, gatehouse.UsernameChange{ID: newID(), UserID: user.ID, NewUsername: "new@example.com",
				TokenHash: []byte{byte(i), 3}, CreatedAt: old, ExpiresAt: ends}); err != nil {
				return err
			}
		}
		if _, _, err := tx.CountSignInFailure(ctx, "username:purge@example.com", old, 0, 10, time.Minute); err != nil {
			return err
		}
		_, _, err := tx.CountSignInFailure(ctx, "source:10.0.0.1", old, time.Minute, 300, time.Minute)
		return err
	})
	write(t, s, func(tx *store.WriteTx) error { return tx.PurgeExpired(ctx, t0) })
	for i, want := range []string{gatehouse.ENOTFOUND, ""} {
		if _, err := s.SessionByHash(ctx, []byte{byte(i), 1}); gatehouse.ErrorCode(err) != want {
			t.Errorf("session %d after the purge: %v", i, err)
		}
		if _, err := s.MFAChallengeByHash(ctx, []byte{byte(i), 2}); gatehouse.ErrorCode(err) != want {
			t.Errorf("challenge %d after the purge: %v", i, err)
		}
	}
	write(t, s, func(tx *store.WriteTx) error {
		if _, err := tx.UseUsernameChange(ctx, []byte{1, 3}, t0); err != nil {
			t.Errorf("the live username link after the purge: %v", err)
		}
		// The username's run goes on: this is its second failure.
		n, _, err := tx.CountSignInFailure(ctx, "username:purge@example.com", t0, 0, 10, time.Minute)
		if n != 2 {
			t.Errorf("a username's run after the purge counts %d, want 2", n)
		}
		return err
	})
}

// Every single-use secret of sign-in works once however many requests race
// for it: a provider trip's state, a recovery code, a username-change link;
// and an SMS challenge is re-sent once per throttle window. Each is one
// guarded statement, so the database decides (R-S2, R-U4, R-U5).
func testSignInSecretsWorkOnce(t *testing.T, s *store.DB) {
	ctx := context.Background()
	user := gatehouse.User{ID: newID(), Username: "once@example.com", Language: "en", Status: gatehouse.UserActive, CreatedAt: t0}
	provider := gatehouse.IdentityProvider{ID: newID(), Name: "SSO", Issuer: "https://idp.example.com", ClientID: "gh",
		ClientSecret: "sealed", CreatedBy: "op", CreatedAt: t0}
	challenge := gatehouse.MFAChallenge{ID: newID(), Hash: []byte("sms-challenge"), UserID: user.ID, Kind: gatehouse.ChallengeVerify,
		Method: gatehouse.MFASMS, CodeHash: []byte("code-1"), Phone: "+33612345678", Sends: 1, LastSentAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	write(t, s, func(tx *store.WriteTx) error {
		for _, err := range []error{
			tx.InsertUser(ctx, user),
			tx.InsertIdentityProvider(ctx, provider),
			tx.InsertOIDCLogin(ctx, gatehouse.OIDCLogin{ID: newID(), StateHash: []byte("state"), ProviderID: provider.ID,
				Verifier: "v", Nonce: "n", ExpiresAt: t0.Add(10 * time.Minute)}),
			tx.ReplaceRecoveryCodes(ctx, user.ID, [][]byte{[]byte("recovery-1"), []byte("recovery-2")}),
			tx.InsertUsernameChange(ctx, gatehouse.UsernameChange{ID: newID(), UserID: user.ID, NewUsername: "twice@example.com",
				TokenHash: []byte("link"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}),
			tx.InsertMFAChallenge(ctx, challenge),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	race := func(name string, use func(tx *store.WriteTx) error) {
		t.Helper()
		const n = 12
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			successes int
		)
		for range n {
			wg.Go(func() {
				err := s.Write(ctx, use)
				if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
					t.Errorf("%s: %v", name, err)
				}
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					successes++
				}
			})
		}
		wg.Wait()
		if successes != 1 {
			t.Errorf("%s: %d of %d racing requests succeeded, want 1", name, successes, n)
		}
	}
	now := t0.Add(time.Minute)
	race("provider state", func(tx *store.WriteTx) error { _, err := tx.UseOIDCLogin(ctx, []byte("state"), now); return err })
	race("recovery code", func(tx *store.WriteTx) error { return tx.UseRecoveryCode(ctx, user.ID, []byte("recovery-1"), now) })
	race("username link", func(tx *store.WriteTx) error { _, err := tx.UseUsernameChange(ctx, []byte("link"), now); return err })
	race("SMS resend", func(tx *store.WriteTx) error {
		return tx.ResendSMSCode(ctx, challenge.ID, []byte("code-2"), now, now.Add(-30*time.Second), 5)
	})
	if left, err := s.RecoveryCodesLeft(ctx, user.ID); err != nil || left != 1 {
		t.Errorf("recovery codes left %d, %v; want 1", left, err)
	}
	if got, _ := s.MFAChallengeByHash(ctx, challenge.Hash); got.Sends != 2 || string(got.CodeHash) != "code-2" || !got.LastSentAt.Equal(now) {
		t.Errorf("challenge after the resends: %d sends, code %q, last at %v", got.Sends, got.CodeHash, got.LastSentAt)
	}
	// Binding: a subject belongs to one identity of a provider.
	other := gatehouse.User{ID: newID(), Username: "other@example.com", Language: "en", Status: gatehouse.UserPending,
		IdentityProviderID: provider.ID, CreatedAt: t0}
	mine := gatehouse.User{ID: newID(), Username: "mine@example.com", Language: "en", Status: gatehouse.UserPending,
		IdentityProviderID: provider.ID, CreatedAt: t0}
	write(t, s, func(tx *store.WriteTx) error {
		if err := tx.InsertUser(ctx, other); err != nil {
			return err
		}
		if err := tx.InsertUser(ctx, mine); err != nil {
			return err
		}
		return tx.BindProviderSubject(ctx, other.ID, provider.ID, "subject-1")
	})
	err := s.Write(ctx, func(tx *store.WriteTx) error { return tx.BindProviderSubject(ctx, mine.ID, provider.ID, "subject-1") })
	if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Errorf("binding a subject bound to another identity: %v, want conflict", err)
	}
	err = s.Write(ctx, func(tx *store.WriteTx) error { return tx.BindProviderSubject(ctx, other.ID, provider.ID, "subject-2") })
	if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("binding an identity bound to another subject: %v, want not found", err)
	}
	if got, err := s.UserByProviderSubject(ctx, provider.ID, "subject-1"); err != nil || got.ID != other.ID {
		t.Errorf("the identity of subject-1: %v %v", got.ID, err)
	}
}
