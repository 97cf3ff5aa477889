package httpapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// feedEvent is an event as the feed gives it.
type feedEvent struct {
	ID, Type, AccountID, UserID, SubjectType, Cursor string
	Changes                                          []any
}

// readFeed reads one page of the feed.
func readFeed(t *testing.T, e *apitest.Env, token, query string) ([]feedEvent, string) {
	t.Helper()
	r := e.Must(t, 200, "GET", "/api/v1/events?"+query, token, nil)
	return feedEvents(r.Items()), r.String("next_cursor")
}

func feedEvents(items []map[string]any) []feedEvent {
	var out []feedEvent
	for _, item := range items {
		subject, _ := item["subject"].(map[string]any)
		changes, _ := item["changes"].([]any)
		out = append(out, feedEvent{ID: fmt.Sprint(item["id"]), Type: fmt.Sprint(item["type"]), AccountID: fmt.Sprint(item["account_id"]),
			UserID: fmt.Sprint(subject["user_id"]), SubjectType: fmt.Sprint(subject["type"]), Cursor: fmt.Sprint(item["cursor"]), Changes: changes})
	}
	return out
}

// readUntil pages through the feed from cursor, two events a page, until
// it has n events (see apitest's ReadFeedUntil for why it may have to wait).
func readUntil(t *testing.T, e *apitest.Env, token, query, cursor string, n int) ([]feedEvent, string) {
	t.Helper()
	events, cursor := e.ReadFeedUntil(t, token, query+"&limit=2", cursor, func(events []map[string]any) bool { return len(events) >= n })
	return feedEvents(events), cursor
}

// The feed gives each change once, typed, in the order the changes were
// made, to those who may read the account: an integrator's administrators
// read their clients' changes; another integrator's learn nothing. Paging
// by small pages loses and repeats nothing; a reader waiting for the next
// change gets it as soon as it is made.
func TestEventFeed(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			acme := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", acme)
			beta := e.CreateAccount(t, "integrator", "Beta", "")
			acmeAdmin, _ := e.Member(t, acme, gatehouse.LevelIntegratorAdmin)
			betaAdmin, _ := e.Member(t, beta, gatehouse.LevelIntegratorAdmin)
			lyonUser, _ := e.Member(t, lyon, gatehouse.LevelClientUser)

			added := e.Must(t, 201, "POST", "/api/v1/accounts/"+lyon+"/users", op, newUser("ann@example.com", "client_user"))
			membership, userID := added.String("id"), added.String("user_id")
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+lyon+"/users/"+membership, op, map[string]any{"roles": []string{"editor"}})
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+lyon+"/users/"+membership, op, map[string]any{"level": "client_admin"})
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+lyon+"/users/"+membership, op, nil)
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+lyon, op, map[string]any{"name": "Lyon Part-Dieu"})

			want := []string{"account.created", "account.created", "member.added", "invitation.sent", "member.roles_changed",
				"member.level_changed", "member.removed", "account.updated"}
			got, cursor := readUntil(t, e, acmeAdmin, "account_id="+acme, "", len(want))
			if more, _ := readFeed(t, e, acmeAdmin, "account_id="+acme+"&after="+cursor); len(more) != 0 {
				t.Errorf("events beyond the changes made: %v", more)
			}
			var types []string
			seen := map[string]bool{}
			for _, ev := range got {
				if seen[ev.ID] {
					t.Errorf("event %s (%s) given twice", ev.ID, ev.Type)
				}
				seen[ev.ID] = true
				types = append(types, ev.Type)
			}
			if strings.Join(types, " ") != strings.Join(want, " ") {
				t.Errorf("the feed gave %v, want %v", types, want)
			}
			for i, ev := range got {
				if (i == 0 && ev.AccountID != acme) || (i > 0 && ev.AccountID != lyon) {
					t.Errorf("%s in account %s, want the client's", ev.Type, ev.AccountID)
				}
				if strings.HasPrefix(ev.Type, "member.") && (ev.UserID != userID || ev.SubjectType != "membership") {
					t.Errorf("%s names user %q (%s), want %q", ev.Type, ev.UserID, ev.SubjectType, userID)
				}
				if ev.Type == "member.level_changed" && fmt.Sprint(ev.Changes) != "[map[after:client_admin before:client_user field:level]]" {
					t.Errorf("the level change says %v", ev.Changes)
				}
			}

			// Who reads what.
			if r := e.Do(t, "GET", "/api/v1/events?account_id="+lyon, betaAdmin, nil); r.Status != 404 {
				t.Errorf("another integrator's administrator read Lyon's events: %d", r.Status)
			}
			if r := e.Do(t, "GET", "/api/v1/events?account_id="+lyon, lyonUser, nil); r.Status != 403 {
				t.Errorf("a client user read the account's events: %d", r.Status)
			}
			// A personal API token reads its own account: Beta was created, and
			// has had no change since.
			if own, _ := readUntil(t, e, betaAdmin, "", "", 1); len(own) != 1 || own[0].Type != "account.created" || own[0].AccountID != beta {
				t.Errorf("Beta's token on its own feed: %v", own)
			}
			if r := e.Do(t, "GET", "/api/v1/events?after=nonsense", op, nil); r.Status != 400 || r.Field() != "after" {
				t.Errorf("a bad cursor: %d %s", r.Status, r.Raw)
			}
			// The operator's: Beta's creation too.
			if all, _ := readUntil(t, e, op, "", "", len(want)+1); len(all) != len(want)+1 {
				t.Errorf("the operator's feed of every account has %d events", len(all))
			}

			// Waiting: nothing new, the same cursor back after the wait.
			began := time.Now()
			page, next := readFeed(t, e, acmeAdmin, "account_id="+acme+"&wait=1s&after="+cursor)
			if len(page) != 0 || next != cursor || time.Since(began) < time.Second {
				t.Errorf("an empty wait: %d events, cursor %s, after %v", len(page), next, time.Since(began))
			}
			// A change made while a reader waits reaches it.
			done := make(chan []feedEvent)
			go func() {
				page, _ := readFeed(t, e, acmeAdmin, "account_id="+acme+"&wait=20s&after="+cursor)
				done <- page
			}()
			time.Sleep(300 * time.Millisecond)
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+lyon, op, map[string]any{"name": "Lyon Centre"})
			select {
			case page := <-done:
				if len(page) != 1 || page[0].Type != "account.updated" {
					t.Errorf("the waiting reader got %v", page)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the waiting reader did not get the change")
			}
		})
	}
}

