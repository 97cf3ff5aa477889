package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// benchPages measures the portal's pages (under 50 ms of server
// time for an account with 9 users and 1,000 pending invitations). The
// account is built through the API: 9 active client users, a bulk file of
// 1,000 invitations, a remote monitoring user. An integrator user signed in
// through the API holds the page session. Each page is asked for count
// times, one request at a time; the figure is the whole round trip over
// loopback, which bounds the server's time from above.
func benchPages(dbKind string, count int) error {
	n, err := startNode(dbKind)
	if err != nil {
		return err
	}
	defer n.stop()
	client := &http.Client{Timeout: time.Minute}
	mustJSON := func(method, path, body string, want int) (map[string]any, error) {
		status, raw, err := do(client, method, n.url+path, body)
		if err != nil {
			return nil, err
		}
		if status != want {
			return nil, fmt.Errorf("%s %s: %d %s", method, path, status, raw)
		}
		var out map[string]any
		_ = json.Unmarshal([]byte(raw), &out)
		return out, nil
	}
	in, err := mustJSON("POST", "/api/v1/accounts", `{"kind":"integrator","name":"Acme Security"}`, 201)
	if err != nil {
		return err
	}
	integrator := in["id"].(string)
	site, err := mustJSON("POST", "/api/v1/accounts", fmt.Sprintf(`{"kind":"client","name":"Store 12","integrator_id":%q}`, integrator), 201)
	if err != nil {
		return err
	}
	account := site["id"].(string)
	if _, err := mustJSON("PATCH", "/api/v1/accounts/"+account+"/settings", `{"max_client_users":2000,"client_admins_can_add_remote_monitoring":true}`, 200); err != nil {
		return err
	}
	// The visitor: integrator staff, who see and manage the site.
	if _, err := mustJSON("POST", "/api/v1/accounts/"+integrator+"/users",
		`{"username":"staff@bench.example","first_name":"Sam","last_name":"Staff","level":"integrator_user"}`, 201); err != nil {
		return err
	}
	for i := range 9 {
		body := fmt.Sprintf(`{"username":"user%d@bench.example","first_name":"User","last_name":"%d","level":"client_user"}`, i, i)
		if _, err := mustJSON("POST", "/api/v1/accounts/"+account+"/users", body, 201); err != nil {
			return err
		}
	}
	tokens, err := activationTokens(filepath.Join(n.dataDir, "mail"), 10)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if _, err := mustJSON("POST", "/api/v1/activate", fmt.Sprintf(`{"token":%q,"password":"bench password one"}`, t), 200); err != nil {
			return err
		}
	}
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range 1000 {
		fmt.Fprintf(&csv, "pending%04d@bench.example\n", i)
	}
	preview, err := mustJSON("POST", "/api/v1/accounts/"+account+"/invitations/bulk", csv.String(), 200)
	if err != nil {
		return err
	}
	confirmed, err := mustJSON("POST", "/api/v1/accounts/"+account+"/invitations/bulk/"+preview["preview_id"].(string)+"/confirm", "", 200)
	if err != nil {
		return err
	}
	if _, err := mustJSON("POST", "/api/v1/accounts/"+account+"/remote-monitoring-user", `{"description":"Central station"}`, 201); err != nil {
		return err
	}
	if dbKind == "postgres" {
		// The statistics autovacuum gathers within a minute of such a
		// change, which a node serving these pages would have: without
		// them PostgreSQL's plans are guesses, and a page's time turned on
		// which one it guessed.
		if err := analyze(n.dbURL); err != nil {
			return err
		}
	}
	status, raw, err := do(client, "POST", n.url+"/api/v1/sessions", `{"username":"staff@bench.example","password":"bench password one"}`)
	if err != nil || status != 201 {
		return fmt.Errorf("sign-in: %d %s %v", status, raw, err)
	}
	var session struct{ Token string }
	_ = json.Unmarshal([]byte(raw), &session)
	fmt.Printf("%s: an account with 9 active client users, %v pending invitations (bulk), a remote monitoring user; visitor: integrator staff; %d requests a page\n",
		dbKind, confirmed["invited"], count)
	fmt.Printf("%-44s %8s %8s %8s %8s\n", "page", "p50", "p90", "p99", "max")
	pages := []string{"/accounts", "/accounts/" + account, "/accounts/" + account + "/invitations", "/accounts/" + account + "/users/new",
		"/accounts/" + account + "/bulk", "/accounts/" + account + "/remote-monitoring", "/accounts/" + integrator + "/clients", "/profile"}
	for _, page := range pages {
		times := make([]time.Duration, 0, count)
		for range count {
			req, _ := http.NewRequest("GET", n.url+page, nil)
			req.AddCookie(&http.Cookie{Name: "gatehouse_session", Value: session.Token})
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			times = append(times, time.Since(start))
			if resp.StatusCode != 200 {
				return fmt.Errorf("GET %s: %d", page, resp.StatusCode)
			}
		}
		slices.Sort(times)
		label := strings.ReplaceAll(strings.ReplaceAll(page, account, "{site}"), integrator, "{integrator}")
		fmt.Printf("%-44s %8s %8s %8s %8s\n", label, round(pct(times, 50)), round(pct(times, 90)), round(pct(times, 99)), round(times[len(times)-1]))
	}
	return nil
}

func round(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }

// analyze gathers PostgreSQL's statistics of the database at dbURL.
func analyze(dbURL string) error {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("ANALYZE")
	return err
}
