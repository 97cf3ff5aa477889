// Command gatehouse-bench measures Gatehouse through its HTTP API on this
// machine and prints the figures recorded in docs/benchmarks.md.
//
//	go run ./cmd/gatehouse-bench accounts [-db sqlite|postgres] [-creates 20000] [-workers 16]
//	go run ./cmd/gatehouse-bench users [-db sqlite|postgres] [-adds 20000] [-workers 16]
//	go run ./cmd/gatehouse-bench signin [-db sqlite|postgres] [-workers 200] [-seconds 10]
//	go run ./cmd/gatehouse-bench checks [-db sqlite|postgres] [-workers 8] [-seconds 10]
//	go run ./cmd/gatehouse-bench bulk [-db sqlite|postgres] [-rows 100000] [-workers 16]
//	go run ./cmd/gatehouse-bench oidc [-db sqlite|postgres] [-workers 8] [-seconds 10]
//	go run ./cmd/gatehouse-bench copy [-users 100000]
//	go run ./cmd/gatehouse-bench scim [-db sqlite|postgres] [-creates 10000] [-workers 8]
//
// It starts a real node in-process on a loopback port over a fresh database
// (a temporary directory for SQLite; a throwaway database on the server at
// GATEHOUSE_TEST_POSTGRES_URL or 127.0.0.1:5432 for PostgreSQL), drives it
// with concurrent HTTP clients, and removes the database afterwards.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/password"
	"github.com/gatehouse/gatehouse/internal/store"
)

const token = "bench-operator-secret"

func main() {
	if len(os.Args) < 2 || !slices.Contains([]string{"accounts", "users", "signin", "checks", "bulk", "pages", "enumeration", "oidc", "events", "webhooks", "copy", "scim"}, os.Args[1]) {
		fmt.Fprintln(os.Stderr, "usage: gatehouse-bench accounts|users|signin|checks|bulk|pages|enumeration|oidc|events|webhooks|copy|scim [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	db := fs.String("db", "sqlite", "sqlite or postgres")
	creates := fs.Int("creates", 20000, "accounts to create through HTTP (accounts); people to create through SCIM (scim, default 10000)")
	adds := fs.Int("adds", 20000, "users to add through HTTP (users)")
	accounts := fs.Int("accounts", 10, "client accounts the adds are spread over (users)")
	seconds := fs.Int("seconds", 10, "how long to measure sign-ins (signin)")
	workers := fs.Int("workers", 16, "concurrent HTTP clients")
	stored := fs.Int("stored", 100000, "accounts stored before measuring lists")
	lists := fs.Int("lists", 2000, "list requests per filter")
	rows := fs.Int("rows", 100000, "lines of the large bulk file (bulk)")
	requests := fs.Int("requests", 300, "requests per page (pages)")
	users := fs.Int("users", 100000, "people in the installation copied to PostgreSQL (copy)")
	fs.IntVar(&outboxSenders, "senders", 2, "messages the node sends at once (its --outbox-senders)")
	fs.BoolVar(&usersBranded, "brand", false, "set the platform's brand and the integrator's, each with a message, before the adds (users)")
	fs.StringVar(&mailSink, "mail", "files", "where the node sends its e-mail: files (.eml in its data dir, the default sink) or smtp (an SMTP server in this process)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file at the end of the run (its alloc_space: what the whole run allocated, by place)")
	_ = fs.Parse(os.Args[2:])
	// The nodes run in this process: it is paced as a node's is.
	app.PaceCollector(os.Getenv, os.ReadFile)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer writeHeapProfile(*memProfile)
	}
	run := func() error { return benchAccounts(*db, *creates, *workers, *stored, *lists) }
	switch os.Args[1] {
	case "users":
		run = func() error { return benchUsers(*db, *adds, *workers, *accounts) }
	case "signin":
		run = func() error { return benchSignIn(*db, *workers, time.Duration(*seconds)*time.Second) }
	case "bulk":
		run = func() error { return benchBulk(*db, *rows, *workers) }
	case "checks":
		run = func() error { return benchChecks(*db, *workers, time.Duration(*seconds)*time.Second) }
	case "oidc":
		run = func() error { return benchOIDC(*db, *workers, time.Duration(*seconds)*time.Second) }
	case "pages":
		run = func() error { return benchPages(*db, *requests) }
	case "enumeration":
		run = func() error { return benchEnumeration(*db, *requests) }
	case "events":
		run = func() error { return benchEvents(*db, *rows) }
	case "webhooks":
		run = func() error { return benchWebhooks(*db, *rows, *workers) }
	case "copy":
		run = func() error { return benchCopy(*users, *workers) }
	case "scim":
		run = func() error {
			count, clients := 10000, 8
			fs.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "creates":
					count = *creates
				case "workers":
					clients = *workers
				}
			})
			return benchSCIM(*db, count, clients)
		}
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// node is a Gatehouse server running in this process.
type node struct {
	url     string
	dbURL   string
	dataDir string
	stop    func()
	// offline stops the server, runs f, and serves the same data again on a
	// new port (url): f may open the database itself, which a SQLite
	// database allows one process at a time.
	offline func(f func() error) error
	// delivered counts the e-mails the node has sent so far.
	delivered func() int
	// smtp is the SMTP server the node sends to, when -mail smtp.
	smtp *smtpSink
}

