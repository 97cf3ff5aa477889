package httpapi_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// parseDetails reads the downloaded connection details.
func parseDetails(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("line %q is not 'Key: value'", line)
		}
		out[k] = v
	}
	return out
}

// The remote monitoring user: created with a description, credentials
// generated, downloadable as a text file (each download audited), used to
// sign in without a second factor to reach its own account alone, and
// regenerated (old credentials and sessions die) (R-RM1…R-RM4, R-L1, R-L2).
func TestRemoteMonitoringUser(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			base := "/api/v1/accounts/" + ts.c1 + "/remote-monitoring-user"
			// The client-user limit is full: the service user does not count.
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+ts.c1+"/settings", op, map[string]any{"max_client_users": 0})

			m := e.Must(t, 201, "POST", base, ts.tokens["i1-user"], map[string]string{"description": "Night watch station"})
			if m.String("level") != "remote_monitoring" || m.String("status") != "active" || m.String("description") != "Night watch station" {
				t.Errorf("created as %s", m.Raw)
			}
			if strings.Contains(m.String("username"), "@") {
				t.Errorf("service username %q could collide with a person's", m.String("username"))
			}
			listed := false
			for _, u := range e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1+"/users", op, nil).Items() {
				listed = listed || (u["id"] == m.String("id") && u["level"] == "remote_monitoring")
			}
			if !listed {
				t.Errorf("the remote monitoring user is not listed among the users")
			}
			if r := e.Do(t, "POST", base, op, map[string]string{"description": "Second"}); r.Status != 409 || r.Code() != "remote_monitoring_user_exists" {
				t.Errorf("a second one: %d %s", r.Status, r.Raw)
			}

			dl := e.Must(t, 200, "GET", base+"/connection-details", ts.tokens["i1-admin"], nil)
			if !strings.HasPrefix(dl.Header.Get("Content-Type"), "text/plain") || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("download headers %v", dl.Header)
			}
			details := parseDetails(t, string(dl.Raw))
			if details["Username"] != m.String("username") || len(details["Password"]) < 24 || details["Server"] != "https://gatehouse.example.com" || details["Account ID"] != ts.c1 {
				t.Errorf("connection details %v", details)
			}
			downloads := 0
			for _, ev := range e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1+"/audit-events", op, nil).Items() {
				if ev["action"] == "remote_monitoring.details_downloaded" {
					downloads++
				}
			}
			if downloads != 1 {
				t.Errorf("%d audited downloads, want 1", downloads)
			}

			// Its sign-in needs no second factor and reaches its account alone.
			s := signIn(e, t, details["Username"], details["Password"])
			if s.Status != 201 {
				t.Fatalf("service sign-in: %d %s", s.Status, s.Raw)
			}
			token := s.String("token")
			e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1, token, nil)
			for _, path := range []string{"/api/v1/accounts/" + ts.c1b, "/api/v1/accounts/" + ts.c2, "/api/v1/accounts/" + ts.i1} {
				if r := e.Do(t, "GET", path, token, nil); r.Status != 404 {
					t.Errorf("service user reading %s: %d", path, r.Status)
				}
			}
			if r := e.Do(t, "GET", "/api/v1/accounts/"+ts.c1+"/users", token, nil); r.Status != 403 {
				t.Errorf("service user listing users: %d", r.Status)
			}
			if r := e.Do(t, "PATCH", "/api/v1/accounts/"+ts.c1, token, map[string]string{"name": "Mine"}); r.Status != 403 {
				t.Errorf("service user renaming the account: %d", r.Status)
			}
			if r := e.Do(t, "GET", base+"/connection-details", token, nil); r.Status != 403 {
				t.Errorf("service user downloading its own details: %d", r.Status)
			}

			fresh := e.Must(t, 200, "POST", base+"/credentials", ts.tokens["i1-admin"], nil)
			if fresh.String("password") == details["Password"] || fresh.String("username") != details["Username"] {
				t.Errorf("regenerated: %s", fresh.Raw)
			}
			if r := e.Do(t, "GET", "/api/v1/accounts/"+ts.c1, token, nil); r.Status != 401 {
				t.Errorf("a session of the old credentials: %d", r.Status)
			}
			if r := signIn(e, t, details["Username"], details["Password"]); r.Status != 401 {
				t.Errorf("old password: %d", r.Status)
			}
			newToken := signIn(e, t, details["Username"], fresh.String("password")).String("token")
			e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1, newToken, nil)

			// Deleting it ends its sessions and frees the slot.
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+ts.c1+"/users/"+m.String("id"), ts.tokens["i1-admin"], nil)
			if r := e.Do(t, "GET", "/api/v1/accounts/"+ts.c1, newToken, nil); r.Status != 401 {
				t.Errorf("a session after deletion: %d", r.Status)
			}
			e.Must(t, 201, "POST", base, op, map[string]string{"description": "Replacement"})
		})
	}
}

