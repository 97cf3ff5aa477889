package store_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/migrations"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A migration that fails part-way leaves the database as it was before it,
// and the migrations before it stay applied.
func TestFailedMigrationLeavesDatabaseAsItWas(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := b.Open(t) // already migrated with the real migrations
			real := migrations.FS(db.Dialect() == store.Postgres)
			broken := fstest.MapFS{"99999_broken.sql": {Data: []byte(`-- +goose Up
CREATE TABLE half_done (id TEXT PRIMARY KEY);
INSERT INTO accounts (id) VALUES ('violates not-null constraints');
-- +goose Down
DROP TABLE half_done;
`)}}
			entries, _ := fs.ReadDir(real, ".")
			for _, e := range entries {
				data, _ := fs.ReadFile(real, e.Name())
				broken[e.Name()] = &fstest.MapFile{Data: data}
			}
			if _, err := db.MigrateFS(ctx, broken); err == nil {
				t.Fatal("broken migration reported success")
			}
			var n int
			conn := db.Pools()
			read := conn["main"]
			if read == nil {
				read = conn["read"]
			}
			err := read.QueryRowContext(ctx, `SELECT count(*) FROM half_done`).Scan(&n)
			if err == nil {
				t.Error("table half_done exists: the failed migration was not rolled back")
			}
			if err := read.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
				t.Errorf("earlier migrations lost: %v", err)
			}
			// Running the real migrations again is a no-op.
			if applied, err := db.Migrate(ctx); err != nil || applied != 0 {
				t.Errorf("re-running migrations applied %d (%v), want 0", applied, err)
			}
		})
	}
}

// A SQLite database serves one process: its authz versions live in that
// process's memory, so a second opening of the file is refused until the
// first is closed.
func TestSQLiteServesOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	first, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if second, err := store.OpenSQLite(context.Background(), path); err == nil {
		second.Close()
		t.Fatal("a second opening of the same SQLite file was allowed")
	}
	first.Close()
	again, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("reopening after close: %v", err)
	}
	again.Close()
}