// outboxSenders is how many messages the benchmarked node sends at once.
var outboxSenders = 2

// mailSink is where the benchmarked node sends e-mail: "files" or "smtp".
var mailSink = "files"

// usersBranded sets brands before the users benchmark's adds.
var usersBranded bool

func startNode(dbKind string) (*node, error) {
	dataDir, err := os.MkdirTemp("", "gatehouse-bench-")
	if err != nil {
		return nil, err
	}
	n := &node{dataDir: dataDir}
	n.delivered = func() int { return countMail(filepath.Join(dataDir, "mail")) }
	cleanup := []func(){func() { os.RemoveAll(dataDir) }}
	smtpURL := ""
	switch mailSink {
	case "files":
	case "smtp":
		if n.smtp, smtpURL, err = startSMTPSink(); err != nil {
			return nil, err
		}
		n.delivered = func() int { return int(n.smtp.messages.Load()) }
		cleanup = append(cleanup, func() { n.smtp.server.Close() })
	default:
		return nil, fmt.Errorf("-mail must be files or smtp")
	}
	if dbKind == "postgres" {
		dbURL, drop, err := createPostgresDatabase()
		if err != nil {
			return nil, err
		}
		n.dbURL = dbURL
		cleanup = append(cleanup, drop)
	}
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: dataDir, DatabaseURL: n.dbURL, BootstrapToken: token,
		InvitationTTL: 168 * time.Hour, LogLevel: "info", LogFormat: "json", PublicURL: "http://bench.example",
		MailFrom: "Gatehouse <noreply@bench.example>", OutboxSenders: outboxSenders, SMTPURL: smtpURL}
	// The access log is formatted as in production and thrown away.
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var (
		cancel func()
		served chan error
	)
	serve := func() error {
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		ready := make(chan string, 1)
		served = make(chan error, 1)
		go func() { served <- app.Serve(ctx, cfg, log, func(addr string) { ready <- addr }) }()
		select {
		case addr := <-ready:
			n.url = "http://" + addr
			return nil
		case err := <-served:
			cancel()
			return err
		}
	}
	if err := serve(); err != nil {
		return nil, err
	}
	n.offline = func(f func() error) error {
		cancel()
		<-served
		if err := f(); err != nil {
			return err
		}
		return serve()
	}
	n.stop = func() {
		cancel()
		<-served
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	return n, nil
}

func createPostgresDatabase() (string, func(), error) {
	adminURL := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")
	if adminURL == "" {
		adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "gatehouse_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, _ := url.Parse(adminURL)
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}, nil
}

