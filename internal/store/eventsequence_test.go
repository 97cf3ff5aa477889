package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SQLite's writer numbers the feed's events in memory. A consumer's cursor
// must still never see a number twice: not after the node restarts, not
// after a rolled-back write took numbers, and not after the account that
// held the newest events was purged.
func TestFeedNumbersGoOnAcrossRestartsRollbacksAndPurges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *store.DB {
		db, err := store.Open(ctx, "", dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	account := func(name string) gatehouse.Account {
		return gatehouse.Account{ID: kernel.NewID(), Kind: gatehouse.KindIntegrator, Name: name, Status: gatehouse.AccountActive,
			Settings: gatehouse.AccountSettings{MaxClientUsers: 9}, TimeZone: gatehouse.DefaultTimeZone, CreatedAt: now, UpdatedAt: now}
	}
	event := func(tx *store.WriteTx, accountID string) error {
		return tx.InsertAuditEvent(ctx, gatehouse.AuditEvent{ID: kernel.NewID(), AccountID: accountID, At: now, ActorID: "operator",
			Action: "account.updated", TargetType: "account", TargetID: accountID,
			Changes: []gatehouse.AuditChange{{Field: "name", Before: "x", After: "y"}}})
	}
	write := func(db *store.DB, fn func(*store.WriteTx) error) {
		t.Helper()
		if err := db.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	// feedAfter reads the feed after the number seq and returns the numbers
	// it gives.
	feedAfter := func(db *store.DB, seq int64) []int64 {
		t.Helper()
		_, cursors, err := db.EventsAfter(ctx, "", gatehouse.EventCursor{Seq: seq}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var numbers []int64
		for _, c := range cursors {
			numbers = append(numbers, c.Seq)
		}
		return numbers
	}

	db := open()
	kept, purged := account("Kept"), account("Purged")
	write(db, func(tx *store.WriteTx) error {
		for _, a := range []gatehouse.Account{kept, purged} {
			if err := tx.InsertAccount(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	write(db, func(tx *store.WriteTx) error { return event(tx, kept.ID) })
	write(db, func(tx *store.WriteTx) error { return event(tx, purged.ID) })
	rollBack := errors.New("rolled back")
	if err := db.Write(ctx, func(tx *store.WriteTx) error {
		if err := event(tx, kept.ID); err != nil {
			return err
		}
		return rollBack
	}); !errors.Is(err, rollBack) {
		t.Fatalf("the write that rolls back returned %v", err)
	}
	write(db, func(tx *store.WriteTx) error { return event(tx, purged.ID) })
	all := feedAfter(db, 0)
	if len(all) != 3 || all[0] >= all[1] || all[1] >= all[2] {
		t.Fatalf("three committed events numbered %v; want three rising numbers", all)
	}
	last := all[2]

	// Restarted: the next event goes on past the last one committed.
	db.Close()
	db = open()
	write(db, func(tx *store.WriteTx) error { return event(tx, kept.ID) })
	if got := feedAfter(db, last); len(got) != 1 || got[0] <= last {
		t.Fatalf("after a restart the feed after %d gives %v; want one event past it", last, got)
	}
	last = feedAfter(db, last)[0]

	// The purged account held the newest event: its purge takes it, and
	// after a restart the numbers still go on past it.
	write(db, func(tx *store.WriteTx) error { return event(tx, purged.ID) })
	newestPurged := feedAfter(db, last)[0]
	write(db, func(tx *store.WriteTx) error {
		if err := tx.SetAccountStatus(ctx, purged.ID, gatehouse.AccountDeleted, now); err != nil {
			return err
		}
		return tx.PurgeAccount(ctx, purged.ID)
	})
	if got := feedAfter(db, last); len(got) != 0 {
		t.Fatalf("the purged account's events are still in the feed: %v", got)
	}
	db.Close()
	db = open()
	defer db.Close()
	write(db, func(tx *store.WriteTx) error { return event(tx, kept.ID) })
	if got := feedAfter(db, last); len(got) != 1 || got[0] <= newestPurged {
		t.Fatalf("after the purge and a restart the feed after %d gives %v; want one event past the purged %d", last, got, newestPurged)
	}
}
