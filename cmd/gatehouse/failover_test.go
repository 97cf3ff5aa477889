package main

import (
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

// answer is one request of the load, as a client saw it.
type answer struct {
	node       int
	status     int
	at         time.Time
	retryAfter string
	code       string
	body       string
}

// Failover (docs/operations.md, "Fail over"): two nodes on a primary and
// its synchronous hot standby, named together in one multi-host URL with
// target_session_attrs=read-write, serve people added and listed while the
// primary dies (pg_ctl stop -m immediate) and the standby is promoted.
// Requests during the switch are answered 503 with Retry-After, never
// anything else; both nodes serve again without a restart once the
// standby is promoted; every add answered 201, before or after, is in the
// promoted database; the outbox goes on, and every member gets one
// invitation, one Message-ID, as the kill tests ask; a node started after
// the failover migrates and serves on the promoted server.
func TestFailoverToPromotedStandby(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two PostgreSQL servers and kills one")
	}
	started := time.Now()
	pg := storetest.StartReplicatedPostgres(t, "gatehouse")
	if pg == nil {
		return
	}
	t.Logf("primary and synchronous standby up in %v", time.Since(started).Round(time.Millisecond))
	bin := buildBinary(t)
	nodeEnv := func(dataDir string) []string {
		return []string{"GATEHOUSE_DATABASE_URL=" + pg.FailoverURL("gatehouse"), "GATEHOUSE_DATA_DIR=" + dataDir,
			"GATEHOUSE_BOOTSTRAP_TOKEN=op-secret", "GATEHOUSE_ADDR=127.0.0.1:0",
			"GATEHOUSE_SECRET_KEY=" + strings.Repeat("5a", 32), "GATEHOUSE_OUTBOX_LEASE=" + testOutboxLease.String()}
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
	record := func(a answer) {
		mu.Lock()
		defer mu.Unlock()
		answers = append(answers, a)
	}
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
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("node %d did not answer: %v", n, err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				a := answer{node: n, status: resp.StatusCode, at: time.Now(), retryAfter: resp.Header.Get("Retry-After"), body: string(raw)}
				var e struct{ Error struct{ Code string } }
				if json.Unmarshal(raw, &e) == nil {
					a.code = e.Error.Code
				}
				record(a)
				if a.status == 201 {
					mu.Lock()
					added[username] = true
					mu.Unlock()
				}
				if a.status == 503 {
					time.Sleep(20 * time.Millisecond) // a client that honoured Retry-After would wait longer
				}
			}
		})
	}
	// firstSuccessAfter is, per node, the first answer of 2xx after when.
	firstSuccessAfter := func(when time.Time) []time.Time {
		mu.Lock()
		defer mu.Unlock()
		first := make([]time.Time, len(nodes))
		for _, a := range answers {
			if a.status < 300 && a.at.After(when) && (first[a.node].IsZero() || a.at.Before(first[a.node])) {
				first[a.node] = a.at
			}
		}
		return first
	}

	time.Sleep(time.Second)
	killed := time.Now()
	pg.StopPrimary(t)
	// The time a failover manager (or a person) takes to decide: the nodes
	// have no writable server meanwhile.
	time.Sleep(time.Second)
	pg.PromoteStandby(t)
	promoted := time.Now()
	var back []time.Time
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		back = firstSuccessAfter(promoted)
		if !back[0].IsZero() && !back[1].IsZero() {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			load.Wait()
			t.Fatalf("a node did not serve again within 20 s of the promotion: %v\n%s\n%s", back, nodes[0].logs, nodes[1].logs)
		}
	}
	time.Sleep(time.Second)
	close(stop)
	load.Wait()

	mu.Lock()
	statuses := map[int]int{}
	var first503, last503 time.Time
	for _, a := range answers {
		statuses[a.status]++
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
			t.Errorf("node %d answered %d during the failover: %s", a.node, a.status, a.body)
		}
	}
	mu.Unlock()
	t.Logf("answers: %v", statuses)
	if statuses[503] == 0 {
		t.Errorf("no 503 while no server was writable: the switch was not exercised")
	}
	if !first503.IsZero() {
		t.Logf("503s from %v after the kill to %v after it (%v after the promotion); primary killed %v before the promotion",
			first503.Sub(killed).Round(time.Millisecond), last503.Sub(killed).Round(time.Millisecond),
			last503.Sub(promoted).Round(time.Millisecond), promoted.Sub(killed).Round(time.Millisecond))
	}
	for i, at := range back {
		t.Logf("node %d served again %v after the promotion", i, at.Sub(promoted).Round(time.Millisecond))
	}

	// Every add answered 201 is in the promoted database, through either node.
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
	lost := 0
	for username := range added {
		if !members[username] {
			lost++
			t.Errorf("%s was answered 201 but is not in the promoted database", username)
		}
	}
	t.Logf("%d members, %d answered 201, %d lost", len(members), len(added), lost)

	// The outbox goes on: every member gets one invitation, one
	// Message-ID, from either node; a repeat (the same Message-ID sent again
	// once a lease ran out) would replace its file.
	waited := time.Now()
	var ids map[string][]string
	for deadline := time.Now().Add(testOutboxLease + time.Minute); ; time.Sleep(200 * time.Millisecond) {
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
	repeated := 0
	for username := range members {
		got := ids["<"+username+">"]
		distinct := map[string]bool{}
		for _, id := range got {
			distinct[id] = true
		}
		if len(distinct) > 1 {
			t.Errorf("%s got %d different invitations: %v", username, len(distinct), got)
		}
		if len(got) > len(distinct) {
			repeated++
		}
	}
	t.Logf("%d invitations sent again by the other node, with the same Message-ID", repeated)

	// A node started after the failover migrates (under its advisory lock)
	// and serves on the promoted server.
	nodes[1].stop(t)
	restarted := startNode(t, bin, nodeEnv(dataDirs[1]))
	(&apitest.Env{URL: restarted.url}).Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", "op-secret",
		`{"username":"after@example.com","first_name":"A","last_name":"F","level":"client_user"}`)
	restarted.stop(t)
	nodes[0].stop(t)
	if t.Failed() {
		for i, n := range []*node{nodes[0], nodes[1], restarted} {
			t.Logf("node %d's errors:\n%s", i, loggedErrors(n))
		}
	}
}

// loggedErrors are the lines a stopped node logged at level ERROR.
func loggedErrors(n *node) string {
	var lines []string
	for line := range strings.SplitSeq(n.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
