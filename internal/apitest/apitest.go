// Package apitest starts a real Gatehouse API over a real database for
// tests, and speaks to it over HTTP as a client would.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/httpapi"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/password"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/signin"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

// OperatorToken is the bootstrap operator secret of every test server.
const OperatorToken = "test-operator-secret"

// FastPasswords are argon2id costs for tests: the real algorithm at 64 KiB
// (a hash costs 1 ms under the race detector instead of 50), so suites stay
// fast; production hashers refuse stored hashes this weak.
var FastPasswords = password.Params{Memory: 64, Time: 1, Threads: 1}

// Env is one running API over one database.
type Env struct {
	Clock *Clock
	URL   string
	Store *store.DB
	API   *httpapi.Server
	// DatabaseURL lets a second node share a PostgreSQL database ("" for SQLite).
	DatabaseURL string
	// Waits records the slow-downs the service asked for, in order,
	// instead of waiting them out.
	Waits *Waits
	// Services are the node's use cases, for what a test runs itself (a
	// sweep of the access that ended, a purge of deleted accounts) rather
	// than waits for.
	Services *service.Services
}

// Waits is a record of the service's slow-downs.
type Waits struct {
	mu   sync.Mutex
	list []time.Duration
}

func (w *Waits) sleep(_ context.Context, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, d)
}

// Take returns the waits recorded since the last Take.
func (w *Waits) Take() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// Start serves the API over the backend's fresh database.
func Start(t testing.TB, b storetest.Backend) *Env {
	t.Helper()
	return StartWith(t, b, nil)
}

// StartWith is Start with the service options changed by configure.
func StartWith(t testing.TB, b storetest.Backend, configure func(*service.Options)) *Env {
	t.Helper()
	db, dbURL := b.Open(t)
	return Serve(t, db, dbURL, configure)
}

// Serve serves the API over db, a database another Env may serve too: a
// second node, configured otherwise (another server key, say). dbURL is
// what Env.DatabaseURL says.
func Serve(t testing.TB, db *store.DB, dbURL string, configure func(*service.Options)) *Env {
	t.Helper()
	return serve(t, db, dbURL, configure, false)
}

// StartOnLocalhost is Start for a browser that uses passkeys: the server
// is reached at http://localhost:<port> (WebAuthn needs a secure context
// and a relying party that is a domain, which 127.0.0.1 is not), and that
// origin is the passkeys' relying party. Links in mail still name the
// public URL.
func StartOnLocalhost(t testing.TB, b storetest.Backend) *Env {
	t.Helper()
	db, dbURL := b.Open(t)
	return serve(t, db, dbURL, nil, true)
}