// Who may manage it (R-RM3), and bad input.
func TestRemoteMonitoringPermissions(t *testing.T) {
	t.Parallel()
	ts := newTenants(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	e := ts.e
	base := "/api/v1/accounts/" + ts.c1 + "/remote-monitoring-user"
	want := map[string]int{"c1-admin": 403, "c1-user": 403, "i2-admin": 404, "anonymous": 401}
	for p, status := range want {
		if r := e.Do(t, "POST", base, ts.tokens[p], map[string]string{"description": "x"}); r.Status != status {
			t.Errorf("%s creating: %d, want %d", p, r.Status, status)
		}
	}
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+ts.c1+"/settings", op, map[string]any{"client_admins_can_add_remote_monitoring": true})
	e.Must(t, 201, "POST", base, ts.tokens["c1-admin"], map[string]string{"description": "Allowed by support"})
	e.Must(t, 200, "GET", base+"/connection-details", ts.tokens["c1-admin"], nil)
	if r := e.Do(t, "GET", base+"/connection-details", ts.tokens["c1-user"], nil); r.Status != 403 {
		t.Errorf("client user downloading: %d", r.Status)
	}
	for name, c := range map[string]struct {
		path string
		body any
	}{
		"empty description":      {"/api/v1/accounts/" + ts.c1b + "/remote-monitoring-user", map[string]string{"description": "  "}},
		"10,000 characters":      {"/api/v1/accounts/" + ts.c1b + "/remote-monitoring-user", map[string]string{"description": strings.Repeat("d", 10000)}},
		"no description":         {"/api/v1/accounts/" + ts.c1b + "/remote-monitoring-user", map[string]string{}},
		"an integrator account":  {"/api/v1/accounts/" + ts.i1 + "/remote-monitoring-user", map[string]string{"description": "x"}},
		"description not a text": {"/api/v1/accounts/" + ts.c1b + "/remote-monitoring-user", map[string]any{"description": 42}},
	} {
		if r := e.Do(t, "POST", c.path, op, c.body); r.Status != 400 {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if r := e.Do(t, "GET", "/api/v1/accounts/"+ts.c1b+"/remote-monitoring-user/connection-details", op, nil); r.Status != 404 {
		t.Errorf("details of an account without one: %d", r.Status)
	}
}

// Ten concurrent creates: one 201, nine 409, on every database (R-L2).
func TestOneRemoteMonitoringUserUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			nodes := nodesOf(t, b, e)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Site", in)
			count := race(nodes, 10, func(node *apitest.Env, _ int) int {
				return node.Do(t, "POST", "/api/v1/accounts/"+site+"/remote-monitoring-user", op,
					map[string]string{"description": "Station"}).Status
			})
			if count[201] != 1 || count[409] != 9 {
				t.Errorf("statuses %v, want 1 × 201 and 9 × 409", count)
			}
		})
	}
}
