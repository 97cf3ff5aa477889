package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// monitoringPassword reads the password of a client's remote monitoring
// user through a node: a secret sealed with the server key.
func monitoringPassword(t *testing.T, n *node, client string) (string, int) {
	t.Helper()
	r := (&apitest.Env{URL: n.url}).Do(t, "GET", "/api/v1/accounts/"+client+"/remote-monitoring-user/connection-details", "op-secret", nil)
	m := regexp.MustCompile(`(?m)^Password: *(\S+)`).FindStringSubmatch(string(r.Raw))
	if m == nil {
		return "", r.Status
	}
	return m[1], r.Status
}

// withRemoteMonitoring makes a client account with a remote monitoring user
// through a node and returns the account's id.
func withRemoteMonitoring(t *testing.T, n *node) string {
	t.Helper()
	api := &apitest.Env{URL: n.url}
	in := api.Must(t, 201, "POST", "/api/v1/accounts", "op-secret", `{"kind":"integrator","name":"Acme"}`).String("id")
	client := api.Must(t, 201, "POST", "/api/v1/accounts", "op-secret", fmt.Sprintf(`{"kind":"client","name":"Store","integrator_id":%q}`, in)).String("id")
	api.Must(t, 201, "POST", "/api/v1/accounts/"+client+"/remote-monitoring-user", "op-secret", `{"description":"Night watch"}`)
	return client
}

// env is a node's environment with changes: NAME=value sets, NAME= unsets.
func env(base []string, changes ...string) []string {
	out := []string{}
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, c := range changes {
			if strings.HasPrefix(c, name+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	for _, c := range changes {
		if !strings.HasSuffix(c, "=") {
			out = append(out, c)
		}
	}
	return out
}

// commandIn runs a gatehouse command in-process with the environment env.
func commandIn(t *testing.T, environment []string, args ...string) string {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range environment {
		name, value, _ := strings.Cut(kv, "=")
		vars[name] = value
	}
	var out bytes.Buffer
	if err := run(context.Background(), args, func(k string) string { return vars[k] }, nil, &out, io.Discard); err != nil {
		t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// docs/operations.md, "Rotate keys", the server key, on PostgreSQL with
// two nodes, step by step: every node is given the new key with the old
// one as GATEHOUSE_SECRET_KEY_PREVIOUS and restarted one at a time (each
// answers /healthz and /metrics and reads the old secrets); `gatehouse keys
// reseal` runs while they serve; the nodes are restarted without the
// previous key and still read every secret.
func TestRunbookRotateServerKeyOnPostgres(t *testing.T) {
	if !storetest.PostgresAvailable(t) {
		t.Skip("needs PostgreSQL")
	}
	bin := buildBinary(t)
	oldKey, newKey := newHexKey(t), newHexKey(t)
	base := []string{"GATEHOUSE_DATABASE_URL=" + storetest.CreatePostgresDatabase(t), "GATEHOUSE_BOOTSTRAP_TOKEN=op-secret",
		"GATEHOUSE_SECRET_KEY=" + oldKey}
	nodeEnv := func(changes ...string) []string {
		return env(base, append([]string{"GATEHOUSE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "GATEHOUSE_ADDR=" + freeAddr(t)}, changes...)...)
	}
	nodes := []*node{startNode(t, bin, nodeEnv()), startNode(t, bin, nodeEnv())}
	client := withRemoteMonitoring(t, nodes[0])
	password, _ := monitoringPassword(t, nodes[1], client)
	if password == "" {
		t.Fatal("no remote monitoring password to begin with")
	}

	roll := func(changes ...string) {
		t.Helper()
		for i := range nodes {
			nodes[i].stop(t)
			nodes[i] = startNode(t, bin, nodeEnv(changes...))
			for path, want := range map[string]string{"/healthz": "", "/metrics": "go_sql_open_connections"} {
				resp, err := http.Get(nodes[i].url + path)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s after the restart: %v %v", path, resp, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(body), want) {
					t.Errorf("%s does not show %s", path, want)
				}
			}
			if got, status := monitoringPassword(t, nodes[i], client); got != password {
				t.Fatalf("node %d after the restart reads the password %q (%d), want %q", i, got, status, password)
			}
		}
	}
	roll("GATEHOUSE_SECRET_KEY="+newKey, "GATEHOUSE_SECRET_KEY_PREVIOUS="+oldKey)
	out := commandIn(t, env(base, "GATEHOUSE_SECRET_KEY="+newKey, "GATEHOUSE_SECRET_KEY_PREVIOUS="+oldKey), "keys", "reseal")
	if !regexp.MustCompile(`remote_monitoring +1 resealed`).MatchString(out) {
		t.Errorf("keys reseal:\n%s", out)
	}
	roll("GATEHOUSE_SECRET_KEY="+newKey, "GATEHOUSE_SECRET_KEY_PREVIOUS=")

	// A node still given the old key alone reads nothing sealed.
	stale := startNode(t, bin, nodeEnv())
	if got, status := monitoringPassword(t, stale, client); status == 200 || got != "" {
		t.Errorf("a node with the old key alone: %d %q", status, got)
	}
}

// docs/operations.md, "Rotate keys", the server key, on SQLite with the
// key in the data dir: stop the node, `gatehouse keys reseal
// --new-key-file`, start it again; it reads every secret with the new key.
func TestRunbookRotateServerKeyFile(t *testing.T) {
	bin := buildBinary(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	nodeEnv := []string{"GATEHOUSE_DATA_DIR=" + dataDir, "GATEHOUSE_BOOTSTRAP_TOKEN=op-secret", "GATEHOUSE_ADDR=" + freeAddr(t)}
	n := startNode(t, bin, nodeEnv)
	client := withRemoteMonitoring(t, n)
	password, _ := monitoringPassword(t, n, client)
	n.stop(t)

	newKeyFile := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newKeyFile, []byte(newHexKey(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := commandIn(t, nodeEnv, "keys", "reseal", "--new-key-file", newKeyFile)
	if !regexp.MustCompile(`remote_monitoring +1 resealed`).MatchString(out) {
		t.Errorf("keys reseal --new-key-file:\n%s", out)
	}
	n = startNode(t, bin, nodeEnv)
	if got, status := monitoringPassword(t, n, client); got != password {
		t.Errorf("after the reseal the node reads %q (%d), want %q", got, status, password)
	}
}
