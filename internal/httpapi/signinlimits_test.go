package httpapi_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// auditCount counts audit events of an action, account-less ones included.
func auditCount(t *testing.T, e *apitest.Env, action string) int {
	t.Helper()
	var n int
	for _, pool := range e.Store.Pools() {
		if err := pool.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE action = $1`, action).Scan(&n); err != nil {
			t.Fatal(err)
		}
		break
	}
	return n
}

// R-S3, the API reference at /api/docs: ten wrong passwords in a row lock a username
// (the right password too) for at least a minute; other usernames go on;
// unknown usernames are locked alike; a success ends the run; the lock
// ends by itself or by an administrator.
func TestSignInLockout(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			ann := addActive(t, e, ts.c1, "ann@example.com", "client_user", nil)
			addActive(t, e, ts.c1, "bob@example.com", "client_user", nil)
			try := func(username, password string) apitest.Response {
				return signIn(e, t, username, password)
			}
			// Nine wrong, one right: the run ends, nine more do not lock.
			for range 9 {
				try("ann@example.com", "wrong password here")
			}
			if r := try("ann@example.com", goodPassword); r.Status != 201 {
				t.Fatalf("right password after nine wrong: %d %s", r.Status, r.Raw)
			}
			for range 9 {
				try("ann@example.com", "wrong password here")
			}
			if r := try("ann@example.com", goodPassword); r.Status != 201 {
				t.Fatalf("a success did not end the run: %d", r.Status)
			}
			e.Waits.Take()
			for i := range 10 {
				if r := try("Ann@Example.com", "wrong password here"); r.Status != 401 {
					t.Fatalf("wrong password %d: %d", i+1, r.Status)
				}
			}
			// Slowed before locked: three answers at once, then waits that
			// double up to 1.6 s.
			ms := time.Millisecond
			want := []time.Duration{0, 0, 0, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 1600 * ms, 1600 * ms}
			if got := e.Waits.Take(); !slices.Equal(got, want) {
				t.Errorf("waits before the answers to ten wrong passwords: %v, want %v", got, want)
			}
			locked := try("ann@example.com", goodPassword)
			if locked.Status != 429 || locked.Code() != "rate_limited" {
				t.Fatalf("after ten wrong passwords: %d %s", locked.Status, locked.Raw)
			}
			if got := e.Waits.Take(); len(got) != 0 {
				t.Errorf("a locked username's answer waited %v", got)
			}
			if r := try("bob@example.com", goodPassword); r.Status != 201 {
				t.Errorf("another username was locked too: %d", r.Status)
			}
			// An unknown username: the same answers, the same lock.
			for range 10 {
				try("nobody@example.com", "wrong password here")
			}
			unknown := try("nobody@example.com", "wrong password here")
			if unknown.Status != 429 || unknown.Code() != "rate_limited" {
				t.Errorf("unknown username after ten tries: %d %s", unknown.Status, unknown.Raw)
			}
			if n := auditCount(t, e, "session.username_locked"); n != 2 {
				t.Errorf("%d lock events audited, want 2", n)
			}
			// A minute is not enough; five are.
			e.Clock.Advance(time.Minute)
			if r := try("ann@example.com", goodPassword); r.Status != 429 {
				t.Errorf("a minute later: %d", r.Status)
			}
			e.Clock.Advance(4 * time.Minute)
			if r := try("ann@example.com", goodPassword); r.Status != 201 {
				t.Errorf("five minutes later: %d %s", r.Status, r.Raw)
			}
			// An administrator over her unlocks her at once; a client user
			// may not, nor she herself.
			for range 10 {
				try("ann@example.com", "wrong password here")
			}
			unlock := "/api/v1/users/" + ann.String("user_id") + "/sign-in-lock"
			if r := e.Do(t, "DELETE", unlock, ts.tokens["c1-user"], nil); r.Status != 403 && r.Status != 404 {
				t.Errorf("a client user unlocked: %d", r.Status)
			}
			if r := e.Do(t, "DELETE", unlock, ts.tokens["i2-admin"], nil); r.Status != 404 {
				t.Errorf("another tenant's administrator unlocked: %d", r.Status)
			}
			e.Must(t, 204, "DELETE", unlock, ts.tokens["c1-admin"], nil)
			if r := try("ann@example.com", goodPassword); r.Status != 201 {
				t.Errorf("after an administrator's unlock: %d", r.Status)
			}
			if n := auditCount(t, e, "session.username_unlocked"); n != 1 {
				t.Errorf("%d unlock events audited", n)
			}
		})
	}
}

// N wrong passwords sent at once, over both nodes, count N: each one that
// was checked (401) is counted, so the username locks at the tenth and the
// ones past it count towards the next lock, exactly.
func TestSignInLockoutIsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "ann@example.com", "client_user", nil)
			nodes := nodesOf(t, b, e)
			count := race(nodes, 15, func(node *apitest.Env, i int) int {
				return signIn(node, t, "ann@example.com", "wrong password here").Status
			})
			if count[401] < 10 || count[401]+count[429] != 15 {
				t.Fatalf("answers %v", count)
			}
			if r := signIn(e, t, "ann@example.com", goodPassword); r.Status != 429 {
				t.Fatalf("not locked after 15 wrong passwords at once: %d", r.Status)
			}
			if n := auditCount(t, e, "session.username_locked"); n != 1 {
				t.Fatalf("%d locks after the race, want 1", n)
			}
			// Past the lock: the failures counted after the tenth, and
			// exactly enough more to reach ten again.
			e.Clock.Advance(6 * time.Minute)
			left := 10 - (count[401] - 10)
			for i := range left {
				if r := signIn(e, t, "ann@example.com", "wrong password here"); r.Status != 401 {
					t.Fatalf("wrong password %d after the lock: %d", i+1, r.Status)
				}
				want := 1
				if i == left-1 {
					want = 2
				}
				if n := auditCount(t, e, "session.username_locked"); n != want {
					t.Fatalf("after %d more failures (%d counted in the race): %d locks, want %d", i+1, count[401], n, want)
				}
			}
		})
	}
}

// A source address may fail at least a hundred sign-ins a minute; three
// hundred lock it for a minute, whatever the usernames.
func TestSignInSourceLimit(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t, storetest.Backends(t)[0])
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Store", in)
	addActive(t, e, site, "ann@example.com", "client_user", nil)
	for i := range 300 {
		r := signIn(e, t, fmt.Sprintf("guess%03d@example.com", i), "wrong password here")
		if r.Status != 401 {
			t.Fatalf("failure %d from one source: %d", i+1, r.Status)
		}
	}
	// The first hundred are answered at once, the rest slowed.
	waits := e.Waits.Take()
	if len(waits) != 300 || slices.Max(waits[:100]) != 0 || slices.Min(waits[100:]) != 250*time.Millisecond {
		t.Errorf("waits of 300 failures from one source: first hundred up to %v, the rest from %v (%d in all)",
			slices.Max(waits[:100]), slices.Min(waits[100:]), len(waits))
	}
	if r := signIn(e, t, "ann@example.com", goodPassword); r.Status != 429 {
		t.Errorf("after 300 failures from one source: %d", r.Status)
	}
	e.Clock.Advance(time.Minute + time.Second)
	if r := signIn(e, t, "ann@example.com", goodPassword); r.Status != 201 {
		t.Errorf("a minute later: %d %s", r.Status, r.Raw)
	}
}
