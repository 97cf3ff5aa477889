package storetest

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testReadsForManyAccounts pins the reads and writes a group of adds makes
// for several accounts at once: each answers as the one-account form would
// for each account.
func testReadsForManyAccounts(t *testing.T, s *store.DB) {
	ctx := context.Background()
	parent := integrator("Group Integrator")
	a, b := client(parent.ID, "Group Site A"), client(parent.ID, "Group Site B") // a limit of 9 each
	insertAccounts(t, s, parent, a, b)
	missing := newID()

	inA := member(t, s, a, gatehouse.LevelClientUser, gatehouse.MembershipActive)
	inB := member(t, s, b, gatehouse.LevelClientAdmin, gatehouse.MembershipActive)
	t.Run("accounts by id", func(t *testing.T) {
		got, err := s.AccountsByID(ctx, []string{a.ID, b.ID, missing})
		if err != nil || len(got) != 2 || got[a.ID].Name != a.Name || got[b.ID].IntegratorID != parent.ID {
			t.Fatalf("AccountsByID: %+v (%v); want A and B, the missing id left out", got, err)
		}
	})
	t.Run("username states by account", func(t *testing.T) {
		nobody := "nobody@example.com"
		got, err := s.UsernameStatesByAccount(ctx, map[string][]string{
			a.ID: {inA.Username, inB.Username, nobody},
			b.ID: {inA.Username, inB.Username},
		})
		if err != nil {
			t.Fatal(err)
		}
		key := gatehouse.UsernameKey
		for _, c := range []struct {
			account, username string
			want              gatehouse.UsernameState
		}{
			{a.ID, inA.Username, gatehouse.UsernameState{Exists: true, Active: true, Member: true}},
			{a.ID, inB.Username, gatehouse.UsernameState{Exists: true, Active: true}},
			{a.ID, nobody, gatehouse.UsernameState{}},
			{b.ID, inA.Username, gatehouse.UsernameState{Exists: true, Active: true}},
			{b.ID, inB.Username, gatehouse.UsernameState{Exists: true, Active: true, Member: true}},
		} {
			if st := got[c.account][key(c.username)]; st != c.want {
				t.Errorf("%s in %s: %+v, want %+v", c.username, c.account, st, c.want)
			}
		}
	})
	t.Run("username states in one account", func(t *testing.T) {
		// In another letter case, as a file or a form may write it.
		shouted := strings.ToUpper(inA.Username)
		got, err := s.UsernameStates(ctx, a.ID, []string{shouted, inB.Username, "nobody@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]gatehouse.UsernameState{
			gatehouse.UsernameKey(shouted):      {Exists: true, Active: true, Member: true},
			gatehouse.UsernameKey(inB.Username): {Exists: true, Active: true},
		}
		if !maps.Equal(got, want) {
			t.Errorf("UsernameStates in A: %+v, want %+v (nobody left out)", got, want)
		}
		users, err := s.UsersByUsername(ctx, []string{shouted, "nobody@example.com"})
		if err != nil || len(users) != 1 || users[gatehouse.UsernameKey(shouted)].ID != inA.ID {
			t.Errorf("UsersByUsername: %+v (%v), want only the member of A", users, err)
		}
	})
	t.Run("accounts locked", func(t *testing.T) {
		// While one transaction holds A, another's change to A waits for
		// it.
		locked, release := make(chan map[string]gatehouse.Account), make(chan struct{})
		holder := make(chan error, 1)
		go func() {
			holder <- s.Write(ctx, func(tx *store.WriteTx) error {
				got, err := tx.LockAccounts(ctx, []string{missing, a.ID})
				locked <- got
				<-release
				return err
			})
		}()
		got := <-locked
		if len(got) != 1 || got[a.ID].Name != a.Name {
			t.Errorf("LockAccounts: %+v; want A, the missing id left out", got)
		}
		changed := make(chan error, 1)
		go func() {
			changed <- s.Write(ctx, func(tx *store.WriteTx) error { return tx.BumpAuthzVersion(ctx, a.ID) })
		}()
		waited := true
		select {
		case err := <-changed:
			waited = false
			t.Errorf("A changed (%v) while another transaction held it", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-holder; err != nil {
			t.Fatal(err)
		}
		if !waited {
			return
		}
		if err := <-changed; err != nil {
			t.Fatalf("A changed once released: %v", err)
		}
	})
	t.Run("webhooks of the batch's accounts that have subscriptions", func(t *testing.T) {
		// One batch of events in three accounts: X subscribes itself, Z
		// through its integrator, Y only through a subscription it
		// disabled. Only X's and Z's events are queued, each to its own
		// subscription.
		other := integrator("Group Hook Integrator")
		x, y, z := client(parent.ID, "Group Hook Site X"), client(parent.ID, "Group Hook Site Y"), client(other.ID, "Group Hook Site Z")
		insertAccounts(t, s, other, x, y, z)
		subscription := func(accountID string) gatehouse.WebhookSubscription {
			return gatehouse.WebhookSubscription{ID: newID(), AccountID: accountID, URL: "https://hooks.example.com/" + accountID,
				EventTypes: []string{"member.*"}, SecretSealed: "sealed", CreatedBy: "operator", CreatedAt: t0}
		}
		ownHook, integratorHook, disabledHook := subscription(x.ID), subscription(other.ID), subscription(y.ID)
		var batch gatehouse.WriteBatch
		events := map[string]string{} // account → its event
		for _, account := range []string{x.ID, y.ID, z.ID} {
			e := gatehouse.AuditEvent{ID: newID(), AccountID: account, At: t0, ActorID: "operator", Action: "user.added",
				TargetType: "membership", TargetID: newID()}
			if gatehouse.EventTypeOf(e) == "" {
				t.Fatalf("%s is no event", e.Action)
			}
			batch.AuditEvents, events[account] = append(batch.AuditEvents, e), e.ID
		}
		write(t, s, func(tx *store.WriteTx) error {
			if err := tx.InsertWebhookSubscription(ctx, ownHook); err != nil {
				return err
			}
			if err := tx.InsertWebhookSubscription(ctx, integratorHook); err != nil {
				return err
			}
			if err := tx.InsertWebhookSubscription(ctx, disabledHook); err != nil {
				return err
			}
			if err := tx.DisableWebhookSubscription(ctx, disabledHook.ID, "", t0); err != nil {
				return err
			}
			return tx.InsertBatch(ctx, batch)
		})
		queued, err := s.ClaimMessages(ctx, "group-test", t0.Add(time.Hour), time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{} // event → subscription
		for _, m := range queued {
			if m.Channel == gatehouse.ChannelWebhook {
				got[m.Subject] = m.To
			}
		}
		want := map[string]string{events[x.ID]: ownHook.ID, events[z.ID]: integratorHook.ID}
		if !maps.Equal(got, want) {
			t.Errorf("webhook messages (event → subscription) %v, want %v; Y's event %s goes nowhere", got, want, events[y.ID])
		}
	})
	t.Run("webhooks of accounts read before the batch", func(t *testing.T) {
		// A group reads its accounts (on SQLite, with whether they have
		// subscriptions) before it writes its batch. A subscription added
		// or disabled in between, in the same transaction, still decides
		// where the batch's events go: V's new one gets V's event, U's
		// disabled one gets nothing.
		u, v := client(parent.ID, "Group Hook Site U"), client(parent.ID, "Group Hook Site V")
		insertAccounts(t, s, u, v)
		hook := func(accountID string) gatehouse.WebhookSubscription {
			return gatehouse.WebhookSubscription{ID: newID(), AccountID: accountID, URL: "https://hooks.example.com/" + accountID,
				EventTypes: []string{"member.*"}, SecretSealed: "sealed", CreatedBy: "operator", CreatedAt: t0}
		}
		disabled, added := hook(u.ID), hook(v.ID)
		write(t, s, func(tx *store.WriteTx) error { return tx.InsertWebhookSubscription(ctx, disabled) })
		var batch gatehouse.WriteBatch
		events := map[string]string{} // event → its account
		for _, account := range []string{u.ID, v.ID} {
			e := gatehouse.AuditEvent{ID: newID(), AccountID: account, At: t0, ActorID: "operator", Action: "user.added",
				TargetType: "membership", TargetID: newID()}
			batch.AuditEvents, events[e.ID] = append(batch.AuditEvents, e), account
		}
		write(t, s, func(tx *store.WriteTx) error {
			if _, err := tx.LockAccounts(ctx, []string{u.ID, v.ID}); err != nil {
				return err
			}
			if err := tx.DisableWebhookSubscription(ctx, disabled.ID, "", t0); err != nil {
				return err
			}
			if err := tx.InsertWebhookSubscription(ctx, added); err != nil {
				return err
			}
			return tx.InsertBatch(ctx, batch)
		})
		queued, err := s.ClaimMessages(ctx, "group-test", t0.Add(2*time.Hour), time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{} // account → subscription its event went to
		for _, m := range queued {
			if account, ours := events[m.Subject]; ours && m.Channel == gatehouse.ChannelWebhook {
				got[account] = m.To
			}
		}
		if want := map[string]string{v.ID: added.ID}; !maps.Equal(got, want) {
			t.Errorf("webhook messages (account → subscription) %v, want %v: U's subscription was disabled before the batch", got, want)
		}
	})
	reserve := func(accountIDs []string, want map[string]int) map[string]int {
		t.Helper()
		var granted map[string]int
		write(t, s, func(tx *store.WriteTx) error {
			var err error
			granted, err = tx.BumpAndReserve(ctx, accountIDs, want)
			return err
		})
		return granted
	}
	t.Run("versions bumped together", func(t *testing.T) {
		beforeA, beforeB := versionAfterCommit(t, s, a.ID), versionAfterCommit(t, s, b.ID)
		if got := reserve([]string{b.ID, a.ID, b.ID}, nil); got[a.ID] != 0 || got[b.ID] != 0 {
			t.Errorf("no slot asked for, %v granted", got)
		}
		if afterA, afterB := versionAfterCommit(t, s, a.ID), versionAfterCommit(t, s, b.ID); afterA.Own <= beforeA.Own || afterB.Own <= beforeB.Own {
			t.Errorf("versions %+v → %+v and %+v → %+v: want both risen", beforeA, afterA, beforeB, afterB)
		}
	})
	t.Run("slots reserved by account", func(t *testing.T) {
		// Only reservations count: the members inserted above were not
		// reserved for.
		beforeA := versionAfterCommit(t, s, a.ID)
		if got := reserve([]string{a.ID, b.ID, missing}, map[string]int{a.ID: 5, b.ID: 10, missing: 1}); got[a.ID] != 5 || got[b.ID] != 9 || got[missing] != 0 {
			t.Fatalf("first reservation: %v, want A 5, B 9 (its limit), none in a missing account", got)
		}
		if afterA := versionAfterCommit(t, s, a.ID); afterA.Own <= beforeA.Own {
			t.Errorf("A's version %+v → %+v as its slots were reserved: want it risen", beforeA, afterA)
		}
		if got := reserve([]string{a.ID, b.ID}, map[string]int{a.ID: 10, b.ID: 1}); got[a.ID] != 4 || got[b.ID] != 0 {
			t.Fatalf("second reservation: %v, want A 4 (to its limit), B none", got)
		}
		storedA, errA := s.ClientUsers(ctx, a.ID)
		storedB, errB := s.ClientUsers(ctx, b.ID)
		if storedA != 9 || storedB != 9 || errA != nil || errB != nil {
			t.Fatalf("client users stored %d and %d (%v, %v), want 9 in each", storedA, storedB, errA, errB)
		}
	})
	t.Run("slots of two accounts under concurrency", func(t *testing.T) {
		// Writers asking for both accounts, named in either order: the
		// grants add up to each limit exactly, and none of them fails.
		c, d := client(parent.ID, "Group Site C"), client(parent.ID, "Group Site D")
		insertAccounts(t, s, c, d)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			totals = map[string]int{}
		)
		for range 12 {
			wg.Go(func() {
				var granted map[string]int
				err := s.Write(ctx, func(tx *store.WriteTx) error {
					var err error
					granted, err = tx.BumpAndReserve(ctx, []string{d.ID, c.ID}, map[string]int{c.ID: 2, d.ID: 1})
					return err
				})
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for id, n := range granted {
					totals[id] += n
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		storedC, errC := s.ClientUsers(ctx, c.ID)
		storedD, errD := s.ClientUsers(ctx, d.ID)
		if totals[c.ID] != 9 || totals[d.ID] != 9 || storedC != 9 || storedD != 9 || errC != nil || errD != nil {
			t.Fatalf("granted %v, stored %d and %d (%v, %v); want 9 in each", totals, storedC, storedD, errC, errD)
		}
	})
}
