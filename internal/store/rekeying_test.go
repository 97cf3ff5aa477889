package store_test

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// writePool is the pool that takes writes: raw SQL stands in for what older
// versions of Gatehouse wrote.
func writePool(db *store.DB) *sql.DB {
	pools := db.Pools()
	if p := pools["write"]; p != nil {
		return p
	}
	return pools["main"]
}

// oldUser inserts an identity as the old key rules stored it: key is
// given, not computed.
func oldUser(t *testing.T, db *store.DB, id, username, key string, created time.Time) {
	t.Helper()
	_, err := writePool(db).Exec(`INSERT INTO users (id, username, username_key, status, created_at) VALUES ($1, $2, $3, 'active', $4)`,
		id, username, key, created.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
}

// forgetRekeying makes the database look as if it came from a version of
// Gatehouse before the current key rules.
func forgetRekeying(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := writePool(db).Exec(`DELETE FROM username_key_versions`); err != nil {
		t.Fatal(err)
	}
}

func storedKeys(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	rows, err := writePool(db).Query(`SELECT id, username_key FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	keys := map[string]string{}
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			t.Fatal(err)
		}
		keys[id] = key
	}
	return keys
}

func migrate(t *testing.T, db *store.DB) {
	t.Helper()
	if applied, err := db.Migrate(context.Background()); err != nil || applied != 0 {
		t.Fatalf("migrate: applied %d, %v", applied, err)
	}
}

func collisions(t *testing.T, db *store.DB) []store.UsernameKeyCollision {
	t.Helper()
	list, err := db.UsernameKeyCollisions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// Identities made before usernames were keyed by PRECIS and IDNA are
// re-keyed at the next start, so a look-alike spelling typed later finds
// them. Two that now share a key both stay: the one holding the key keeps
// it (or the older, when neither did), the other keeps its old key, and the
// pair is listed for someone to merge, start after start; a key freed by
// another identity's re-keying is not a collision; re-running changes
// nothing.
func TestRekeyingLookAlikeUsernamesKeepsBothAndRecordsTheCollision(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := b.Open(t)
			forgetRekeying(t, db)
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			oldUser(t, db, "zoe-wide", "ｚｏｅ@example.com", "ｚｏｅ@example.com", t0)
			oldUser(t, db, "zoe", "zoe@example.com", "zoe@example.com", t0.Add(time.Hour))
			oldUser(t, db, "ann-idn", "Ann@Bücher.de", "ann@bücher.de", t0)
			oldUser(t, db, "ann-wide", "Ａnn@Example.COM", "ａnn@example.com", t0)
			oldUser(t, db, "bob-older", "ＢＯＢ@example.com", "ｂｏｂ@example.com", t0)
			oldUser(t, db, "bob-younger", "bob@ＥＸＡＭＰＬＥ.com", "bob@ｅｘａｍｐｌｅ.com", t0.Add(time.Hour))
			// The key that "ＩＸ" wants is the old key of "İx", which moves away
			// (full case mapping keeps the dot): "ＩＸ" gets it on a later pass.
			oldUser(t, db, "ix-wide", "ＩＸ@example.com", "ｉｘ@example.com", t0)
			oldUser(t, db, "i-dot", "İx@example.com", "ix@example.com", t0.Add(time.Hour))

			migrate(t, db)
			want := map[string]string{
				"zoe-wide": "ｚｏｅ@example.com", "zoe": "zoe@example.com",
				"ann-idn": "ann@xn--bcher-kva.de", "ann-wide": "ann@example.com",
				"bob-older": "bob@example.com", "bob-younger": "bob@ｅｘａｍｐｌｅ.com",
				"ix-wide": "ix@example.com", "i-dot": "i\u0307x@example.com",
			}
			if got := storedKeys(t, db); !reflect.DeepEqual(got, want) {
				t.Fatalf("keys after re-keying:\n got %v\nwant %v", got, want)
			}
			for typed, id := range map[string]string{"ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ": "zoe", "ANN@bücher.DE": "ann-idn", "ann@example.com": "ann-wide"} {
				if u, err := db.UserByUsername(ctx, typed); err != nil || u.ID != id {
					t.Errorf("UserByUsername(%q) = %q, %v; want %s", typed, u.ID, err, id)
				}
			}
			list := collisions(t, db)
			type pair struct{ user, username, other, otherUsername, key string }
			var got []pair
			for _, c := range list {
				got = append(got, pair{c.UserID, c.Username, c.OtherUserID, c.OtherUsername, c.Key})
				if c.FoundAt.IsZero() {
					t.Errorf("collision of %s has no date", c.UserID)
				}
			}
			wantPairs := []pair{
				{"bob-younger", "bob@ＥＸＡＭＰＬＥ.com", "bob-older", "ＢＯＢ@example.com", "bob@example.com"},
				{"zoe-wide", "ｚｏｅ@example.com", "zoe", "zoe@example.com", "zoe@example.com"},
			}
			if !reflect.DeepEqual(got, wantPairs) {
				t.Fatalf("collisions:\n got %v\nwant %v", got, wantPairs)
			}

			migrate(t, db)
			if got := storedKeys(t, db); !reflect.DeepEqual(got, want) {
				t.Errorf("keys changed by a second start:\n got %v\nwant %v", got, want)
			}
			if again := collisions(t, db); !reflect.DeepEqual(again, list) {
				t.Errorf("collisions changed by a second start:\n got %v\nwant %v", again, list)
			}
		})
	}
}

// Once the identities are re-keyed under the current rules, later starts do
// not scan them again: the store has keyed every identity since by these
// rules. Forgetting the version makes the next start scan.
func TestUsernameRekeyingScansOncePerKeyVersion(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, _ := b.Open(t) // re-keyed already, with no identity
			oldUser(t, db, "cy", "Ｃｙ@example.com", "ｃｙ@example.com", time.Now())
			migrate(t, db)
			if key := storedKeys(t, db)["cy"]; key != "ｃｙ@example.com" {
				t.Fatalf("a start after the re-keying scanned the identities again: key %q", key)
			}
			forgetRekeying(t, db)
			migrate(t, db)
			if key := storedKeys(t, db)["cy"]; key != "cy@example.com" {
				t.Fatalf("key %q, want cy@example.com", key)
			}
			var n int
			if err := writePool(db).QueryRow(`SELECT count(*) FROM username_key_versions`).Scan(&n); err != nil || n != 1 {
				t.Errorf("%d versions recorded (%v), want 1", n, err)
			}
		})
	}
}

// A collision ends by itself once the key is free (the identity holding it
// was renamed): the next start gives the key to the identity waiting for it
// and stops listing the pair.
func TestRecordedUsernameCollisionEndsWhenTheKeyIsFreed(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, _ := b.Open(t)
			forgetRekeying(t, db)
			oldUser(t, db, "zoe-wide", "ｚｏｅ@example.com", "ｚｏｅ@example.com", time.Now())
			oldUser(t, db, "zoe", "zoe@example.com", "zoe@example.com", time.Now())
			migrate(t, db)
			if n := len(collisions(t, db)); n != 1 {
				t.Fatalf("%d collisions, want 1", n)
			}
			if _, err := writePool(db).Exec(`UPDATE users SET username = 'zoe.lee@example.com', username_key = 'zoe.lee@example.com' WHERE id = 'zoe'`); err != nil {
				t.Fatal(err)
			}
			migrate(t, db)
			if list := collisions(t, db); len(list) != 0 {
				t.Errorf("collisions still listed: %v", list)
			}
			if key := storedKeys(t, db)["zoe-wide"]; key != "zoe@example.com" {
				t.Errorf("the identity waiting for its key has %q", key)
			}
		})
	}
}
