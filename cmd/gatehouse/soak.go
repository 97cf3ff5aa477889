package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const soakUsage = `Usage: gatehouse soak [--server URL] [--duration 10m] [--workers 8]

Runs mixed traffic against a running Gatehouse for a while: client accounts
created, users added, listed, read, changed and removed, invitations resent
and cancelled, roles, folders and grants made, checks asked, audit logs read.
Every so often it reads the server's /metrics for its goroutines and
memory. At the end it prints throughput, errors by kind, latency
percentiles, and whether goroutines and memory stayed flat. The token is
an operator's, read from GATEHOUSE_TOKEN. It exits 1 when any request failed
or the server did not come back to its goroutine count.

`

// soak is the "gatehouse soak" command.
func soak(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, soakUsage); fs.PrintDefaults() }
	defaultServer := getenv("GATEHOUSE_URL")
	if defaultServer == "" {
		defaultServer = "http://127.0.0.1:8080"
	}
	server := fs.String("server", defaultServer, "base URL of Gatehouse (env GATEHOUSE_URL)")
	duration := fs.Duration("duration", 10*time.Minute, "how long to run")
	workers := fs.Int("workers", 8, "concurrent clients")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	token := getenv("GATEHOUSE_TOKEN")
	if token == "" {
		return usageErrorf("set GATEHOUSE_TOKEN to an operator's token")
	}
	s := &soaker{base: strings.TrimRight(*server, "/"), token: token, client: &http.Client{Timeout: 30 * time.Second},
		errors: map[string]int{}}
	return s.run(ctx, *duration, *workers, stdout)
}

type soaker struct {
	base, token string
	client      *http.Client
	integrator  string
	checkToken  string

	mu        sync.Mutex
	latencies map[string][]time.Duration
	errors    map[string]int
	requests  atomic.Int64
}

// call sends one request and records its latency under label; an answer
// other than want is an error of that label.
func (s *soaker) call(ctx context.Context, label, method, path, bearer string, body any, want int, out any) bool {
	var reader io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, reader)
	if err != nil {
		s.fail(label, err.Error())
		return false
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := s.client.Do(req)
	took := time.Since(start)
	s.requests.Add(1)
	if err != nil {
		if ctx.Err() == nil {
			s.fail(label, "transport: "+err.Error())
		}
		return false
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	s.mu.Lock()
	if s.latencies == nil {
		s.latencies = map[string][]time.Duration{}
	}
	s.latencies[label] = append(s.latencies[label], took)
	s.mu.Unlock()
	if resp.StatusCode != want {
		s.fail(label, fmt.Sprintf("%d %.200s", resp.StatusCode, raw))
		return false
	}
	if out != nil {
		_ = json.Unmarshal(raw, out)
	}
	return true
}

func (s *soaker) fail(label, what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := label + ": " + what
	if len(key) > 160 {
		key = key[:160]
	}
	s.errors[key]++
}

type idAnswer struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	Token  string `json:"token"`
	Items  []struct {
		ID string `json:"id"`
	} `json:"items"`
}

// site is one worker's client account, kept small enough to stay under its
// user limit.
type site struct {
	id, folder string
	members    []string
	n          int
}

func (s *soaker) round(ctx context.Context, worker int, st *site, rng *rand.Rand) {
	c := "/api/v1/accounts/" + st.id
	switch op := rng.IntN(10); {
	case op < 3 || len(st.members) == 0: // add a user, or remove one when the site is full
		if len(st.members) >= 8 {
			m := st.members[0]
			if s.call(ctx, "remove user", "DELETE", c+"/users/"+m, s.token, nil, 204, nil) {
				st.members = st.members[1:]
			}
			return
		}
		st.n++
		var m idAnswer
		body := map[string]any{"username": fmt.Sprintf("soak-%d-%d-%d@soak.example", worker, st.n, rng.IntN(1e9)),
			"first_name": "Soak", "last_name": strconv.Itoa(st.n), "level": "client_user"}
		if s.call(ctx, "add user", "POST", c+"/users", s.token, body, 201, &m) {
			st.members = append(st.members, m.ID)
			if st.folder != "" {
				s.call(ctx, "grant", "POST", c+"/folders/"+st.folder+"/grants", s.token, map[string]any{"user_id": m.UserID, "role": "viewer"}, 201, nil)
			}
		}
	case op < 5:
		s.call(ctx, "list users", "GET", c+"/users", s.token, nil, 200, nil)
	case op < 6:
		s.call(ctx, "read user", "GET", c+"/users/"+st.members[rng.IntN(len(st.members))], s.token, nil, 200, nil)
	case op < 7:
		var inv idAnswer
		if s.call(ctx, "list invitations", "GET", c+"/invitations?status=pending&limit=5", s.token, nil, 200, &inv) && len(inv.Items) > 0 {
			s.call(ctx, "resend invitation", "POST", "/api/v1/invitations/"+inv.Items[0].ID+"/resend", s.token, nil, 200, nil)
		}
	case op < 8:
		s.call(ctx, "check", "POST", "/api/v1/check", s.checkToken, map[string]any{"user_id": "nobody", "account_id": st.id,
			"permission": "cameras.view"}, 200, nil)
	case op < 9:
		s.call(ctx, "audit", "GET", c+"/audit-events?limit=20", s.token, nil, 200, nil)
	default:
		s.call(ctx, "search accounts", "GET", "/api/v1/accounts?kind=client&q=soak", s.token, nil, 200, nil)
	}
}

