package store

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
)

// Rebalancing an index of random keys moves pages through the lock-byte
// page's number; the commits after it must not walk the writer's whole page
// cache for it, and the database stays whole.
func TestRebalancesLeaveThePageCacheShort(t *testing.T) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !pageCacheInstalled.Load() {
		t.Fatal("SQLite was initialized before the store opened: its own page cache is in use")
	}
	exec := func(query string, args ...any) error {
		return db.Write(ctx, func(w *WriteTx) error {
			_, err := w.q.ExecContext(ctx, query, args...)
			return err
		})
	}
	if err := exec(`CREATE TABLE keys (id INTEGER PRIMARY KEY, k BLOB NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	movesBefore, walksBefore := spareKeyMoves.Load(), wholeCacheWalks.Load()
	// Random keys land all over their index, whose pages split among
	// siblings allocated at different times: out of order, swapped.
	const commits, perCommit = 60, 100
	for range commits {
		err := db.Write(ctx, func(w *WriteTx) error {
			for range perCommit {
				if _, err := w.q.ExecContext(ctx, `INSERT INTO keys (k) VALUES (?)`, rand.Text()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	moves, walks := spareKeyMoves.Load()-movesBefore, wholeCacheWalks.Load()-walksBefore
	if moves == 0 {
		t.Fatal("no page was moved through the lock-byte page: the test did not rebalance as meant")
	}
	if walks != 0 {
		t.Errorf("%d truncations walked a whole page cache after %d moves through the lock-byte page, want none", walks, moves)
	}
	var count int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM keys`).Scan(&count); err != nil || count != commits*perCommit {
		t.Fatalf("%d keys (%v), want %d", count, err, commits*perCommit)
	}
	var check string
	if err := db.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
}
