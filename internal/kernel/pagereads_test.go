package kernel_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// countingReader is one client account, with what each person holds over
// it; it counts the reads the policy's questions make.
type countingReader struct {
	outsideTransaction bool
	account            gatehouse.Account
	levels             map[string]gatehouse.Level
	accountReads       int
	accessReads        int
}

func (r *countingReader) Account(_ context.Context, id string) (gatehouse.Account, error) {
	r.accountReads++
	if id != r.account.ID {
		return gatehouse.Account{}, gatehouse.NotFound("account")
	}
	return r.account, nil
}

func (r *countingReader) AccessTo(_ context.Context, p gatehouse.Principal, _ gatehouse.Account, _ time.Time) (gatehouse.Access, error) {
	r.accessReads++
	return gatehouse.Access{Level: r.levels[p.UserID]}, nil
}

func (r *countingReader) MembershipsOf(context.Context, string, time.Time) ([]gatehouse.MembershipSummary, error) {
	return nil, nil
}

func (r *countingReader) Brand(context.Context, string) (gatehouse.Brand, error) {
	return gatehouse.Brand{}, gatehouse.NotFound("brand")
}

func (r *countingReader) BrandsOver(context.Context, string) ([]gatehouse.Brand, error) {
	return nil, nil
}

func (r *countingReader) OutsideTransaction() bool { return r.outsideTransaction }

func personCaller(userID string) gatehouse.Caller {
	return gatehouse.Caller{Principal: gatehouse.Principal{UserID: userID, SessionID: "session of " + userID}}
}

func TestOnePageReadsTheAccountAndTheCallersAccessOnce(t *testing.T) {
	k := kernel.New(kernel.Options{Clock: gatehouse.SystemClock{}})
	newReader := func(outsideTransaction bool) *countingReader {
		return &countingReader{outsideTransaction: outsideTransaction, account: gatehouse.Account{ID: "site", Kind: gatehouse.KindClient},
			levels: map[string]gatehouse.Level{"admin": gatehouse.LevelClientAdmin, "user": gatehouse.LevelClientUser}}
	}
	admin, user, stranger := personCaller("admin"), personCaller("user"), personCaller("stranger")
	ask := func(t *testing.T, ctx context.Context, r kernel.Reader, c gatehouse.Caller, act policy.Action) error {
		t.Helper()
		_, err := k.Authorize(ctx, r, c, "site", act)
		return err
	}

	t.Run("a page's questions share the reads", func(t *testing.T) {
		r := newReader(true)
		ctx := kernel.ShareReads(context.Background(), admin.Principal)
		for range 3 {
			if err := ask(t, ctx, r, admin, policy.ReadMembers); err != nil {
				t.Fatalf("an administrator reading the members: %v", err)
			}
		}
		if r.accountReads != 1 || r.accessReads != 1 {
			t.Errorf("three questions read the account %d times and the access %d times, want once each", r.accountReads, r.accessReads)
		}
	})

	t.Run("what is shared are facts, not answers", func(t *testing.T) {
		r := newReader(true)
		ctx := kernel.ShareReads(context.Background(), user.Principal)
		if err := ask(t, ctx, r, user, policy.ReadAccount); err != nil {
			t.Fatalf("a client user reading their account: %v", err)
		}
		for range 2 {
			if err := ask(t, ctx, r, user, policy.ReadMembers); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
				t.Fatalf("a client user reading the members: %v, want forbidden", err)
			}
		}
		if r.accessReads != 1 {
			t.Errorf("the access was read %d times, want once", r.accessReads)
		}
	})

	t.Run("another principal reads for itself", func(t *testing.T) {
		r := newReader(true)
		ctx := kernel.ShareReads(context.Background(), admin.Principal)
		if err := ask(t, ctx, r, admin, policy.ReadMembers); err != nil {
			t.Fatal(err)
		}
		if err := ask(t, ctx, r, stranger, policy.ReadMembers); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("a stranger asking in a context shared for an administrator: %v, want not found", err)
		}
		// The same person through another session (a token, say) is
		// another principal too.
		other := admin
		other.Principal.SessionID, other.Principal.ScopeAccountID = "", "site"
		if err := ask(t, ctx, r, other, policy.ReadMembers); err != nil {
			t.Fatal(err)
		}
		if r.accessReads != 3 {
			t.Errorf("the access was read %d times for three principals, want 3", r.accessReads)
		}
	})

	t.Run("a transaction reads for itself", func(t *testing.T) {
		r := newReader(false)
		ctx := kernel.ShareReads(context.Background(), admin.Principal)
		for range 2 {
			if err := ask(t, ctx, r, admin, policy.ReadMembers); err != nil {
				t.Fatal(err)
			}
		}
		if r.accountReads != 2 || r.accessReads != 2 {
			t.Errorf("a transaction's two questions read the account %d times and the access %d times, want twice each", r.accountReads, r.accessReads)
		}
	})

	t.Run("without a shared context every question reads", func(t *testing.T) {
		r := newReader(true)
		for range 2 {
			if err := ask(t, context.Background(), r, admin, policy.ReadMembers); err != nil {
				t.Fatal(err)
			}
		}
		if r.accessReads != 2 {
			t.Errorf("two requests read the access %d times, want twice", r.accessReads)
		}
	})

	t.Run("an account not found is not remembered", func(t *testing.T) {
		r := newReader(true)
		ctx := kernel.ShareReads(context.Background(), admin.Principal)
		for range 2 {
			if _, err := k.Authorize(ctx, r, admin, "elsewhere", policy.ReadMembers); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Fatalf("an unknown account: %v, want not found", err)
			}
		}
		if r.accountReads != 2 {
			t.Errorf("an unknown account was read %d times, want twice", r.accountReads)
		}
	})
}
