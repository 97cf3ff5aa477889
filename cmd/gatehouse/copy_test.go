package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A SQLite installation copied into PostgreSQL by `gatehouse copy` serves
// the same: every route of the sweep answers the same JSON, sessions and
// tokens made on SQLite still work, the administrator signs in with the
// password and the authenticator sealed under the same key (and the code
// SQLite last took is not taken again), and the feed goes on after the last
// cursor SQLite gave. A second copy into the same database is refused.
func TestCopyToPostgresServesTheSame(t *testing.T) {
	if !storetest.PostgresAvailable(t) {
		return
	}
	bin := buildBinary(t)
	env, dataDir, _ := nodeEnv(t, "sqlite")
	env = append(env, "GATEHOUSE_PUBLIC_URL="+publicURL)
	node := startNode(t, bin, env)
	api := &apitest.Env{URL: node.url}
	f := populate(t, api, dataDir)
	before := sweep(t, api, f)
	node.stop(t)

	target := storetest.CreatePostgresDatabase(t)
	out, err := exec.Command(bin, "copy", "--from", "sqlite:"+dataDir, "--to", target).CombinedOutput()
	if err != nil {
		t.Fatalf("gatehouse copy: %v\n%s", err, out)
	}
	t.Logf("gatehouse copy:\n%s", out)
	key, err := os.ReadFile(filepath.Join(dataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	pgEnv := []string{"GATEHOUSE_DATABASE_URL=" + target, "GATEHOUSE_SECRET_KEY=" + strings.TrimSpace(string(key)),
		"GATEHOUSE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "GATEHOUSE_BOOTSTRAP_TOKEN=" + op,
		"GATEHOUSE_ADDR=" + freeAddr(t), "GATEHOUSE_PUBLIC_URL=" + publicURL}
	node = startNode(t, bin, pgEnv)
	api = &apitest.Env{URL: node.url}
	sameAnswers(t, before, sweep(t, api, f))
	if details := api.Must(t, 200, "GET", "/api/v1/accounts/"+f.site+"/remote-monitoring-user/connection-details", op, nil); string(details.Raw) != f.monitoringDetails {
		t.Errorf("the remote monitoring user's details on the copy:\n%s\nbefore:\n%s", details.Raw, f.monitoringDetails)
	}

	if currentStep() <= f.lastStep+1 {
		if r := signInWithCode(t, api, f, f.lastStep); r.Status == 201 {
			t.Error("the authenticator code SQLite last took was taken again on PostgreSQL")
		}
	}
	session := signInWithCode(t, api, f, nextStep(f))
	if session.Status != 201 {
		t.Fatalf("sign-in with password and authenticator on the copy: %d %s", session.Status, session.Raw)
	}
	api.Must(t, 200, "GET", "/api/v1/me", session.String("token"), nil)

	feed := api.Must(t, 200, "GET", "/api/v1/events?limit=1000", op, nil)
	last := feed.String("next_cursor")
	if !strings.HasPrefix(last, "0.") {
		t.Errorf("the last copied event's cursor is %q; SQLite's cursors are 0.<seq>", last)
	}
	api.Must(t, 200, "PATCH", "/api/v1/accounts/"+f.depot, op, `{"address":"2 North Road"}`)
	next := api.Must(t, 200, "GET", "/api/v1/events?wait=5s&after="+last, op, nil).Items()
	if len(next) != 1 || next[0]["type"] != "account.updated" || next[0]["subject"].(map[string]any)["id"] != f.depot {
		t.Errorf("the feed after the copied events: %v", next)
	}

	out, err = exec.Command(bin, "copy", "--from", "sqlite:"+dataDir, "--to", target).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already holds data") {
		t.Errorf("a second copy into the same database: %v\n%s", err, out)
	}
	node.stop(t)
}
