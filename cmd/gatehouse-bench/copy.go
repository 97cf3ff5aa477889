package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/ops"
)

// benchCopy measures what moving a SQLite installation of users people to
// PostgreSQL costs: it fills a node through HTTP (one bulk invitation of
// users lines, each an identity, a membership, an invitation, its e-mail in
// the outbox and audit events; 1,000 single adds over 10 client sites),
// stops it, and times the downtime, from the moment the SQLite node
// stopped to the moment a node on the copy serves: `gatehouse copy`
// (migrate, COPY, verify, analyze) and the new node's start. It also times
// a backup of the same installation and its restore.
func benchCopy(users, workers int) error {
	ctx := context.Background()
	dataDir, err := os.MkdirTemp("", "gatehouse-bench-copy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	fmt.Printf("gatehouse-bench copy: %d people, %d cores, GOMAXPROCS %d\n", users, runtime.NumCPU(), runtime.GOMAXPROCS(0))

	sqlite, err := serve(app.Config{DataDir: dataDir})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}}
	_, body, err := do(client, "POST", sqlite.url+"/api/v1/accounts", `{"kind":"integrator","name":"Bench Integrator"}`)
	if err != nil {
		return err
	}
	integratorID := between(body, `"id":"`, `"`)
	const sites, singles = 10, 1000
	siteIDs := make([]string, sites)
	for i := range siteIDs {
		_, body, err := do(client, "POST", sqlite.url+"/api/v1/accounts", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Site %d"}`, integratorID, i))
		if err != nil {
			return err
		}
		siteIDs[i] = between(body, `"id":"`, `"`)
		if status, body, err := do(client, "PATCH", sqlite.url+"/api/v1/accounts/"+siteIDs[i]+"/settings", `{"max_client_users":1000}`); err != nil || status != 200 {
			return fmt.Errorf("settings: %d %s %v", status, body, err)
		}
	}
	if err := postConcurrently(client, sqlite.url, "single adds via HTTP", singles, workers, func(i int64) (string, string) {
		return "/api/v1/accounts/" + siteIDs[i%sites] + "/users",
			fmt.Sprintf(`{"username":"single%d@bench.example","first_name":"User","last_name":"%d","level":"client_user"}`, i, i)
	}); err != nil {
		return err
	}
	preview, confirm, err := bulkInvite(client, sqlite.url, integratorID, "copy", users-singles)
	if err != nil {
		return err
	}
	fmt.Printf("filled: bulk of %d in %.1fs + %.1fs\n", users-singles, preview.Seconds(), confirm.Seconds())
	// The operator makes the database before stopping the node.
	dbURL, drop, err := createPostgresDatabase()
	if err != nil {
		return err
	}
	defer drop()
	sqlite.stop()
	stopped := time.Now()
	size := int64(0)
	if info, err := os.Stat(filepath.Join(dataDir, "gatehouse.db")); err == nil {
		size = info.Size()
	}
	mails, _ := filepath.Glob(filepath.Join(dataDir, "mail", "*.eml"))
	fmt.Printf("SQLite node stopped: gatehouse.db %.0f MB, %d e-mails sent, the rest still in the outbox\n", float64(size)/1e6, len(mails))

	// The downtime: the copy, then a node on PostgreSQL.
	began := time.Now()
	copied, err := ops.Copy(ctx, ops.CopyOptions{From: dataDir, To: dbURL})
	if err != nil {
		return err
	}
	copyTook := time.Since(began)
	key, err := os.ReadFile(filepath.Join(dataDir, "secret.key"))
	if err != nil {
		return err
	}
	pgDataDir, err := os.MkdirTemp("", "gatehouse-bench-copy-pg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(pgDataDir)
	pg, err := serve(app.Config{DataDir: pgDataDir, DatabaseURL: dbURL, SecretKey: strings.TrimSpace(string(key))})
	if err != nil {
		return err
	}
	downtime := time.Since(stopped)
	status, body, err := do(client, "GET", pg.url+"/api/v1/accounts/"+integratorID+"/users?limit=1", "")
	pg.stop()
	if err != nil || status != 200 || !strings.Contains(body, "copy") {
		return fmt.Errorf("the node on the copy: %d %.200s %v", status, body, err)
	}
	fmt.Printf("copy: %d rows of %d tables in %.1fs (migrate %.1fs, COPY %.1fs, verify %.1fs, analyze %.1fs)\n",
		copied.Rows(), len(copied.Tables), copyTook.Seconds(), copied.Migrate.Seconds(), copied.CopyRows.Seconds(),
		copied.Verify.Seconds(), copied.Analyze.Seconds())
	for _, t := range copied.Tables {
		if t.Rows >= 10000 {
			fmt.Printf("  %-22s %8d rows %5.1fs\n", t.Table, t.Rows, t.Took.Seconds())
		}
	}
	fmt.Printf("downtime, SQLite node stopped to PostgreSQL node serving: %.1fs\n", downtime.Seconds())

	// A backup of the same installation, and its restore.
	backups, err := os.MkdirTemp("", "gatehouse-bench-backup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(backups)
	began = time.Now()
	archive, _, err := ops.Backup(ctx, ops.BackupOptions{DataDir: dataDir, To: backups, Version: app.Version()})
	if err != nil {
		return err
	}
	backupTook := time.Since(began)
	info, err := os.Stat(archive)
	if err != nil {
		return err
	}
	began = time.Now()
	if _, err := ops.Restore(ctx, ops.RestoreOptions{From: archive, DataDir: filepath.Join(backups, "restored")}); err != nil {
		return err
	}
	fmt.Printf("backup: %.0f MB archive in %.1fs; restore (checked) in %.1fs\n", float64(info.Size())/1e6, backupTook.Seconds(), time.Since(began).Seconds())
	return nil
}

// served is a node serving in this process until stop.
type served struct {
	url  string
	stop func()
}

// serve starts a node on cfg's database and data dir, and returns once it
// serves; stop shuts it down cleanly and keeps the data.
func serve(cfg app.Config) (*served, error) {
	cfg.Addr, cfg.BootstrapToken, cfg.InvitationTTL = "127.0.0.1:0", token, 168*time.Hour
	cfg.LogLevel, cfg.PublicURL, cfg.MailFrom = "info", "http://bench.example", "Gatehouse <noreply@bench.example>"
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Serve(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), func(addr string) { ready <- addr })
	}()
	select {
	case addr := <-ready:
		return &served{url: "http://" + addr, stop: func() { cancel(); <-done }}, nil
	case err := <-done:
		cancel()
		return nil, err
	}
}