func benchAccounts(dbKind string, creates, workers, stored, lists int) error {
	n, err := startNode(dbKind)
	if err != nil {
		return err
	}
	defer n.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}}
	fmt.Printf("gatehouse-bench accounts: %s, %d cores, GOMAXPROCS %d, %d workers\n", dbKind, runtime.NumCPU(), runtime.GOMAXPROCS(0), workers)

	status, body, err := do(client, "POST", n.url+"/api/v1/accounts", `{"kind":"integrator","name":"Bench Integrator"}`)
	if err != nil || status != 201 {
		return fmt.Errorf("create integrator: %d %s %v", status, body, err)
	}
	integratorID := between(body, `"id":"`, `"`)

	// Creates: client accounts under one integrator, each an authorization
	// check, an insert and an audit event in one transaction.
	err = postConcurrently(client, n.url, "create client account via HTTP", creates, workers, func(i int64) (string, string) {
		return "/api/v1/accounts", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Site %d","address":"%d Main Street"}`, integratorID, i, i)
	})
	if err != nil {
		return err
	}

	// Fill up to the stored count directly through the store (fast), with
	// names drawn from a small vocabulary so filters match realistic shares.
	var staffToken string
	err = n.offline(func() error {
		if err := seed(n, integratorID, stored-creates-1); err != nil {
			return err
		}
		staffToken, err = integratorAdminToken(n, integratorID)
		return err
	})
	if err != nil {
		return err
	}
	filters := []struct{ label, q, token string }{
		{"common word (~1 in 20 names)", "lyon", token},
		{"rare word (~1 in 1,000 names)", "office 0042", token},
		{"no filter", "", token},
		{"common word, as integrator staff", "lyon", staffToken},
		{"rare word, as integrator staff", "office 0042", staffToken},
	}
	for _, f := range filters {
		lat, found, err := measureList(client, n.url+"/api/v1/accounts?limit=50&q="+url.QueryEscape(f.q), f.token, lists)
		if err != nil {
			return err
		}
		fmt.Printf("list 50 of %d accounts, %s q=%q: p50 %s p99 %s max %s (%d items on the page)\n",
			stored, f.label, f.q, pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond), found)
	}
	return nil
}