func serve(t testing.TB, db *store.DB, dbURL string, configure func(*service.Options), localhost bool) *Env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	clock := NewClock(time.Now().UTC())
	waits := &Waits{}
	opts := service.Options{BootstrapToken: OperatorToken, PublicURL: "https://gatehouse.example.com",
		PasswordParams: FastPasswords, Clock: clock, Sleep: waits.sleep}
	base := "http://" + srv.Listener.Addr().String()
	if localhost {
		_, port, _ := strings.Cut(srv.Listener.Addr().String(), ":")
		base = "http://localhost:" + port
		opts.Passkeys = signin.PasskeyConfig{RPID: "localhost", Origins: []string{base}}
	}
	if configure != nil {
		configure(&opts)
	}
	svc := service.New(db, opts)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httpapi.New(svc, log, httpapi.NewMetrics(db.Pools()))
	pages := web.New(svc, log, "https://gatehouse.example.com")
	pages.Register(api.HandlePage)
	if err := svc.OIDC.Mount(api.HandlePage, pages.SignedIn); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = api
	srv.Start()
	t.Cleanup(srv.Close)
	jobs, stopJobs := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.People.RunBulkJobs(jobs, time.Second) }()
	t.Cleanup(func() { stopJobs(); <-done })
	return &Env{Clock: clock, URL: base, Store: db, API: api, DatabaseURL: dbURL, Waits: waits, Services: svc}
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// Code is the error code of an error answer, or "".
func (r Response) Code() string {
	e, _ := r.Body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// Field is the field named by an error answer, or "".
func (r Response) Field() string {
	e, _ := r.Body["error"].(map[string]any)
	field, _ := e["field"].(string)
	return field
}

// String returns a field of the body as a string.
func (r Response) String(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// Items returns the items of a list answer.
func (r Response) Items() []map[string]any {
	raw, _ := r.Body["items"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, item := range raw {
		m, _ := item.(map[string]any)
		out = append(out, m)
	}
	return out
}

// Body reads a request body: nil for none, a string or []byte sent as is,
// or any other value sent as JSON.
func Body(t testing.TB, body any) io.Reader {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	case []byte:
		return bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.NewReader(raw)
	}
}

// Do sends one request. body may be nil, a string or []byte (sent as is), or
// any value (sent as JSON).
func (e *Env) Do(t testing.TB, method, path, token string, body any) Response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, Body(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

// Must sends a request and fails the test unless the status is want.
func (e *Env) Must(t testing.TB, want int, method, path, token string, body any) Response {
	t.Helper()
	r := e.Do(t, method, path, token, body)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// ReadFeedUntil pages through the event feed from cursor as a consumer
// does, each read waiting up to 2 s for what comes next, until done says
// the events read so far are enough or 30 s passed; it returns them and the
// cursor after them. On PostgreSQL the feed holds back what a transaction
// still running anywhere in the cluster (other tests' too) might precede:
// the newest events can come a moment after the change that made them, and
// are never skipped. query may add account_id or limit.
func (e *Env) ReadFeedUntil(t testing.TB, token, query, cursor string, done func(events []map[string]any) bool) ([]map[string]any, string) {
	t.Helper()
	var events []map[string]any
	for deadline := time.Now().Add(30 * time.Second); !done(events) && time.Now().Before(deadline); {
		page := e.Must(t, 200, "GET", "/api/v1/events?wait=2s&after="+cursor+"&"+query, token, nil)
		events = append(events, page.Items()...)
		if next := page.String("next_cursor"); next != "" {
			cursor = next
		}
	}
	return events, cursor
}

// CreateAccount creates an account as the operator and returns its id.
func (e *Env) CreateAccount(t testing.TB, kind, name, integratorID string) string {
	t.Helper()
	body := map[string]string{"kind": kind, "name": name}
	if integratorID != "" {
		body["integrator_id"] = integratorID
	}
	return e.Must(t, http.StatusCreated, "POST", "/api/v1/accounts", OperatorToken, body).String("id")
}

// Member creates an active user holding level on the account and returns an
// API token scoped to that account, and the user's id. Until the people API
// lands, members are written through the store.
func (e *Env) Member(t testing.TB, accountID string, level gatehouse.Level) (token, userID string) {
	t.Helper()
	ctx := context.Background()
	userID = kernel.NewID()
	secret, hash := gatehouse.NewToken(gatehouse.TokenAPI)
	err := e.Store.Write(ctx, func(tx *store.WriteTx) error {
		if err := tx.InsertUser(ctx, gatehouse.User{ID: userID, Username: userID + "@example.com", FirstName: "Test",
			LastName: string(level), Language: "en", Status: gatehouse.UserActive}); err != nil {
			return err
		}
		return e.Grant(ctx, tx, userID, accountID, level, hash)
	})
	if err != nil {
		t.Fatal(err)
	}
	return secret, userID
}

// Grant gives an existing user a membership and, when hash is not nil, an API
// token scoped to that account.
func (e *Env) Grant(ctx context.Context, tx *store.WriteTx, userID, accountID string, level gatehouse.Level, hash []byte) error {
	if err := tx.InsertMembership(ctx, gatehouse.Membership{ID: kernel.NewID(), AccountID: accountID, UserID: userID,
		Level: level, Status: gatehouse.MembershipActive, Email: userID + "@example.com"}); err != nil {
		return err
	}
	if hash == nil {
		return nil
	}
	return tx.InsertAPIToken(ctx, gatehouse.APIToken{ID: kernel.NewID(), UserID: userID, AccountID: accountID, Name: "test", Hash: hash})
}

// NewClock returns a test clock showing now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Clock is a test clock that moves only when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Mail delivers every queued message to the test and returns them, oldest
// first, as the outbox worker would hand them to a mail server.
func (e *Env) Mail(t testing.TB) []gatehouse.Message {
	t.Helper()
	return DeliverMail(t, e.Store, e.Clock.Now())
}

// DeliverMail claims every message queued in db, marks it sent at now and
// returns them, oldest first.
func DeliverMail(t testing.TB, db *store.DB, now time.Time) []gatehouse.Message {
	t.Helper()
	ctx := context.Background()
	var out []gatehouse.Message
	for {
		batch, err := db.ClaimMessages(ctx, "test", now.Add(time.Hour), time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			return out
		}
		for _, m := range batch {
			if err := db.MarkMessagesSent(ctx, []string{m.ID}, "test", now); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, batch...)
	}
}

// activationLink is on the public URL's host, or on the brand's host of an
// integrator that has one.
var activationLink = regexp.MustCompile(`https://[a-z0-9.-]+/activate\?token=(gh_inv_[A-Za-z0-9_-]+)`)

// ActivationTokens returns the secrets of the activation links mailed to
// the address, oldest first. It delivers the whole queue, so mail to other
// addresses is consumed too: ask right after the add that sent the link.
func (e *Env) ActivationTokens(t testing.TB, to string) []string {
	t.Helper()
	var tokens []string
	for _, m := range e.Mail(t) {
		if m.To != to {
			continue
		}
		if match := activationLink.FindStringSubmatch(m.Body); match != nil {
			tokens = append(tokens, match[1])
		}
	}
	return tokens
}
