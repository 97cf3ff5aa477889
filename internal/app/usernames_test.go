package app

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A database from before usernames were keyed by PRECIS and IDNA, with
// "zoe@example.com" and "ｚｏｅ@example.com" as two identities: once
// re-keyed they read as one username, and whoever runs "gatehouse migrate"
// or watches a node start is told to merge them, every time until they
// are.
func TestMigrateAndServeNameTheUsernamesToMerge(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			cfg := Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", PublicURL: "http://127.0.0.1", InvitationTTL: time.Hour,
				MailFrom: "Gatehouse <noreply@example.com>"}
			var db *store.DB
			var err error
			if b.Name == "postgres" {
				cfg.DatabaseURL = storetest.CreatePostgresDatabase(t)
				db, err = store.OpenPostgres(ctx, cfg.DatabaseURL)
			} else {
				db, err = store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "gatehouse.db"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			pool := db.Pools()["write"]
			if pool == nil {
				pool = db.Pools()["main"]
			}
			for _, stmt := range []string{
				`DELETE FROM username_key_versions`,
				`INSERT INTO users (id, username, username_key, status, created_at) VALUES ('zoe', 'zoe@example.com', 'zoe@example.com', 'active', 1)`,
				`INSERT INTO users (id, username, username_key, status, created_at) VALUES ('zoe-wide', 'ｚｏｅ@example.com', 'ｚｏｅ@example.com', 'active', 2)`,
			} {
				if _, err := pool.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()

			const want = "usernames that now name one identity: zoe@example.com (zoe) and ｚｏｅ@example.com (zoe-wide) — merge them\n"
			for range 2 {
				var out bytes.Buffer
				if err := Migrate(ctx, cfg, slog.New(slog.DiscardHandler), &out); err != nil {
					t.Fatal(err)
				}
				if out.String() != want {
					t.Errorf("migrate printed %q, want %q", out.String(), want)
				}
			}

			var logs bytes.Buffer
			serveCtx, stop := context.WithCancel(ctx)
			defer stop()
			if err := Serve(serveCtx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), func(string) { stop() }); err != nil {
				t.Fatal(err)
			}
			line := ""
			for l := range strings.Lines(logs.String()) {
				if strings.Contains(l, "usernames that now name one identity") {
					line = l
				}
			}
			for _, part := range []string{"level=WARN", "user_id=zoe ", "other_user_id=zoe-wide", "username_key=zoe@example.com"} {
				if !strings.Contains(line, part) {
					t.Errorf("the start logged %q, without %s", line, part)
				}
			}
		})
	}
}
