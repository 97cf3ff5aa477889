package ops

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gatehouse/gatehouse/internal/dataset"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/filelock"
	"github.com/gatehouse/gatehouse/internal/store/migrations"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The checksum of a table does not depend on the order of its rows, sees
// every value, and reads a SQLite 0/1 and a PostgreSQL boolean alike.
func TestTableSumComparesRowsNotOrder(t *testing.T) {
	kinds := []kind{kindText, kindInt, kindBool, kindBytes}
	sum := func(rows ...[]any) string {
		s := &tableSum{}
		for _, row := range rows {
			for i, v := range row {
				if err := s.canonical(kinds[i], v); err != nil {
					t.Fatal(err)
				}
			}
			s.endRow()
		}
		return s.String()
	}
	a := []any{"a", int64(1), int64(1), []byte{1}}
	b := []any{"b", int64(2), int64(0), nil}
	same := sum(a, b)
	if got := sum(b, a); got != same {
		t.Error("the order of the rows changed the sum")
	}
	if got := sum([]any{"a", int32(1), true, "\x01"}, []any{"b", int16(2), false, nil}); got != same {
		t.Error("PostgreSQL's types of the same values gave another sum")
	}
	for _, changed := range [][]any{
		{"a ", int64(1), int64(1), []byte{1}},
		{"a", int64(1), int64(2), []byte{1}},
		{"a", int64(1), int64(1), []byte{}},
		{"a", nil, int64(1), []byte{1}},
	} {
		if sum(changed, b) == same {
			t.Errorf("%q sums as %q", changed, a)
		}
	}
	if sum(a) == sum(a, a) || sum() == sum(a, b, b) {
		t.Error("a row repeated went unseen")
	}
}

