package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// The writer's log writes are gathered, and nothing a commit wrote is
// gathered once it returns: the read pool sees every commit at once, the
// files left behind by a process that died then hold it, and a commit of
// many pages is written in a few calls, not two a page.
func TestWriterLogWritesGathered(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := OpenSQLite(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(query string, args ...any) error {
		return db.Write(ctx, func(w *WriteTx) error {
			_, err := w.q.ExecContext(ctx, query, args...)
			return err
		})
	}
	if err := exec(`CREATE TABLE notes (n INTEGER PRIMARY KEY, body BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	seen := func(pool *sql.DB) (rows, bytes int64) {
		t.Helper()
		if err := pool.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM notes`).Scan(&rows, &bytes); err != nil {
			t.Fatal(err)
		}
		return rows, bytes
	}

	var wantRows, wantBytes int64
	// Each note fills most of a page. 60 notes are about 250 kB of log, more
	// than one write takes; 600 are more than the writer gathers at once.
	for _, notes := range []int{1, 60, 600, 3, 1} {
		writesBefore := walWrites.Load()
		err := db.Write(ctx, func(w *WriteTx) error {
			for range notes {
				body := make([]byte, 3000)
				rand.Read(body)
				if _, err := w.q.ExecContext(ctx, `INSERT INTO notes (body) VALUES (?)`, body); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantRows, wantBytes = wantRows+int64(notes), wantBytes+int64(notes)*3000
		if rows, bytes := seen(db.read); rows != wantRows || bytes != wantBytes {
			t.Fatalf("after a commit of %d notes the readers see %d notes, %d bytes; want %d, %d", notes, rows, bytes, wantRows, wantBytes)
		}
		// Two writes a page would be over 2 * notes; 128 kB a write is about
		// one per 40 pages.
		switch writes := walWrites.Load() - writesBefore; {
		case writes == 0:
			t.Errorf("a commit of %d notes was not written through the writer's log", notes)
		case notes >= 60 && writes > int64(notes)/20:
			t.Errorf("a commit of %d notes took %d writes to the log", notes, writes)
		}
	}
	// A transaction that fails writes nothing that counts, and the next
	// commit is whole.
	if err := exec(`INSERT INTO notes (n, body) VALUES (1, x'00')`); err == nil {
		t.Fatal("a duplicate note was stored")
	}
	if err := exec(`INSERT INTO notes (body) VALUES (x'0102')`); err != nil {
		t.Fatal(err)
	}
	wantRows, wantBytes = wantRows+1, wantBytes+2

	// The files as a process that died now would leave them.
	crashed := t.TempDir()
	for _, name := range []string{"gatehouse.db", "gatehouse.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(crashed, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyDB, err := sql.Open("sqlite", "file:"+filepath.Join(crashed, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var check string
	if err := copyDB.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity of the files left behind: %q %v", check, err)
	}
	if rows, bytes := seen(copyDB); rows != wantRows || bytes != wantBytes {
		t.Fatalf("the files left behind hold %d notes, %d bytes; want %d, %d", rows, bytes, wantRows, wantBytes)
	}
}