func (s *soaker) run(ctx context.Context, duration time.Duration, workers int, out io.Writer) error {
	var in idAnswer
	if !s.call(ctx, "setup", "POST", "/api/v1/accounts", s.token, map[string]any{"kind": "integrator",
		"name": fmt.Sprintf("Soak %d", time.Now().Unix())}, 201, &in) {
		return fmt.Errorf("could not create the soak integrator: %v", s.errors)
	}
	s.integrator = in.ID
	var tok idAnswer
	if !s.call(ctx, "setup", "POST", "/api/v1/check-tokens", s.token, map[string]any{"name": "soak"}, 201, &tok) {
		return fmt.Errorf("could not create a check token: %v", s.errors)
	}
	s.checkToken = tok.Token
	startMetrics, err := s.metrics(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "soak: %s against %s with %d workers; server at start: %d goroutines, %.0f MiB resident\n",
		duration, s.base, workers, int(startMetrics.goroutines), startMetrics.rss/(1<<20))
	runCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var samples []serverMetrics
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(max(duration/10, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-tick.C:
				if m, err := s.metrics(ctx); err == nil {
					samples = append(samples, m)
					fmt.Fprintf(out, "  %s: %d requests, server %d goroutines, %.0f MiB resident, %.0f MiB Go heap in use\n",
						time.Since(startMetrics.at).Round(time.Second), s.requests.Load(), int(m.goroutines), m.rss/(1<<20), m.heap/(1<<20))
				}
			}
		}
	})
	started := time.Now()
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(started.UnixNano())))
			var acc idAnswer
			if !s.call(runCtx, "create client", "POST", "/api/v1/accounts", s.token, map[string]any{"kind": "client",
				"integrator_id": s.integrator, "name": fmt.Sprintf("Soak site %d", w)}, 201, &acc) {
				return
			}
			st := &site{id: acc.ID}
			var folder idAnswer
			if s.call(runCtx, "create folder", "POST", "/api/v1/accounts/"+st.id+"/folders", s.token, map[string]any{"name": "Cameras"}, 201, &folder) {
				st.folder = folder.ID
			}
			for runCtx.Err() == nil {
				s.round(runCtx, w, st, rng)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(started)
	// Idle connections and finished requests: give the server a moment to
	// let its per-request goroutines end before the last reading.
	s.client.CloseIdleConnections()
	time.Sleep(2 * time.Second)
	end, err := s.metrics(ctx)
	if err != nil {
		return err
	}
	return s.report(out, elapsed, startMetrics, end, samples)
}

type serverMetrics struct {
	at                    time.Time
	goroutines, rss, heap float64
}

// metrics reads go_goroutines and process_resident_memory_bytes from the
// server's Prometheus endpoint.
func (s *soaker) metrics(ctx context.Context) (serverMetrics, error) {
	m := serverMetrics{at: time.Now()}
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/metrics", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for name, into := range map[string]*float64{"go_goroutines ": &m.goroutines, "process_resident_memory_bytes ": &m.rss,
			"go_memstats_heap_inuse_bytes ": &m.heap} {
			if strings.HasPrefix(line, name) {
				*into, _ = strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, name)), 64)
			}
		}
	}
	return m, sc.Err()
}

func (s *soaker) report(out io.Writer, elapsed time.Duration, start, end serverMetrics, samples []serverMetrics) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	total, failed := 0, 0
	var labels []string
	for label, l := range s.latencies {
		labels = append(labels, label)
		total += len(l)
	}
	for _, n := range s.errors {
		failed += n
	}
	slices.Sort(labels)
	fmt.Fprintf(out, "\n%d requests in %s: %.0f/s; %d failed\n", total, elapsed.Round(time.Second), float64(total)/elapsed.Seconds(), failed)
	fmt.Fprintf(out, "%-20s %8s %9s %9s %9s %9s\n", "request", "count", "p50", "p90", "p99", "max")
	for _, label := range labels {
		l := s.latencies[label]
		slices.Sort(l)
		p := func(q int) time.Duration { return l[min(len(l)-1, len(l)*q/100)].Round(10 * time.Microsecond) }
		fmt.Fprintf(out, "%-20s %8d %9s %9s %9s %9s\n", label, len(l), p(50), p(90), p(99), l[len(l)-1].Round(10*time.Microsecond))
	}
	for what, n := range s.errors {
		fmt.Fprintf(out, "error x%d: %s\n", n, what)
	}
	// Memory is judged on the second half of the run, after caches and
	// pools have grown to their working size. Resident memory includes
	// SQLite's page cache, which grows with the database up to its bound;
	// the Go heap is the application's own.
	trend := func(pick func(serverMetrics) float64) string {
		half := samples[len(samples)/2:]
		if len(half) < 2 {
			return "n/a"
		}
		first, last := pick(half[0]), pick(half[len(half)-1])
		return fmt.Sprintf("%+.1f%% over the second half (%.0f → %.0f MiB)", (last-first)/first*100, first/(1<<20), last/(1<<20))
	}
	fmt.Fprintf(out, "server goroutines: %d at start, %d at the end\nresident memory: %s\nGo heap in use: %s\n", int(start.goroutines),
		int(end.goroutines), trend(func(m serverMetrics) float64 { return m.rss }), trend(func(m serverMetrics) float64 { return m.heap }))
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	if end.goroutines > start.goroutines+5 {
		return fmt.Errorf("the server has %d goroutines more than at the start: a leak", int(end.goroutines-start.goroutines))
	}
	return nil
}
