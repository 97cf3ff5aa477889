package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ReplicatedPostgres is a primary and a hot standby that streams from it,
// two throwaway PostgreSQL servers of this machine's binaries, in a
// temporary directory, on free ports of 127.0.0.1 (never the shared test
// server's). The primary commits only once the standby has the commit
// (synchronous_standby_names), so whatever was acknowledged survives the
// primary's death. Both are stopped and their files removed when the test
// ends, whatever its outcome.
type ReplicatedPostgres struct {
	Primary, Standby PostgresServer
	bin              string
	// asPostgres runs the servers' programs as the postgres user when the
	// tests run as root, which PostgreSQL refuses to run as.
	asPostgres bool
}

// PostgresServer is one server of a ReplicatedPostgres.
type PostgresServer struct {
	Name string
	Dir  string // the data directory
	Port int
	log  string
}

// Addr is the server's host:port.
func (s PostgresServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is a connection URL of database db on this server alone.
func (s PostgresServer) URL(db string) string {
	return "postgres://postgres@" + s.Addr() + "/" + db + "?sslmode=disable"
}

// FailoverURL names database db on both servers: a client connects to
// whichever is writable now (target_session_attrs=read-write), the
// primary, then the standby once promoted; connect_timeout bounds the time
// spent on a host that does not answer.
func (r *ReplicatedPostgres) FailoverURL(db string) string {
	return "postgres://postgres@" + r.Primary.Addr() + "," + r.Standby.Addr() + "/" + db +
		"?sslmode=disable&target_session_attrs=read-write&connect_timeout=2"
}

// postgresPrograms are the programs a ReplicatedPostgres runs.
var postgresPrograms = []string{"initdb", "pg_ctl", "pg_basebackup", "postgres"}

// PostgresBinaries finds the directory of this machine's PostgreSQL server
// programs: GATEHOUSE_TEST_POSTGRES_BIN if set, else the newest
// /usr/lib/postgresql/<version>/bin, else pg_config's bindir. ok is false
// when there is none; outside CI the test is then skipped with a message,
// in CI (CI=true) it fails.
func PostgresBinaries(t testing.TB) (dir string, ok bool) {
	t.Helper()
	candidates := []string{os.Getenv("GATEHOUSE_TEST_POSTGRES_BIN")}
	installed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(installed, func(a, b string) int { return versionOf(b) - versionOf(a) }) // newest first
	candidates = append(candidates, installed...)
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	for _, c := range candidates {
		if c != "" && hasPrograms(c) {
			return c, true
		}
	}
	msg := "PostgreSQL's server programs (" + strings.Join(postgresPrograms, ", ") +
		") are not in /usr/lib/postgresql/*/bin nor pg_config --bindir; install the postgresql package or set GATEHOUSE_TEST_POSTGRES_BIN"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("skipped: " + msg)
	return "", false
}

// versionOf reads the major version in /usr/lib/postgresql/<version>/bin.
func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func hasPrograms(dir string) bool {
	for _, p := range postgresPrograms {
		if info, err := os.Stat(filepath.Join(dir, p)); err != nil || info.IsDir() {
			return false
		}
	}
	return true
}

// StartReplicatedPostgres starts a primary, copies it with pg_basebackup
// into a streaming standby, waits until the standby is the primary's
// synchronous one, and creates database db on the primary.
func StartReplicatedPostgres(t testing.TB, db string) *ReplicatedPostgres {
	t.Helper()
	bin, ok := PostgresBinaries(t)
	if !ok {
		return nil
	}
	r := &ReplicatedPostgres{bin: bin, asPostgres: os.Geteuid() == 0}
	root, err := os.MkdirTemp("", "gatehouse-replication-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if r.asPostgres {
		if err := chownToPostgres(root); err != nil {
			t.Fatalf("PostgreSQL refuses to run as root, and the postgres user cannot have %s: %v", root, err)
		}
	}
	r.Primary = PostgresServer{Name: "primary", Dir: filepath.Join(root, "primary"), Port: freePort(t), log: filepath.Join(root, "primary.log")}
	r.Standby = PostgresServer{Name: "standby", Dir: filepath.Join(root, "standby"), Port: freePort(t), log: filepath.Join(root, "standby.log")}
	t.Cleanup(func() {
		// Immediate: nothing of these servers is worth a checkpoint.
		for _, s := range []PostgresServer{r.Standby, r.Primary} {
			if _, err := os.Stat(filepath.Join(s.Dir, "postmaster.pid")); err == nil {
				_, _ = r.run(root, "pg_ctl", "stop", "-D", s.Dir, "-m", "immediate", "-w", "-t", "30")
			}
		}
		if t.Failed() {
			for _, s := range []PostgresServer{r.Primary, r.Standby} {
				logged, _ := os.ReadFile(s.log)
				t.Logf("%s's log:\n%s", s.Name, tail(string(logged), 40))
			}
		}
	})

	if out, err := r.run(root, "initdb", "-D", r.Primary.Dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
		"--no-sync", "--no-instructions"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// Only TCP on 127.0.0.1, a port of its own: nothing here can reach
	// another server of the machine, nor be reached by its clients by
	// mistake. fsync is off because the test kills servers, never the
	// machine: what a killed server wrote is still in the page cache.
	appendConf(t, r.Primary.Dir, map[string]string{
		"listen_addresses":          "'127.0.0.1'",
		"port":                      strconv.Itoa(r.Primary.Port),
		"unix_socket_directories":   "''",
		"fsync":                     "off",
		"shared_buffers":            "32MB",
		"max_connections":           "120",
		"wal_level":                 "replica",
		"max_wal_senders":           "4",
		"synchronous_standby_names": "'standby'",
		"synchronous_commit":        "on",
	})
	r.start(t, root, r.Primary)
	if out, err := r.run(root, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(r.Primary.Port), "-U", "postgres",
		"-D", r.Standby.Dir, "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	// The standby names itself in its replication connection (cluster_name
	// is the walreceiver's application_name), which the primary's
	// synchronous_standby_names waits for. Its own list is empty: once
	// promoted it has no standby, and a list naming one would hold every
	// commit forever.
	appendConf(t, r.Standby.Dir, map[string]string{
		"port":                      strconv.Itoa(r.Standby.Port),
		"cluster_name":              "'standby'",
		"synchronous_standby_names": "''",
	})
	r.start(t, root, r.Standby)

	admin, err := sql.Open("pgx", r.Primary.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		var state string
		err := admin.QueryRowContext(ctx, `SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'`).Scan(&state)
		if err == nil && state == "sync" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the standby did not become the primary's synchronous standby: %q %v", state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	return r
}

// StopPrimary stops the primary with pg_ctl stop -m mode: "immediate" as
// a crash would (no checkpoint, every connection cut), "fast" as an
// operator would (sessions ended with an error, then a checkpoint).
func (r *ReplicatedPostgres) StopPrimary(t testing.TB, mode string) {
	t.Helper()
	if out, err := r.run(filepath.Dir(r.Primary.Dir), "pg_ctl", "stop", "-D", r.Primary.Dir, "-m", mode, "-w", "-t", "30"); err != nil {
		t.Fatalf("stop the primary: %v\n%s", err, out)
	}
}

// PromoteStandby makes the standby the primary, and returns once it
// accepts writes.
func (r *ReplicatedPostgres) PromoteStandby(t testing.TB) {
	t.Helper()
	if out, err := r.run(filepath.Dir(r.Standby.Dir), "pg_ctl", "promote", "-D", r.Standby.Dir, "-w", "-t", "30"); err != nil {
		t.Fatalf("promote the standby: %v\n%s", err, out)
	}
}

func (r *ReplicatedPostgres) start(t testing.TB, root string, s PostgresServer) {
	t.Helper()
	if out, err := r.run(root, "pg_ctl", "start", "-D", s.Dir, "-l", s.log, "-w", "-t", "60"); err != nil {
		logged, _ := os.ReadFile(s.log)
		t.Fatalf("start the %s: %v\n%s\n%s", s.Name, err, out, logged)
	}
}

// run runs one of the server programs in dir (which the postgres user can
// enter), as the postgres user when the tests run as root.
func (r *ReplicatedPostgres) run(dir, program string, args ...string) ([]byte, error) {
	path := filepath.Join(r.bin, program)
	var cmd *exec.Cmd
	if r.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = dir
	// pg_ctl's server keeps its output in the log file; a pipe left open
	// by it would hold CombinedOutput until the server stops.
	return cmd.CombinedOutput()
}

// chownToPostgres gives dir to the postgres user.
func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// appendConf adds settings to a server's postgresql.conf; a later line
// overrides an earlier one.
func appendConf(t testing.TB, dataDir string, settings map[string]string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if _, err := fmt.Fprintf(f, "%s = %s\n", k, settings[k]); err != nil {
			t.Fatal(err)
		}
	}
}

// freePort is a TCP port of 127.0.0.1 free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
