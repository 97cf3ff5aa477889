package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// postgresTool finds one of PostgreSQL's programs: on the PATH, else in
// Debian's versioned directories (the newest, since pg_dump must be at
// least as new as the server). Outside CI a missing one skips the test.
func postgresTool(t *testing.T, name string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	found, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql", "*", "bin", name))
	if len(found) > 0 {
		major := func(path string) int {
			n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
			return n
		}
		return slices.MaxFunc(found, func(a, b string) int { return major(a) - major(b) })
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// runTool runs a program and fails the test with its output if it fails.
func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// The PostgreSQL backup of docs/operations.md, as written there: pg_dump
// while the node serves, pg_restore into a new database of the same
// server, and a node on it serves the same, signs the administrator in with
// the authenticator sealed under the same key, and goes on with the feed
// past the restored events.
func TestPostgresDumpAndRestoreServeTheSame(t *testing.T) {
	if !storetest.PostgresAvailable(t) {
		return
	}
	pgDump, pgRestore := postgresTool(t, "pg_dump"), postgresTool(t, "pg_restore")
	bin := buildBinary(t)
	env, dataDir, _ := nodeEnv(t, "postgres")
	var dbURL string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GATEHOUSE_DATABASE_URL="); ok {
			dbURL = v
		}
	}
	key := strings.Repeat("5e", 32)
	env = append(env, "GATEHOUSE_PUBLIC_URL="+publicURL, "GATEHOUSE_SECRET_KEY="+key)
	node := startNode(t, bin, env)
	api := &apitest.Env{URL: node.url}
	f := populate(t, api, dataDir)
	// The feed may show the newest events a moment late on PostgreSQL
	// (see ReadFeedUntil): once a change made last shows, every one before
	// it does, and the answers are taken.
	api.Must(t, 200, "PATCH", "/api/v1/accounts/"+f.depot, op, `{"address":"1 North Road"}`)
	depotUpdated := func(events []map[string]any) bool {
		return slices.ContainsFunc(events, func(e map[string]any) bool {
			subject, _ := e["subject"].(map[string]any)
			return e["type"] == "account.updated" && subject["id"] == f.depot
		})
	}
	if events, _ := api.ReadFeedUntil(t, op, "limit=1000", "", depotUpdated); !depotUpdated(events) {
		t.Fatalf("the change made last is not in the feed after 30 s")
	}
	before := sweep(t, api, f)

	dump := filepath.Join(t.TempDir(), "gatehouse.dump")
	runTool(t, pgDump, "--format=custom", "--no-owner", "--file="+dump, dbURL)
	node.stop(t)
	restoredURL := storetest.CreatePostgresDatabase(t)
	runTool(t, pgRestore, "--no-owner", "--exit-on-error", "--single-transaction", "--dbname="+restoredURL, dump)

	node = startNode(t, bin, []string{"GATEHOUSE_DATABASE_URL=" + restoredURL, "GATEHOUSE_SECRET_KEY=" + key,
		"GATEHOUSE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "GATEHOUSE_BOOTSTRAP_TOKEN=" + op,
		"GATEHOUSE_ADDR=" + freeAddr(t), "GATEHOUSE_PUBLIC_URL=" + publicURL})
	api = &apitest.Env{URL: node.url}
	sameAnswers(t, before, sweep(t, api, f))
	if details := api.Must(t, 200, "GET", "/api/v1/accounts/"+f.site+"/remote-monitoring-user/connection-details", op, nil); string(details.Raw) != f.monitoringDetails {
		t.Errorf("the remote monitoring user's details after the restore:\n%s\nbefore:\n%s", details.Raw, f.monitoringDetails)
	}
	if session := signInWithCode(t, api, f, nextStep(f)); session.Status != 201 {
		t.Errorf("sign-in with password and authenticator after the restore: %d %s", session.Status, session.Raw)
	}

	last := api.Must(t, 200, "GET", "/api/v1/events?limit=1000", op, nil).String("next_cursor")
	api.Must(t, 200, "PATCH", "/api/v1/accounts/"+f.depot, op, `{"address":"2 North Road"}`)
	next := api.Must(t, 200, "GET", "/api/v1/events?wait=5s&after="+last, op, nil).Items()
	if len(next) != 1 || next[0]["type"] != "account.updated" {
		t.Errorf("the feed after the restored events (after %s): %v", last, next)
	}
	node.stop(t)
}