// On PostgreSQL, transactions commit in another order than they began:
// the feed must not pass over one that commits late. Eight writers on two
// nodes add people while a reader pages through the feed, and one
// transaction writes an event, then waits while the others commit, then
// commits: the reader gets every committed event exactly once, the late
// one included.
func TestEventFeedUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	if !storetest.PostgresAvailable(t) {
		t.Skip("no PostgreSQL")
	}
	b := storetest.Backend{Name: "postgres", Open: storetest.OpenPostgres}
	e := apitest.Start(t, b)
	nodes := nodesOf(t, b, e)
	acme := e.CreateAccount(t, "integrator", "Acme", "")
	var sites []string
	for i := range 10 {
		sites = append(sites, e.CreateAccount(t, "client", fmt.Sprintf("Site %d", i), acme))
	}
	// The late transaction: an event written first, committed last.
	raw, err := sql.Open("pgx", e.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	late, err := raw.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.Exec(`INSERT INTO audit_events (id, account_id, at, actor_id, action, target_type, target_id, event_type)
		VALUES ('late-event', $1, 0, 'operator', 'account.updated', 'account', $1, 'account.updated')`, sites[0]); err != nil {
		t.Fatal(err)
	}

	var (
		wg     sync.WaitGroup
		stop   = make(chan struct{})
		read   = map[string]int{}
		readMu sync.Mutex
	)
	wg.Go(func() {
		cursor := ""
		for {
			select {
			case <-stop:
				return
			default:
			}
			r := nodes[1%len(nodes)].Do(t, "GET", "/api/v1/events?limit=7&after="+cursor, op, nil)
			if r.Status != 200 {
				continue
			}
			readMu.Lock()
			for _, item := range r.Items() {
				read[fmt.Sprint(item["id"])]++
			}
			readMu.Unlock()
			cursor = r.String("next_cursor")
		}
	})
	statuses := race(nodes, 80, func(node *apitest.Env, i int) int {
		return node.Do(t, "POST", "/api/v1/accounts/"+sites[i%len(sites)]+"/users", op, newUser(fmt.Sprintf("p%d@example.com", i), "client_user")).Status
	})
	if statuses[201] != 80 {
		t.Fatalf("adds: %v", statuses)
	}
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	// The reader catches up, then stops.
	deadline := time.Now().Add(20 * time.Second)
	var committed []string
	rows, err := raw.Query(`SELECT id FROM audit_events WHERE event_type IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		committed = append(committed, id)
	}
	rows.Close()
	for {
		readMu.Lock()
		n := len(read)
		readMu.Unlock()
		if n >= len(committed) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	for _, id := range committed {
		switch read[id] {
		case 1:
		case 0:
			t.Errorf("event %s committed but never read", id)
		default:
			t.Errorf("event %s read %d times", id, read[id])
		}
	}
	if read["late-event"] != 1 {
		t.Errorf("the late transaction's event was read %d times", read["late-event"])
	}
	if len(committed) < 160 {
		t.Errorf("only %d events committed for 80 adds", len(committed))
	}
}
