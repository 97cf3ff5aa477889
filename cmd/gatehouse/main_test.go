package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// built is the gatehouse binary the tests that run real processes share:
// linking it takes seconds, and a dozen tests need it.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the shared binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildBinary compiles gatehouse once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "gatehouse-test-binary-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "gatehouse")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// node is one running gatehouse process.
type node struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
}

// startNode runs `gatehouse serve` with args and env and waits until
// /healthz answers, reporting how long that took.
func startNode(t *testing.T, bin string, env []string, args ...string) *node {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	n := &node{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	stderr, _ := cmd.StderrPipe()
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			n.logs.WriteString(line + "\n")
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "gatehouse serving" {
				addrCh <- entry.Addr
			}
		}
		n.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case addr := <-addrCh:
		n.url = "http://" + addr
	case err := <-n.done:
		t.Fatalf("gatehouse exited before serving: %v\n%s", err, n.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse did not start\n%s", n.logs)
	}
	resp, err := http.Get(n.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	t.Logf("serving after %v", time.Since(started).Round(time.Millisecond))
	return n
}

// stop sends SIGTERM and expects a clean exit.
func (n *node) stop(t *testing.T) {
	t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, n.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30 s after SIGTERM\n%s", n.logs)
	}
	if !strings.Contains(n.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the logs:\n%s", n.logs)
	}
}

// The binary as a user runs it: configured by environment, then by flags;
// a restart keeps every account; SIGTERM stops it cleanly (docs/operations.md).
func TestServeRestartKeepsData(t *testing.T) {
	bin := buildBinary(t)
	type setup struct {
		name string
		env  func(t *testing.T) []string
		args func(t *testing.T) []string
	}
	dataDir := func(t *testing.T) string { return filepath.Join(t.TempDir(), "data") }
	setups := []setup{{
		name: "sqlite",
		env: func(t *testing.T) []string {
			return []string{"GATEHOUSE_DATA_DIR=" + dataDir(t), "GATEHOUSE_BOOTSTRAP_TOKEN=op-secret", "GATEHOUSE_ADDR=" + freeAddr(t)}
		},
	}}
	if storetest.PostgresAvailable(t) {
		setups = append(setups, setup{
			name: "postgres",
			env: func(t *testing.T) []string {
				return []string{"GATEHOUSE_DATABASE_URL=" + storetest.CreatePostgresDatabase(t), "GATEHOUSE_BOOTSTRAP_TOKEN=op-secret",
					"GATEHOUSE_DATA_DIR=" + dataDir(t), "GATEHOUSE_ADDR=" + freeAddr(t)}
			},
		})
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			env := s.env(t)
			first := startNode(t, bin, env)
			api := &apitest.Env{URL: first.url}
			in := api.Must(t, 201, "POST", "/api/v1/accounts", "op-secret", `{"kind":"integrator","name":"Kept"}`).String("id")
			cl := api.Must(t, 201, "POST", "/api/v1/accounts", "op-secret",
				fmt.Sprintf(`{"kind":"client","name":"Kept client","integrator_id":%q}`, in)).String("id")
			first.stop(t)

			// Second start: the address comes from a flag, which beats the environment.
			second := startNode(t, bin, env, "--addr", freeAddr(t))
			if second.url == first.url {
				t.Errorf("--addr did not override GATEHOUSE_ADDR")
			}
			api = &apitest.Env{URL: second.url}
			got := api.Must(t, 200, "GET", "/api/v1/accounts/"+cl, "op-secret", nil)
			if got.String("name") != "Kept client" || got.String("integrator_id") != in {
				t.Errorf("after restart: %s", got.Raw)
			}
			if r := api.Do(t, "GET", "/api/v1/accounts", "wrong-secret", nil); r.Status != 401 {
				t.Errorf("a wrong bootstrap secret got %d", r.Status)
			}
			second.stop(t)
		})
	}
}

func TestVersionMigrateAndHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, os.Getenv, nil, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "gatehouse ") {
		t.Errorf("version printed %q (%v)", out.String(), err)
	}
	dir := t.TempDir()
	out.Reset()
	env := func(k string) string {
		if k == "GATEHOUSE_DATA_DIR" {
			return dir
		}
		return ""
	}
	if err := run(context.Background(), []string{"migrate", "--log-format", "text"}, env, nil, &out, &errOut); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); err != nil {
		t.Errorf("migrate did not create the database in GATEHOUSE_DATA_DIR: %v", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"help", "serve"}, os.Getenv, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"-addr", "GATEHOUSE_ADDR", "-data-dir", "-database-url", "-public-url", "-smtp-url", "-invitation-ttl", "GATEHOUSE_BOOTSTRAP_TOKEN"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("help serve does not mention %s", flag)
		}
	}
	for _, bad := range [][]string{{"serve", "--invitation-ttl", "soon"}, {"serve", "--no-such-flag"}, {"frobnicate"}, {"serve", "extra"}} {
		errOut.Reset()
		if err := run(context.Background(), bad, os.Getenv, nil, &out, &errOut); err == nil {
			t.Errorf("%v was accepted", bad)
		}
	}
	badURL := func(k string) string {
		if k == "GATEHOUSE_DATABASE_URL" {
			return "mysql://nope"
		}
		return ""
	}
	if err := run(context.Background(), []string{"migrate"}, badURL, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("an unsupported database URL gave %v", err)
	}
}

// Two gatehouse processes on one PostgreSQL: forty concurrent adds of client
// users to one account, spread over both, let exactly nine through (R-L1,
// R-X4).
func TestTwoProcessesHoldTheLimit(t *testing.T) {
	if !storetest.PostgresAvailable(t) {
		return
	}
	bin := buildBinary(t)
	dbURL := storetest.CreatePostgresDatabase(t)
	env := func() []string {
		return []string{"GATEHOUSE_DATABASE_URL=" + dbURL, "GATEHOUSE_BOOTSTRAP_TOKEN=op-secret",
			"GATEHOUSE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "GATEHOUSE_ADDR=127.0.0.1:0"}
	}
	nodes := []*apitest.Env{{URL: startNode(t, bin, env()).url}, {URL: startNode(t, bin, env()).url}}
	in := nodes[0].Must(t, 201, "POST", "/api/v1/accounts", "op-secret", `{"kind":"integrator","name":"Acme"}`).String("id")
	site := nodes[1].Must(t, 201, "POST", "/api/v1/accounts", "op-secret",
		fmt.Sprintf(`{"kind":"client","name":"Site","integrator_id":%q}`, in)).String("id")
	statuses := make([]int, 40)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			body := fmt.Sprintf(`{"username":"p%d@example.com","first_name":"P","last_name":"Q","level":"client_user"}`, i)
			statuses[i] = nodes[i%2].Do(t, "POST", "/api/v1/accounts/"+site+"/users", "op-secret", body).Status
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[201] != 9 || count[409] != 31 {
		t.Errorf("statuses over two processes %v, want 9 × 201 and 31 × 409", count)
	}
}

// Leases of the nodes that tests kill: what a killed node had claimed
// waits this long for the next node, instead of the production two minutes
// (mail) and 15 s (bulk jobs).
const (
	testOutboxLease = 3 * time.Second
	testBulkLease   = 2 * time.Second
)

// nodeEnv is the environment of a node on its own data dir, on SQLite or
// on a fresh PostgreSQL database, with short leases; ok is false when
// PostgreSQL is asked for and absent outside CI (the test then ends,
// skipped).
func nodeEnv(t *testing.T, backend string) (env []string, dataDir string, ok bool) {
	t.Helper()
	dataDir = filepath.Join(t.TempDir(), "data")
	env = []string{"GATEHOUSE_DATA_DIR=" + dataDir, "GATEHOUSE_BOOTSTRAP_TOKEN=op-secret", "GATEHOUSE_ADDR=" + freeAddr(t),
		"GATEHOUSE_OUTBOX_LEASE=" + testOutboxLease.String(), "GATEHOUSE_BULK_LEASE=" + testBulkLease.String()}
	if backend == "postgres" {
		if !storetest.PostgresAvailable(t) {
			return nil, "", false
		}
		env = append(env, "GATEHOUSE_DATABASE_URL="+storetest.CreatePostgresDatabase(t))
	}
	return env, dataDir, true
}

// clientSite makes an integrator and a client account under it allowed
// limit client users, through the API as the bootstrap operator.
func clientSite(t *testing.T, api *apitest.Env, name string, limit int) string {
	t.Helper()
	in := api.Must(t, 201, "POST", "/api/v1/accounts", "op-secret", `{"kind":"integrator","name":"Acme"}`).String("id")
	site := api.Must(t, 201, "POST", "/api/v1/accounts", "op-secret", fmt.Sprintf(`{"kind":"client","name":%q,"integrator_id":%q}`, name, in)).String("id")
	api.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", "op-secret", fmt.Sprintf(`{"max_client_users":%d}`, limit))
	return site
}
