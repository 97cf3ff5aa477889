package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/httpapi"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

// cuttableProxy forwards TCP to a server until it is cut: then every
// connection through it is closed and new ones are refused, as when the
// database restarts or the network between goes down.
type cuttableProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *cuttableProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttableProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				client.Close()
				continue
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(server, client); server.Close() }()
			go func() { _, _ = io.Copy(client, server); client.Close() }()
		}
	}()
	return p
}

func (p *cuttableProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cuttableProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// Fault injection: the database goes away under load (PostgreSQL
// restarting, the network cut). Requests fail cleanly, 503 with a retry
// hint, never a 500, at the API and at the portal's pages; once it is back the same node works again without a
// restart, and nothing answered as done was lost.
func TestDatabaseLostUnderLoadAnswers503ThenRecovers(t *testing.T) {
	t.Parallel()
	var pg *storetest.Backend
	for _, b := range storetest.Backends(t) {
		if b.Name == "postgres" {
			pg = &b
		}
	}
	if pg == nil {
		t.Skip("needs PostgreSQL (see the README)")
	}
	_, dbURL := pg.Open(t) // a fresh database, migrated
	parsed, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, parsed.Host)
	parsed.Host = proxy.ln.Addr().String()
	viaProxy := parsed.String()
	db, err := store.OpenPostgres(context.Background(), viaProxy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := service.New(db, service.Options{BootstrapToken: apitest.OperatorToken, PasswordParams: apitest.FastPasswords})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httpapi.New(svc, log, nil)
	pages := web.New(svc, log, "http://gatehouse.test")
	pages.Register(api.HandlePage)
	if err := svc.OIDC.Mount(api.HandlePage, pages.SignedIn); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	e := &apitest.Env{URL: srv.URL, Store: db}
	in := e.CreateAccount(t, "integrator", "Acme", "")
	// An application of the platform that gets tokens by client credentials.
	app := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Stock sync", "type": "service",
		"account_id": e.CreateAccount(t, "client", "Store 1", in)})
	clientCredentials := func() *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(app.String("client_id"), app.String("client_secret"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := clientCredentials(); resp.StatusCode != 200 {
		t.Fatalf("a token before the cut: %d", resp.StatusCode)
	}

	// Load from 8 clients while the database goes away and comes back.
	stop := make(chan struct{})
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		created  []string
		wg       sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := e.Do(t, "POST", "/api/v1/accounts", op, map[string]any{"kind": "client", "name": "Site " + string(rune('A'+w)) + time.Now().Format("150405.000000"), "integrator_id": in})
				mu.Lock()
				statuses[r.Status]++
				if r.Status == 201 {
					created = append(created, r.String("id"))
				}
				if r.Status == 503 && r.Header.Get("Retry-After") == "" {
					t.Errorf("a 503 without Retry-After")
				}
				if r.Status == 503 && r.Code() != "unavailable" {
					t.Errorf("a 503 with code %q", r.Code())
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	proxy.cut()
	time.Sleep(700 * time.Millisecond)
	mu.Lock()
	downAnswers := statuses[503]
	mu.Unlock()
	// A person signing in at the portal meanwhile is told the same, with
	// the same hint.
	signIn, err := http.PostForm(srv.URL+"/login", url.Values{"username": {"someone@example.com"}, "password": {"a passphrase"}})
	if err != nil {
		t.Fatal(err)
	}
	signIn.Body.Close()
	if signIn.StatusCode != 503 || signIn.Header.Get("Retry-After") == "" {
		t.Errorf("the portal's sign-in answered %d with Retry-After %q while the database was away", signIn.StatusCode, signIn.Header.Get("Retry-After"))
	}
	// So is an application asking the OpenID Provider for a token.
	if resp := clientCredentials(); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("the token endpoint answered %d with Retry-After %q while the database was away", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	proxy.restore()
	// Back: the same node answers again within a few seconds.
	deadline := time.Now().Add(10 * time.Second)
	for e.Do(t, "GET", "/api/v1/accounts/"+in, op, nil).Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the node did not come back after the database did")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp := clientCredentials(); resp.StatusCode != 200 {
		t.Errorf("a token after the database came back: %d", resp.StatusCode)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("answers: %v", statuses)
	if downAnswers == 0 {
		t.Errorf("no 503 while the database was away: %v", statuses)
	}
	for status, n := range statuses {
		if status != 201 && status != 503 {
			t.Errorf("%d answers %d while the database went away and came back", n, status)
		}
	}
	// Every account answered as created is there.
	for _, id := range created {
		if r := e.Do(t, "GET", "/api/v1/accounts/"+id, op, nil); r.Status != 200 {
			t.Errorf("account %s was answered 201 but reads %d", id, r.Status)
		}
	}
}
