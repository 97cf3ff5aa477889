package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Failover (docs/operations.md, "Fail over"): two nodes on a primary and
// its synchronous hot standby, named together in one multi-host URL with
// target_session_attrs=read-write, serve people added and listed while the
// standby takes over. Requests during the switch are answered 503 with
// Retry-After, never anything else; both nodes serve again, without a
// restart, once the standby is promoted; every add answered 201, before or
// after, is in the promoted database; the outbox goes on, and every member
// gets one invitation, one Message-ID, as the kill tests ask; a node
// started afterwards migrates and serves on the promoted server.
//
// crash: the primary dies (pg_ctl stop -m immediate) and the standby is
// promoted a second later. switchover: the primary is made read-only
// (default_transaction_read_only, as before a planned switch), the standby
// is promoted, and the old primary goes on running, read-only, until both
// nodes write to the new one and read what they wrote: its open
// connections take no writes and would read the past, and must be left.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers and kills them")
	}
	if _, ok := storetest.PostgresBinaries(t); !ok {
		return
	}
	bin := buildBinary(t)
	t.Run("crash", func(t *testing.T) {
		runFailover(t, bin, func(t *testing.T, pg *storetest.ReplicatedPostgres) {
			pg.StopPrimary(t, "immediate")
			// The time a failover manager (or a person) takes to decide:
			// no server takes writes meanwhile.
			time.Sleep(time.Second)
		}, nil)
	})
	t.Run("switchover", func(t *testing.T) {
		runFailover(t, bin, func(t *testing.T, pg *storetest.ReplicatedPostgres) {
			admin, err := sql.Open("pgx", pg.Primary.URL("postgres"))
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			for _, stmt := range []string{`ALTER SYSTEM SET default_transaction_read_only = on`, `SELECT pg_reload_conf()`} {
				if _, err := admin.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			time.Sleep(time.Second) // writes drain; the standby has every commit (synchronous)
		}, func(t *testing.T, pg *storetest.ReplicatedPostgres) {
			pg.StopPrimary(t, "fast")
		})
	})
}

// failoverOutboxLease is the nodes' outbox lease: longer than the switch
// (about a second and a half, more on a busy machine), so that a batch
// delivered meanwhile is recorded sent before its lease ends, and short,
// so that a claim whose commit was lost in the switch comes free soon.
const failoverOutboxLease = 6 * time.Second

// answer is one request of the load, as a client saw it.
type answer struct {
	node       int
	status     int
	at         time.Time
	took       time.Duration
	retryAfter string
	code       string
	body       string
}