// postConcurrently sends total POSTs from workers clients, request i built
// by request(i), and prints their rate; every one must answer 201.
func postConcurrently(client *http.Client, base, label string, total, workers int, request func(i int64) (path, body string)) error {
	var next, failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(total); i = next.Add(1) {
				path, body := request(i)
				if status, _, err := do(client, "POST", base+path, body); err != nil || status != 201 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("%s: %d in %.2fs = %.0f/s (%d failed)\n", label, total, elapsed.Seconds(), float64(total)/elapsed.Seconds(), failed.Load())
	if failed.Load() > 0 {
		return fmt.Errorf("%d of %d requests failed", failed.Load(), total)
	}
	return nil
}

// integratorAdminToken makes an integrator administrator with an API token
// scoped to the integrator, whose lists go through the visibility filter.
func integratorAdminToken(n *node, integratorID string) (string, error) {
	ctx := context.Background()
	db, err := store.Open(ctx, n.dbURL, n.dataDir)
	if err != nil {
		return "", err
	}
	defer db.Close()
	secret, hash := gatehouse.NewToken(gatehouse.TokenAPI)
	userID := kernel.NewID()
	err = db.Write(ctx, func(tx *store.WriteTx) error {
		now := time.Now().UTC()
		if err := tx.InsertUser(ctx, gatehouse.User{ID: userID, Username: "staff@bench.example", Language: "en",
			Status: gatehouse.UserActive, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.InsertMembership(ctx, gatehouse.Membership{ID: kernel.NewID(), AccountID: integratorID, UserID: userID,
			Level: gatehouse.LevelIntegratorAdmin, Status: gatehouse.MembershipActive, Email: "staff@bench.example", CreatedAt: now}); err != nil {
			return err
		}
		return tx.InsertAPIToken(ctx, gatehouse.APIToken{ID: kernel.NewID(), UserID: userID, AccountID: integratorID,
			Name: "bench", Hash: hash, CreatedAt: now})
	})
	return secret, err
}

var cities = []string{"Lyon", "Paris", "Lille", "Nantes", "Nice", "Rennes", "Brest", "Dijon", "Metz", "Reims",
	"Tours", "Caen", "Rouen", "Pau", "Albi", "Agen", "Arles", "Nimes", "Laval", "Blois"}
var kinds = []string{"Store", "Depot", "Office", "Warehouse", "Clinic"}

func seed(n *node, integratorID string, count int) error {
	ctx := context.Background()
	db, err := store.Open(ctx, n.dbURL, n.dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	now := time.Now().UTC()
	for done := 0; done < count; {
		batch := min(2000, count-done)
		err := db.Write(ctx, func(tx *store.WriteTx) error {
			for i := range batch {
				k := done + i
				// The number keeps names unique: the clients of one integrator have
				// unique names.
				name := fmt.Sprintf("%s %s %06d", cities[k%len(cities)], kinds[(k/len(cities))%len(kinds)], k)
				if err := tx.InsertAccount(ctx, gatehouse.Account{ID: kernel.NewID(), Kind: gatehouse.KindClient, Name: name,
					IntegratorID: integratorID, Settings: gatehouse.AccountSettings{MaxClientUsers: 9}, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += batch
	}
	fmt.Printf("seeded %d more accounts through the store in %.1fs\n", count, time.Since(start).Seconds())
	if db.Dialect() == store.Postgres {
		// What autovacuum does soon after a bulk load in production: fresh
		// statistics, and a visibility map that allows index-only scans.
		start = time.Now()
		if _, err := db.Pools()["main"].ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return err
		}
		fmt.Printf("VACUUM ANALYZE in %.1fs\n", time.Since(start).Seconds())
	}
	return nil
}

func measureList(client *http.Client, u, bearer string, count int) ([]time.Duration, int, error) {
	lat := make([]time.Duration, 0, count)
	items := 0
	for i := range count + count/10 {
		start := time.Now()
		status, body, err := doAs(client, bearer, "GET", u, "")
		d := time.Since(start)
		if err != nil || status != 200 {
			return nil, 0, fmt.Errorf("list: %d %v", status, err)
		}
		if i < count/10 {
			continue // warm-up
		}
		lat = append(lat, d)
		items = strings.Count(body, `"kind":`)
	}
	slices.Sort(lat)
	return lat, items, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, len(sorted)*p/100)].Round(time.Microsecond)
}

func do(client *http.Client, method, u, body string) (int, string, error) {
	return doAs(client, token, method, u, body)
}

func doAs(client *http.Client, bearer, method, u, body string) (int, string, error) {
	return doTyped(client, bearer, "application/json", method, u, body)
}

// doTyped sends body as contentType with bearer and reads the answer.
func doTyped(client *http.Client, bearer, contentType, method, u, body string) (int, string, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

func between(s, start, end string) string {
	_, after, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(after, end)
	return v
}

// benchUsers adds users through HTTP (each an identity, a membership, its
// roles, the client-user counter, an invitation, an outbox message and two
// audit events in one transaction), then delivers the queued mail to .eml
// files with the outbox worker.
func benchUsers(dbKind string, adds, workers, sites int) error {
	n, err := startNode(dbKind)
	if err != nil {
		return err
	}
	defer n.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}}
	fmt.Printf("gatehouse-bench users: %s, %d cores, GOMAXPROCS %d, %d workers, %d accounts\n", dbKind, runtime.NumCPU(), runtime.GOMAXPROCS(0), workers, sites)
	_, body, err := do(client, "POST", n.url+"/api/v1/accounts", `{"kind":"integrator","name":"Bench Integrator"}`)
	if err != nil {
		return err
	}
	integratorID := between(body, `"id":"`, `"`)
	// newSites makes k client accounts of the integrator, each allowed
	// siteLimit client users.
	made := 0
	newSites := func(k int) ([]string, error) {
		ids := make([]string, k)
		for i := range ids {
			made++
			_, body, err := do(client, "POST", n.url+"/api/v1/accounts", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Site %d"}`, integratorID, made))
			if err != nil {
				return nil, err
			}
			ids[i] = between(body, `"id":"`, `"`)
			if status, body, err := do(client, "PATCH", n.url+"/api/v1/accounts/"+ids[i]+"/settings", fmt.Sprintf(`{"max_client_users":%d}`, siteLimit)); err != nil || status != 200 {
				return nil, fmt.Errorf("settings: %d %s %v", status, body, err)
			}
		}
		return ids, nil
	}
	siteIDs, err := newSites(sites)
	if err != nil {
		return err
	}
	if usersBranded {
		// The platform's brand and the integrator's, each with its own
		// activation message: what every add's e-mail is dressed with.
		for path, name := range map[string]string{"/api/v1/brand": "Bench Platform", "/api/v1/accounts/" + integratorID + "/brand": "Bench Vision"} {
			brand := fmt.Sprintf(`{"product_name":%q,"primary_colour":"#7a1f5c","sender_name":%q,"sender_address":"no-reply@bench.example",
				"messages":[{"kind":"activation","language":"en","subject":"Welcome to {product_name}","intro":"Your %s account is ready."}]}`, name, name, name)
			if status, body, err := do(client, "PUT", n.url+path, brand); err != nil || status != 200 {
				return fmt.Errorf("brand: %d %s %v", status, body, err)
			}
		}
		fmt.Println("e-mails dressed with the platform's brand and the integrator's, each with an activation message")
	}
	started := time.Now()
	err = postConcurrently(client, n.url, "add user via HTTP (membership, invitation, outbox row)", adds, workers, func(i int64) (string, string) {
		return "/api/v1/accounts/" + siteIDs[i%int64(sites)] + "/users",
			fmt.Sprintf(`{"username":"user%d@bench.example","first_name":"User","last_name":"%d","level":"client_user"}`, i, i)
	})
	if err != nil {
		return err
	}
	if n.smtp != nil {
		fmt.Printf("e-mails received by the SMTP server during the adds: %d over %d connections\n", n.smtp.messages.Load(), n.smtp.connections.Load())
	}
	// The same from wrk, a load generator outside this process, for 5 s.
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Println("wrk is not installed (apt-get install -y wrk): the line measured from it is left out")
	} else {
		// wrk adds into accounts with room for twice what the clients'
		// rate would add meanwhile: the run's own, else as many fresh ones
		// (one account's limit is filled by 10,000 adds into it).
		rate := float64(adds) / time.Since(started).Seconds()
		wrkSiteIDs := siteIDs
		seconds := wrkAddSeconds(sites*siteLimit-adds, rate)
		if seconds == 0 {
			if wrkSiteIDs, err = newSites(sites); err != nil {
				return err
			}
			seconds = wrkAddSeconds(sites*siteLimit, rate)
		}
		if seconds == 0 {
			fmt.Println("the accounts' limits leave wrk no second of adds at this rate: the line measured from it is left out")
		} else if err := wrkAdds(n.url, token, wrkSiteIDs, workers, time.Duration(seconds)*time.Second); err != nil {
			return err
		}
	}
	// The node's own worker delivered meanwhile; time delivery alone, on a
	// fresh database with a full queue and no other load.
	return benchDelivery(dbKind, adds)
}

// siteLimit is the client users each of the users benchmark's accounts is
// allowed: the most an account may be given.
const siteLimit = accounts.MaxClientUsersCeiling

// wrkAddSeconds is how long wrk adds, in whole seconds (wrk's unit): 5, or
// fewer when room (the adds the accounts still allow) would not take twice
// rate (adds a second) for that long.
func wrkAddSeconds(room int, rate float64) int {
	return max(0, min(5, int(float64(room)/(2*rate))))
}

// freshStore opens a new, migrated, empty database of the kind asked for
// (SQLite in a temporary directory, or a throwaway PostgreSQL database) and
// returns it with its data directory and what removes them.
func freshStore(ctx context.Context, dbKind string) (db *store.DB, dataDir string, cleanup func(), err error) {
	cleanups := []func(){}
	cleanup = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	if dataDir, err = os.MkdirTemp("", "gatehouse-bench-"); err != nil {
		return nil, "", cleanup, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dataDir) })
	dbURL := ""
	if dbKind == "postgres" {
		var drop func()
		if dbURL, drop, err = createPostgresDatabase(); err != nil {
			return nil, "", cleanup, err
		}
		cleanups = append(cleanups, drop)
	}
	if db, err = store.Open(ctx, dbURL, dataDir); err != nil {
		return nil, "", cleanup, err
	}
	cleanups = append(cleanups, func() { db.Close() })
	_, err = db.Migrate(ctx)
	return db, dataDir, cleanup, err
}

func benchDelivery(dbKind string, count int) error {
	ctx := context.Background()
	db, dataDir, cleanup, err := freshStore(ctx, dbKind)
	defer cleanup()
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for done := 0; done < count; {
		batch := min(1000, count-done)
		if err := db.Write(ctx, func(tx *store.WriteTx) error {
			for range batch {
				id := kernel.NewID()
				if err := tx.EnqueueMessage(ctx, gatehouse.Message{ID: id, MessageID: id + "@bench.example", To: "someone@bench.example",
					Subject: "Activate your account for Site 1", Body: strings.Repeat("Activation text with a link. ", 20), CreatedAt: now}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		done += batch
	}
	dir := filepath.Join(dataDir, "mail")
	w := outbox.NewWorker(db, outbox.FileSender{Dir: dir, From: "Gatehouse <noreply@bench.example>"}, "bench", slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Now()
	delivered := 0
	for delivered < count {
		k, err := w.DeliverDue(ctx)
		if err != nil {
			return err
		}
		if k == 0 {
			break
		}
		delivered += k
	}
	elapsed := time.Since(start)
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	fmt.Printf("outbox delivery to .eml files (one worker, %s): %d in %.2fs = %.0f mails/s (%d files)\n",
		dbKind, delivered, elapsed.Seconds(), float64(delivered)/elapsed.Seconds(), len(files))
	return nil
}

// benchSignIn compares password sign-ins through HTTP, with many clients at
// once, to the raw argon2id rate of this machine, and reports the peak
// memory of the process.
func benchSignIn(dbKind string, workers int, d time.Duration) error {
	// The machine's speed drifts (shared cores, clock changes), so the raw
	// rate is measured before and after the sign-ins and averaged.
	rawBefore := rawHashRate(d / 2)
	fmt.Printf("gatehouse-bench signin: %s, %d cores, argon2id m=%d KiB t=%d p=%d\n", dbKind, runtime.NumCPU(),
		password.DefaultParams.Memory, password.DefaultParams.Time, password.DefaultParams.Threads)
	var wg sync.WaitGroup
	n, err := startNode(dbKind)
	if err != nil {
		return err
	}
	defer n.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers}}
	const users = 50
	if err := siteWithActiveUsers(client, n, "signin", users); err != nil {
		return err
	}
	var signins, failed atomic.Int64
	start := time.Now()
	for i := range workers {
		wg.Go(func() {
			payload := fmt.Sprintf(`{"username":"signin%d@bench.example","password":"correct horse battery staple"}`, i%users)
			for time.Since(start) < d {
				if status, _, err := doAs(client, "", "POST", n.url+"/api/v1/sessions", payload); err != nil || status != 201 {
					failed.Add(1)
					continue
				}
				signins.Add(1)
			}
		})
	}
	wg.Wait()
	rate := float64(signins.Load()) / time.Since(start).Seconds()
	rawAfter := rawHashRate(d / 2)
	raw := (rawBefore + rawAfter) / 2
	fmt.Printf("raw argon2id hashes, %d goroutines: %.1f/s before, %.1f/s after\n", runtime.GOMAXPROCS(0), rawBefore, rawAfter)
	fmt.Printf("password sign-ins via HTTP, %d concurrent clients: %.1f/s = %.0f%% of the raw hash rate (%d failed)\n",
		workers, rate, 100*rate/raw, failed.Load())
	fmt.Printf("peak resident memory of the process (server and clients): %s\n", peakRSS())
	return nil
}

// rawHashRate hashes on every core for d and returns hashes a second.
func rawHashRate(d time.Duration) float64 {
	hasher := password.NewHasher(password.DefaultParams, runtime.GOMAXPROCS(0))
	var hashes atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Since(start) < d {
				_, _ = hasher.Hash(context.Background(), "correct horse battery staple")
				hashes.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(hashes.Load()) / time.Since(start).Seconds()
}

// siteWithActiveUsers makes a client account with count activated users,
// <prefix><i>@bench.example, all with the password "correct horse battery
// staple".
func siteWithActiveUsers(client *http.Client, n *node, prefix string, count int) error {
	_, body, _ := do(client, "POST", n.url+"/api/v1/accounts", `{"kind":"integrator","name":"Bench"}`)
	integratorID := between(body, `"id":"`, `"`)
	_, body, _ = do(client, "POST", n.url+"/api/v1/accounts", fmt.Sprintf(`{"kind":"client","integrator_id":%q,"name":"Site"}`, integratorID))
	site := between(body, `"id":"`, `"`)
	if status, body, err := do(client, "PATCH", n.url+"/api/v1/accounts/"+site+"/settings", `{"max_client_users":1000}`); err != nil || status != 200 {
		return fmt.Errorf("settings: %d %s %v", status, body, err)
	}
	for i := range count {
		payload := fmt.Sprintf(`{"username":"%s%d@bench.example","first_name":"S","last_name":"I","level":"client_user"}`, prefix, i)
		if status, body, err := do(client, "POST", n.url+"/api/v1/accounts/"+site+"/users", payload); err != nil || status != 201 {
			return fmt.Errorf("add: %d %s %v", status, body, err)
		}
	}
	tokens, err := activationTokens(filepath.Join(n.dataDir, "mail"), count)
	if err != nil {
		return err
	}
	for _, tok := range tokens {
		if status, body, err := do(client, "POST", n.url+"/api/v1/activate", fmt.Sprintf(`{"token":%q,"password":"correct horse battery staple"}`, tok)); err != nil || status != 200 {
			return fmt.Errorf("activate: %d %s %v", status, body, err)
		}
	}
	return nil
}

var tokenPattern = regexp.MustCompile(`token=3D(gh_inv_[A-Za-z0-9_-]+)|token=(gh_inv_[A-Za-z0-9_-]+)`)

// activationTokens waits for the node's worker to write want mails and
// reads the activation secrets out of them.
func activationTokens(dir string, want int) ([]string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		if len(files) >= want {
			var tokens []string
			for _, f := range files {
				raw, err := os.ReadFile(f)
				if err != nil {
					return nil, err
				}
				text := strings.ReplaceAll(string(raw), "=\r\n", "")
				if m := tokenPattern.FindStringSubmatch(text); m != nil {
					tokens = append(tokens, m[1]+m[2])
				}
			}
			return tokens, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, errors.New("activation mails did not arrive")
}

// peakRSS reads the process's high-water mark of resident memory.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

// writeHeapProfile writes the heap profile of the run so far; its
// alloc_space view shows where a run's allocations, which the collector
// pays for on the same cores, came from.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
	}
}