// populated is a SQLite installation with a bit of everything the copy
// treats apart: an account tree, members, folders, grants and groups from
// the dataset generator, audit events that are events of the feed and
// others, and mail still to send.
func populated(t *testing.T) (dataDir string, events []gatehouse.Event) {
	t.Helper()
	ctx := context.Background()
	dataDir = installation(t, migrations.FS(false))
	db, err := store.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct, err := dataset.Build(ctx, db, dataset.Spec{Folders: 40, Depth: 4, Branching: 3, Members: 30, Groups: 4, Grants: 60,
		CustomRoles: 3, AccountWideShare: 0.3, GroupSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	err = db.Write(ctx, func(tx *store.WriteTx) error {
		for i := range 20 {
			action := "account.updated" // an event of the feed
			if i%3 == 0 {
				action = "session.signed_in" // an audit event only
			}
			if err := tx.InsertAuditEvent(ctx, gatehouse.AuditEvent{ID: kernel.NewID(), AccountID: acct.ID, At: now, ActorID: "operator",
				Action: action, TargetType: "account", TargetID: acct.ID, IP: "192.0.2.1",
				Changes: []gatehouse.AuditChange{{Field: "name", Before: fmt.Sprint(i), After: fmt.Sprint(i + 1)}}}); err != nil {
				return err
			}
			id := kernel.NewID()
			if err := tx.EnqueueMessage(ctx, gatehouse.Message{ID: id, MessageID: id + "@gatehouse.example", To: "someone@example.com",
				Subject: "Pending", Body: "still to send", CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dataDir, feed(t, db)
}

// feed is every event of the feed, from its start.
func feed(t *testing.T, db *store.DB) []gatehouse.Event {
	t.Helper()
	events, cursors, err := db.EventsAfter(context.Background(), "", gatehouse.EventCursor{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(cursors) {
		t.Fatalf("%d events, %d cursors", len(events), len(cursors))
	}
	return events
}

// countRows counts the rows of every table of a database.
func countRows(t *testing.T, db *sql.DB, tables []string) map[string]int64 {
	t.Helper()
	counts := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	return counts
}

// A copy moves every row of every table, keeps the feed's events in their
// order under the cursors SQLite gave, and sets the feed's sequence past
// SQLite's counter, so that the next event comes after them.
func TestCopyKeepsEveryRowAndTheFeed(t *testing.T) {
	if !storetest.PostgresAvailable(t) {
		return
	}
	ctx := context.Background()
	dataDir, before := populated(t)
	target := storetest.CreatePostgresDatabase(t)
	done, err := Copy(ctx, CopyOptions{From: dataDir, To: target})
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, table := range done.Tables {
		tables = append(tables, table.Table)
	}
	source, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, databaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer source.Close()
	pg, err := store.OpenPostgres(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	want, got := countRows(t, source, tables), countRows(t, pg.Pools()["main"], tables)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("rows on SQLite %v, on PostgreSQL %v", want, got)
	}
	for _, table := range []string{"users", "memberships", "folders", "folder_grants", "audit_events", "outbox"} {
		if want[table] == 0 {
			t.Errorf("the source has no %s: the test copies too little", table)
		}
	}

	after := feed(t, pg)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the feed on SQLite:\n%v\non PostgreSQL:\n%v", before, after)
	}
	var counter int64
	if err := source.QueryRow(`SELECT MAX(seq) FROM audit_events`).Scan(&counter); err != nil {
		t.Fatal(err)
	}
	_, cursors, _ := pg.EventsAfter(ctx, "", gatehouse.EventCursor{}, 1000)
	if len(cursors) == 0 {
		t.Fatal("the feed on PostgreSQL is empty")
	}
	last := cursors[len(cursors)-1]
	if last.TX != 0 || last.Seq != counter {
		t.Errorf("the last copied event's cursor is %v; SQLite's was 0.%d", last, counter)
	}
	account := before[0].AccountID
	if err := pg.Write(ctx, func(tx *store.WriteTx) error {
		return tx.InsertAuditEvent(ctx, gatehouse.AuditEvent{ID: kernel.NewID(), AccountID: account, At: time.Now(), ActorID: "operator",
			Action: "account.updated", TargetType: "account", TargetID: account,
			Changes: []gatehouse.AuditChange{{Field: "name", Before: "x", After: "y"}}})
	}); err != nil {
		t.Fatal(err)
	}
	var next []gatehouse.EventCursor
	for deadline := time.Now().Add(5 * time.Second); len(next) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, next, err = pg.EventsAfter(ctx, "", last, 10)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(next) != 1 || next[0].TX == 0 || next[0].Seq <= counter {
		t.Errorf("after the last copied cursor %v, the feed gives %v: want the new event alone, numbered past %d", last, next, counter)
	}
}

// The copy goes into an empty database only, and from a data dir no node
// serves, at this binary's schema; what it refuses, it leaves as it was.
func TestCopyRefuses(t *testing.T) {
	if !storetest.PostgresAvailable(t) {
		return
	}
	ctx := context.Background()
	source := installation(t, migrations.FS(false), "Acme")

	t.Run("a target holding data", func(t *testing.T) {
		db, url := storetest.OpenPostgres(t)
		now := time.Now()
		if err := db.Write(ctx, func(tx *store.WriteTx) error {
			return tx.InsertAccount(ctx, gatehouse.Account{ID: kernel.NewID(), Kind: gatehouse.KindIntegrator, Name: "Already there",
				CreatedAt: now, UpdatedAt: now})
		}); err != nil {
			t.Fatal(err)
		}
		_, err := Copy(ctx, CopyOptions{From: source, To: url})
		if !errors.Is(err, ErrNotEmpty) {
			t.Fatalf("copy into a database holding an account: %v", err)
		}
		t.Log(err)
		page, err := db.ListAccounts(ctx, gatehouse.AccountFilter{Page: gatehouse.PageRequest{Limit: 10}})
		if err != nil || len(page.Items) != 1 || page.Items[0].Name != "Already there" {
			t.Errorf("the target after the refusal: %v %v", page.Items, err)
		}
	})
	t.Run("a target holding other tables", func(t *testing.T) {
		url := storetest.CreatePostgresDatabase(t)
		other, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if _, err := other.Exec(`CREATE TABLE invoices (id int PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		if _, err := Copy(ctx, CopyOptions{From: source, To: url}); !errors.Is(err, ErrNotEmpty) {
			t.Fatalf("copy into another application's database: %v", err)
		}
		var tables int
		if err := other.QueryRow(`SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&tables); err != nil || tables != 1 {
			t.Errorf("the refused copy left %d tables (%v), want the one that was there", tables, err)
		}
	})
	t.Run("a data dir a node serves", func(t *testing.T) {
		node, err := filelock.Exclusive(filepath.Join(source, lockFile))
		if err != nil {
			t.Fatal(err)
		}
		defer node.Close()
		if _, err := Copy(ctx, CopyOptions{From: source, To: storetest.CreatePostgresDatabase(t)}); !errors.Is(err, ErrInUse) {
			t.Errorf("copy of a served data dir: %v", err)
		}
	})
	t.Run("an older schema", func(t *testing.T) {
		older := fstest.MapFS{}
		all := migrations.FS(false)
		names, _ := fs.Glob(all, "*.sql")
		for _, name := range names[:len(names)-1] {
			data, _ := fs.ReadFile(all, name)
			older[name] = &fstest.MapFile{Data: data}
		}
		if _, err := Copy(ctx, CopyOptions{From: installation(t, older), To: storetest.CreatePostgresDatabase(t)}); !errors.Is(err, ErrOlderSchema) {
			t.Errorf("copy of a database one migration behind: %v", err)
		}
	})
	t.Run("a migrated empty target", func(t *testing.T) {
		_, url := storetest.OpenPostgres(t)
		if _, err := Copy(ctx, CopyOptions{From: source, To: url}); err != nil {
			t.Errorf("copy into a database migrated by gatehouse migrate, empty: %v", err)
		}
	})
}