// runFailover starts a primary and a standby and two nodes on them, puts
// them under load, lets stopPrimary take the primary out of service,
// promotes the standby and waits until both nodes serve again; then
// afterwards, if not nil, deals with the old primary, and the load ends.
func runFailover(t *testing.T, bin string, stopPrimary, afterwards func(*testing.T, *storetest.ReplicatedPostgres)) {
	started := time.Now()
	pg := storetest.StartReplicatedPostgres(t, "gatehouse")
	t.Logf("primary and synchronous standby up in %v", time.Since(started).Round(time.Millisecond))
	nodeEnv := func(dataDir string) []string {
		return []string{"GATEHOUSE_DATABASE_URL=" + pg.FailoverURL("gatehouse"), "GATEHOUSE_DATA_DIR=" + dataDir,
			"GATEHOUSE_BOOTSTRAP_TOKEN=op-secret", "GATEHOUSE_ADDR=127.0.0.1:0",
			"GATEHOUSE_SECRET_KEY=" + strings.Repeat("5a", 32), "GATEHOUSE_OUTBOX_LEASE=" + failoverOutboxLease.String()}
	}
	dataDirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	nodes := []*node{startNode(t, bin, nodeEnv(dataDirs[0])), startNode(t, bin, nodeEnv(dataDirs[1]))}
	apis := []*apitest.Env{{URL: nodes[0].url}, {URL: nodes[1].url}}
	site := clientSite(t, apis[0], "Site", 10000)

	var (
		mu      sync.Mutex
		answers []answer
		added   = map[string]bool{} // answered 201
		next    int
	)
	stop := make(chan struct{})
	var load sync.WaitGroup
	for worker := range 8 {
		load.Go(func() {
			n := worker % 2
			client := &http.Client{Timeout: 20 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var req *http.Request
				var username string
				if i%4 == 3 { // a list now and then: reads go through the switch too
					req, _ = http.NewRequest("GET", apis[n].URL+"/api/v1/accounts/"+site+"/users?limit=20", nil)
				} else {
					mu.Lock()
					next++
					username = fmt.Sprintf("f%05d@example.com", next)
					mu.Unlock()
					body := fmt.Sprintf(`{"username":%q,"first_name":"F","last_name":"O","level":"client_user"}`, username)
					req, _ = http.NewRequest("POST", apis[n].URL+"/api/v1/accounts/"+site+"/users", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Bearer op-secret")
				sent := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("node %d did not answer: %v", n, err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				a := answer{node: n, status: resp.StatusCode, at: time.Now(), took: time.Since(sent), retryAfter: resp.Header.Get("Retry-After"), body: string(raw)}
				var e struct{ Error struct{ Code string } }
				if json.Unmarshal(raw, &e) == nil {
					a.code = e.Error.Code
				}
				mu.Lock()
				answers = append(answers, a)
				if a.status == 201 {
					added[username] = true
				}
				mu.Unlock()
				if a.status >= 500 {
					time.Sleep(20 * time.Millisecond) // a client that honoured Retry-After would wait longer
				}
			}
		})
	}
	endLoad := sync.OnceFunc(func() { close(stop); load.Wait() })
	defer endLoad()
	// firstWriteAfter is, per node, the first 201 after when (a read-only
	// old primary still answers lists).
	firstWriteAfter := func(when time.Time) []time.Time {
		mu.Lock()
		defer mu.Unlock()
		first := make([]time.Time, len(nodes))
		for _, a := range answers {
			if a.status == 201 && a.at.After(when) && (first[a.node].IsZero() || a.at.Before(first[a.node])) {
				first[a.node] = a.at
			}
		}
		return first
	}

	time.Sleep(time.Second)
	outOfService := time.Now()
	stopPrimary(t, pg)
	pg.PromoteStandby(t)
	promoted := time.Now()
	var back []time.Time
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		back = firstWriteAfter(promoted)
		if !back[0].IsZero() && !back[1].IsZero() {
			break
		}
		if time.Now().After(deadline) {
			endLoad()
			t.Errorf("a node did not write again within 20 s of the promotion: %v", back)
			break
		}
	}
	// Read your writes across the switch: what one node wrote on the new
	// primary, both read, through whichever connection of their pools (none
	// is left on the old primary, which a switchover leaves running).
	if !t.Failed() {
		fresh := apis[0].Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", "op-secret",
			`{"username":"fresh@example.com","first_name":"F","last_name":"R","level":"client_user"}`).String("id")
		for range 10 {
			for i, api := range apis {
				if r := api.Do(t, "GET", "/api/v1/accounts/"+site+"/users/"+fresh, "op-secret", nil); r.Status != 200 {
					t.Errorf("node %d read %d for the member just added", i, r.Status)
				}
			}
		}
	}
	time.Sleep(500 * time.Millisecond)
	if afterwards != nil {
		afterwards(t, pg)
	}
	time.Sleep(500 * time.Millisecond)
	endLoad()

	mu.Lock()
	statuses := map[int]int{}
	var first503, last503 time.Time
	var slowest503, slowest time.Duration
	for _, a := range answers {
		statuses[a.status]++
		slowest = max(slowest, a.took)
		if a.status == 503 {
			slowest503 = max(slowest503, a.took)
		}
		switch {
		case a.status == 503:
			if first503.IsZero() {
				first503 = a.at
			}
			last503 = a.at
			if a.retryAfter == "" || a.code != "unavailable" {
				t.Errorf("a 503 with Retry-After %q and code %q: %s", a.retryAfter, a.code, a.body)
			}
		case a.status != 200 && a.status != 201:
			if statuses[a.status] <= 3 {
				t.Errorf("node %d answered %d during the switch: %s", a.node, a.status, a.body)
			}
		}
	}
	mu.Unlock()
	t.Logf("answers: %v; the slowest took %v, the slowest 503 %v", statuses, slowest.Round(time.Millisecond), slowest503.Round(time.Millisecond))
	for status, n := range statuses {
		if status != 200 && status != 201 && status != 503 {
			t.Errorf("%d answers %d", n, status)
		}
	}
	if statuses[503] == 0 {
		t.Errorf("no 503 while no server took writes: the switch was not exercised")
	} else {
		t.Logf("503s from %v to %v after the primary left service (promoted after %v; last 503 %v after the promotion)",
			first503.Sub(outOfService).Round(time.Millisecond), last503.Sub(outOfService).Round(time.Millisecond),
			promoted.Sub(outOfService).Round(time.Millisecond), last503.Sub(promoted).Round(time.Millisecond))
	}
	for i, at := range back {
		if !at.IsZero() {
			t.Logf("node %d wrote again %v after the promotion, %v after the primary left service", i,
				at.Sub(promoted).Round(time.Millisecond), at.Sub(outOfService).Round(time.Millisecond))
		}
	}
	if t.Failed() {
		return
	}

	// Every add answered 201 is in the promoted database.
	members := map[string]bool{}
	for cursor := ""; ; {
		path := "/api/v1/accounts/" + site + "/users?limit=500"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		page := apis[1].Must(t, 200, "GET", path, "op-secret", nil)
		for _, m := range page.Items() {
			members[m["username"].(string)] = true
		}
		cursor, _ = page.Body["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	inPromoted := usernames(t, pg.Standby.URL("gatehouse"))
	for username := range added {
		if !members[username] || !inPromoted[username] {
			t.Errorf("%s was answered 201 but is not in the promoted database (listed: %v)", username, members[username])
		}
	}
	t.Logf("%d members, %d of them answered 201", len(members), len(added))

	// The outbox goes on: every member gets one invitation, from either
	// node. A repeat would carry the same Message-ID: by the same node, it
	// would replace its file; by the other, it would be counted here. A
	// batch delivered while no server took writes is recorded sent once one
	// does, within the lease, so nothing is sent again.
	waited := time.Now()
	var ids map[string][]string
	for deadline := time.Now().Add(failoverOutboxLease + time.Minute); ; time.Sleep(200 * time.Millisecond) {
		ids = map[string][]string{}
		for _, dir := range dataDirs {
			got, _ := mailbox(t, dir)
			for to, messageIDs := range got {
				ids[to] = append(ids[to], messageIDs...)
			}
		}
		missing := 0
		for username := range members {
			if len(ids["<"+username+">"]) == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			if missing > 0 {
				t.Errorf("%d members never got their invitation", missing)
			}
			t.Logf("every invitation delivered %v after the load ended", time.Since(waited).Round(time.Millisecond))
			break
		}
	}
	for username := range members {
		if got := ids["<"+username+">"]; len(got) > 1 {
			t.Errorf("%s got %d invitations: %v", username, len(got), got)
		}
	}

	// A node started after the failover migrates (under its advisory lock)
	// and serves on the promoted server.
	nodes[1].stop(t)
	restarted := startNode(t, bin, nodeEnv(dataDirs[1]))
	(&apitest.Env{URL: restarted.url}).Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", "op-secret",
		`{"username":"after@example.com","first_name":"A","last_name":"F","level":"client_user"}`)
	restarted.stop(t)
	nodes[0].stop(t)
}

// usernames are the usernames of the database at dbURL, read directly.
func usernames(t *testing.T, dbURL string) map[string]bool {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT username FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		out[u] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
