package versionbatch

import (
	"context"
	"fmt"
	"runtime"
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
	reads := New(func(ctx context.Context, ids []string) (map[string]gatehouse.AuthzVersion, error) {
		seen := version.Load()
		began <- struct{}{}
		<-release
		out := map[string]gatehouse.AuthzVersion{}
		for _, id := range ids {
			out[id] = gatehouse.AuthzVersion{Own: seen}
		}
		return out, nil
	})
	// MaxInFlight checks start reads, which all see version 0.
	var early sync.WaitGroup
	for range MaxInFlight {
		early.Go(func() {
			if v, err := reads.Get(context.Background(), "a"); err != nil || v.Own != 0 {
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
			v, err := reads.Get(context.Background(), fmt.Sprintf("a%d", i))
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
	return len(r.next.ids)
}

// Many concurrent callers over many accounts each get their own account's
// version, an unknown account is ENOTFOUND, and a failed read fails the
// callers that shared it.
func TestManyCallersGetTheirOwnAccounts(t *testing.T) {
	var calls atomic.Int64
	var healed atomic.Bool // once set, the database answers every read
	reads := New(func(ctx context.Context, ids []string) (map[string]gatehouse.AuthzVersion, error) {
		runtime.Gosched() // a round trip: other callers arrive meanwhile
		if calls.Add(1)%50 == 0 && !healed.Load() {
			return nil, fmt.Errorf("connection lost")
		}
		out := map[string]gatehouse.AuthzVersion{}
		for _, id := range ids {
			if id != "gone" {
				var n int64
				fmt.Sscanf(id, "acct-%d", &n)
				out[id] = gatehouse.AuthzVersion{Own: n, Integrator: n * 10}
			}
		}
		return out, nil
	})
	var wg sync.WaitGroup
	var failures atomic.Int64
	for g := range 64 {
		wg.Go(func() {
			for i := range 200 {
				n := int64((g*7 + i) % 13)
				v, err := reads.Get(context.Background(), fmt.Sprintf("acct-%d", n))
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
	if _, err := reads.Get(context.Background(), "gone"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("an unknown account: %v", err)
	}
	if failures.Load() == 0 {
		t.Error("no caller saw a failed read")
	}
	if calls.Load() >= 64*200 {
		t.Errorf("%d reads for %d checks: none shared", calls.Load(), 64*200)
	}
}
