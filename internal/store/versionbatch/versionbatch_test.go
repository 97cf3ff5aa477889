package versionbatch

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// A caller is never given a version read by a query that began before it
// arrived: with every slot busy, a caller that arrives waits for a read that
// starts after it, even though reads already under way ask for its account.
func TestAReadUnderWayIsNeverShared(t *testing.T) {
	var (
		version atomic.Int64 // what the database holds; a read sees its value when it begins
		began   = make(chan struct{}, 100)
		release = make(chan struct{})
	)
	reads := New(func(ctx context.Context, ids, _ []string) (Answer, error) {
		seen := version.Load()
		began <- struct{}{}
		<-release
		out := map[string]gatehouse.AuthzVersion{}
		for _, id := range ids {
			out[id] = gatehouse.AuthzVersion{Own: seen}
		}
		return Answer{Versions: out}, nil
	})
	// MaxInFlight checks start reads, which all see version 0.
	var early sync.WaitGroup
	for range MaxInFlight {
		early.Go(func() {
			if v, err := reads.Get(context.Background(), "a", ""); err != nil || v.Own != 0 {
				t.Errorf("an early check: %+v %v", v, err)
			}
		})
		<-began
	}
	// A change commits, then more checks arrive: they must see it.
	version.Store(1)
	late := make(chan gatehouse.AuthzVersion, 10)
	var lateDone sync.WaitGroup
	for i := range 10 {
		lateDone.Go(func() {
			v, err := reads.Get(context.Background(), fmt.Sprintf("a%d", i), "")
			if err != nil {
				t.Error(err)
			}
			late <- v
		})
	}
	// Let the late callers queue before the early reads end.
	for reads.waiting() < 10 {
		runtime.Gosched()
	}
	close(release)
	early.Wait()
	lateDone.Wait()
	close(late)
	for v := range late {
		if v.Own != 1 {
			t.Errorf("a check that began after the change was given version %d", v.Own)
		}
	}
	// The ten late callers shared one read.
	if n := len(began); n != 1 {
		t.Errorf("%d reads for the late callers, want 1", n)
	}
}

// waiting tells how many accounts the next batch asks for.
func (r *Reads) waiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == nil {
		return 0
	}
	return len(r.next.accounts.list)
}

// Many concurrent callers over many accounts each get their own account's
// version, an unknown account is ENOTFOUND, and a failed read fails the
// callers that shared it.
func TestManyCallersGetTheirOwnAccounts(t *testing.T) {
	var calls atomic.Int64
	var healed atomic.Bool // once set, the database answers every read
	reads := New(func(ctx context.Context, ids, _ []string) (Answer, error) {
		runtime.Gosched() // a round trip: other callers arrive meanwhile
		if calls.Add(1)%50 == 0 && !healed.Load() {
			return Answer{}, fmt.Errorf("connection lost")
		}
		out := map[string]gatehouse.AuthzVersion{}
		for _, id := range ids {
			if id != "gone" {
				var n int64
				fmt.Sscanf(id, "acct-%d", &n)
				out[id] = gatehouse.AuthzVersion{Own: n, Integrator: n * 10}
			}
		}
		return Answer{Versions: out}, nil
	})
	var wg sync.WaitGroup
	var failures atomic.Int64
	for g := range 64 {
		wg.Go(func() {
			for i := range 200 {
				n := int64((g*7 + i) % 13)
				v, err := reads.Get(context.Background(), fmt.Sprintf("acct-%d", n), "")
				if err != nil {
					failures.Add(1)
					continue
				}
				if v.Own != n || v.Integrator != n*10 {
					t.Errorf("account %d got %+v", n, v)
				}
			}
		})
	}
	wg.Wait()
	healed.Store(true)
	if _, err := reads.Get(context.Background(), "gone", ""); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("an unknown account: %v", err)
	}
	if failures.Load() == 0 {
		t.Error("no caller saw a failed read")
	}
	if calls.Load() >= 64*200 {
		t.Errorf("%d reads for %d checks: none shared", calls.Load(), 64*200)
	}
}

// The check token asking is confirmed by the same read as the account's
// version, which began after the caller arrived: revoked before that, it is
// refused, whether the account exists or not; callers sharing a read are
// each answered for their own token.
func TestTheCheckTokenIsConfirmedByTheSameRead(t *testing.T) {
	var (
		revoked = map[string]bool{}
		mu      sync.Mutex
		began   = make(chan []string, 100)
		release = make(chan struct{})
	)
	reads := New(func(ctx context.Context, ids, tokens []string) (Answer, error) {
		mu.Lock()
		answer := Answer{Versions: map[string]gatehouse.AuthzVersion{}, LiveCheckTokens: map[string]bool{}}
		for _, token := range tokens {
			answer.LiveCheckTokens[token] = !revoked[token]
		}
		mu.Unlock()
		for _, id := range ids {
			if !strings.HasPrefix(id, "gone") {
				answer.Versions[id] = gatehouse.AuthzVersion{Own: 1}
			}
		}
		began <- tokens
		<-release
		return answer, nil
	})
	// Every slot busy with reads that began while "old" was live.
	var early sync.WaitGroup
	for range MaxInFlight {
		early.Go(func() {
			if _, err := reads.Get(context.Background(), "a", "old"); err != nil {
				t.Errorf("a check before the revocation: %v", err)
			}
		})
		<-began
	}
	mu.Lock()
	revoked["old"] = true
	mu.Unlock()
	type result struct {
		account, token string
		err            error
	}
	results := make(chan result, 4)
	var late sync.WaitGroup
	for _, q := range [][2]string{{"a", "old"}, {"gone", "old"}, {"b", "new"}, {"gone-too", "new"}} {
		late.Go(func() {
			_, err := reads.Get(context.Background(), q[0], q[1])
			results <- result{q[0], q[1], err}
		})
	}
	// Let the four queue before the early reads end.
	for reads.waiting() < 4 {
		runtime.Gosched()
	}
	close(release)
	early.Wait()
	late.Wait()
	close(results)
	for r := range results {
		var want string
		switch {
		case r.token == "old":
			want = gatehouse.EUNAUTHENTICATED
		case strings.HasPrefix(r.account, "gone"):
			want = gatehouse.ENOTFOUND
		}
		if got := gatehouse.ErrorCode(r.err); got != want {
			t.Errorf("account %s asked with token %s: %q (%v), want %q", r.account, r.token, got, r.err, want)
		}
	}
	if n := len(began); n != 1 {
		t.Errorf("%d reads for the four late callers, want 1", n)
	}
}
