// Package storetest holds the contract every store must keep, and helpers
// that give tests a fresh, migrated database of each kind: SQLite in a
// temporary directory always, PostgreSQL when a server is reachable (and
// always in CI, where a missing server fails the run instead of skipping).
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the admin connection

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/migrations"
)

// DefaultPostgresURL is the server tests use unless GATEHOUSE_TEST_POSTGRES_URL
// names another; it must allow CREATE DATABASE.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Backend opens a fresh, migrated, empty database of one kind.
type Backend struct {
	Name string
	// Open returns the store and the URL another process can reach it by
	// ("" for SQLite, whose path is in the data dir).
	Open func(t testing.TB) (*store.DB, string)
}

// Backends returns SQLite and, when available, PostgreSQL.
func Backends(t testing.TB) []Backend {
	backends := []Backend{{Name: "sqlite", Open: OpenSQLite}}
	if PostgresAvailable(t) {
		backends = append(backends, Backend{Name: "postgres", Open: OpenPostgres})
	}
	return backends
}

// OpenSQLite opens a migrated SQLite store in a temporary directory. The
// migrations run once per schema: each test starts from a copy of a
// migrated file (migrating takes most of a second under the race detector;
// a copy, a millisecond).
func OpenSQLite(t testing.TB) (*store.DB, string) {
	t.Helper()
	template, err := sqliteTemplate()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	if err := copyFile(template, path); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, ""
}

// schemaVersion names the schema tests start from: the migrations of both
// databases and the username key rules they re-key to.
var schemaVersion = sync.OnceValue(func() string {
	h := sha256.New()
	for _, postgres := range []bool{false, true} {
		dir := migrations.FS(postgres)
		_ = fs.WalkDir(dir, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(dir, path)
			fmt.Fprintf(h, "%s %d\n", path, len(data))
			h.Write(data)
			return err
		})
	}
	fmt.Fprintf(h, "username keys %d", gatehouse.UsernameKeyVersion)
	return hex.EncodeToString(h.Sum(nil))[:16]
})

// sqliteTemplate is the path of a migrated SQLite file of today's schema,
// made once (and shared by the test processes of one run: it is written
// under another name, then renamed into place).
var sqliteTemplate = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(os.TempDir(), "gatehouse-test-schema-"+schemaVersion())
	path := filepath.Join(dir, "gatehouse.db")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(dir, "making-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	db, err := store.OpenSQLite(context.Background(), filepath.Join(work, "gatehouse.db"))
	if err != nil {
		return "", err
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		db.Close()
		return "", err
	}
	// Closing the last connection checkpoints the WAL into the file.
	if err := db.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(filepath.Join(work, "gatehouse.db"), path)
})

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}

// PostgresURL is the admin URL of the test server.
func PostgresURL() string {
	if u := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// PostgresAvailable reports whether the test server answers. Outside CI a
// missing server skips the PostgreSQL half with a message; in CI (CI=true)
// it fails the test, so the suite can never pass by silently skipping.
func PostgresAvailable(t testing.TB) bool {
	t.Helper()
	admin, err := sql.Open("pgx", PostgresURL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = admin.PingContext(ctx)
		cancel()
		admin.Close()
	}
	if err == nil {
		return true
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL is required in CI but %s does not answer: %v", PostgresURL(), err)
	}
	t.Logf("PostgreSQL tests skipped: %s does not answer (%v). Start PostgreSQL or set GATEHOUSE_TEST_POSTGRES_URL to run them.", PostgresURL(), err)
	return false
}

// OpenPostgres creates a throwaway database on the test server, copied
// from a migrated template of today's schema (made once per schema), and
// drops it when the test ends. It returns the store and the database's URL.
func OpenPostgres(t testing.TB) (*store.DB, string) {
	t.Helper()
	template, err := postgresTemplate()
	if err != nil {
		t.Fatal(err)
	}
	dbURL := createPostgresDatabase(t, template)
	db, err := store.OpenPostgres(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dbURL
}

// postgresTemplate is the name of a migrated database of today's schema on
// the test server. Test processes of one run make it once between them,
// under an advisory lock, migrating a database of another name and renaming
// it into place, so that none ever copies a half-migrated one.
//
// A process that uses a template holds a shared advisory lock on its name
// for as long as it lives (templateInUse), and templates of other schemas
// are dropped only when nobody holds theirs: two checkouts of different
// schemas tested at once on one server keep their own.
var postgresTemplate = sync.OnceValues(func() (string, error) {
	name := "gatehouse_schema_" + schemaVersion()
	if err := templateInUse(name); err != nil {
		return "", err
	}
	admin, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		return "", err
	}
	defer admin.Close()
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	const lock = 0x67617465 // "gate"
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, lock) //nolint:errcheck // the connection closes next
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || exists {
		return name, err
	}
	// Templates of earlier schemas are of no more use.
	if rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'gatehouse\_schema\_%' AND datname <> $1`, name); err == nil {
		var old []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				old = append(old, n)
			}
		}
		rows.Close()
		for _, n := range old {
			var free bool
			if conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, n).Scan(&free) != nil || !free {
				continue // a process testing that schema still copies it
			}
			_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n) // one being copied right now stays
			_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext($1))`, n)
		}
	}
	work := name + "_making"
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+work+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+work); err != nil {
		return "", err
	}
	u, err := url.Parse(PostgresURL())
	if err != nil {
		return "", err
	}
	u.Path = "/" + work
	db, err := store.OpenPostgres(ctx, u.String())
	if err != nil {
		return "", err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return "", err
	}
	if err := db.Close(); err != nil {
		return "", err
	}
	_, err = conn.ExecContext(ctx, "ALTER DATABASE "+work+" RENAME TO "+name)
	return name, err
})

// templateInUse takes a shared advisory lock on the template's name on a
// connection kept open until the process ends, which releases it.
func templateInUse(name string) error {
	db, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	conn, err := db.Conn(context.Background())
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(context.Background(), `SELECT pg_advisory_lock_shared(hashtext($1))`, name)
	templateLocks = append(templateLocks, conn)
	return err
}

// templateLocks keeps the connections holding templateInUse's locks.
var templateLocks []*sql.Conn

// CreatePostgresDatabase creates an empty database and returns its URL; it is
// dropped (with any connections left to it) when the test ends.
func CreatePostgresDatabase(t testing.TB) string {
	t.Helper()
	return createPostgresDatabase(t, "")
}

// createPostgresDatabase creates a database, a copy of template when one is
// named, and drops it when the test ends.
func createPostgresDatabase(t testing.TB, template string) string {
	t.Helper()
	admin, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "gatehouse_test_" + hex.EncodeToString(b[:])
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	if _, err := admin.Exec(create); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return fmt.Sprint(u)
}
