package httpapi_test

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// tenants is two integrators with clients, and a principal of every level.
type tenants struct {
	e                   *apitest.Env
	i1, c1, c1b, i2, c2 string
	tokens              map[string]string // principal name -> bearer token
}

func newTenants(t *testing.T, b storetest.Backend) *tenants {
	e := apitest.Start(t, b)
	ts := &tenants{e: e, tokens: map[string]string{"operator": op, "anonymous": ""}}
	ts.i1 = e.CreateAccount(t, "integrator", "Integrator One", "")
	ts.i2 = e.CreateAccount(t, "integrator", "Integrator Two", "")
	ts.c1 = e.CreateAccount(t, "client", "Client One A", ts.i1)
	ts.c1b = e.CreateAccount(t, "client", "Client One B", ts.i1)
	ts.c2 = e.CreateAccount(t, "client", "Client Two", ts.i2)
	ts.tokens["i1-admin"], _ = e.Member(t, ts.i1, gatehouse.LevelIntegratorAdmin)
	ts.tokens["i1-user"], _ = e.Member(t, ts.i1, gatehouse.LevelIntegratorUser)
	ts.tokens["c1-admin"], _ = e.Member(t, ts.c1, gatehouse.LevelClientAdmin)
	ts.tokens["c1-user"], _ = e.Member(t, ts.c1, gatehouse.LevelClientUser)
	ts.tokens["i2-admin"], _ = e.Member(t, ts.i2, gatehouse.LevelIntegratorAdmin)

	// One person who is integrator staff of I1 and client admin of C2, using
	// a token scoped to I1: the token must not reach C2 (R-M6, R-S4).
	scoped, userID := e.Member(t, ts.i1, gatehouse.LevelIntegratorUser)
	ctx := context.Background()
	if err := e.Store.Write(ctx, func(tx gatehouse.Tx) error {
		return e.Grant(ctx, tx, userID, ts.c2, gatehouse.LevelClientAdmin, nil)
	}); err != nil {
		t.Fatal(err)
	}
	ts.tokens["i1-scoped"] = scoped
	return ts
}

var principals = []string{"operator", "i1-admin", "i1-user", "c1-admin", "c1-user", "i2-admin", "i1-scoped", "anonymous"}

// Every principal against every account endpoint, with ids of both tenants:
// foreign accounts are 404 like unknown ones, visible-but-forbidden is 403
// (R-T2, R-X2, R-P2, R-L1 settings by operators only, R-X1 audit by admins).
func TestTenantIsolationMatrix(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			unknown := "0190d7a0-0000-7000-8000-000000000000"
			type request struct {
				name, method, path string
				body               any
			}
			rename := map[string]any{"address": "Somewhere"}
			settings := map[string]any{"max_client_users": 5}
			requests := []request{
				{"get I1", "GET", "/api/v1/accounts/" + ts.i1, nil},
				{"get C1", "GET", "/api/v1/accounts/" + ts.c1, nil},
				{"get C2", "GET", "/api/v1/accounts/" + ts.c2, nil},
				{"get unknown", "GET", "/api/v1/accounts/" + unknown, nil},
				{"patch I1", "PATCH", "/api/v1/accounts/" + ts.i1, rename},
				{"patch C1", "PATCH", "/api/v1/accounts/" + ts.c1, rename},
				{"patch C2", "PATCH", "/api/v1/accounts/" + ts.c2, rename},
				{"settings C1", "PATCH", "/api/v1/accounts/" + ts.c1 + "/settings", settings},
				{"settings C2", "PATCH", "/api/v1/accounts/" + ts.c2 + "/settings", settings},
				{"audit I1", "GET", "/api/v1/accounts/" + ts.i1 + "/audit-events", nil},
				{"audit C1", "GET", "/api/v1/accounts/" + ts.c1 + "/audit-events", nil},
				{"audit C2", "GET", "/api/v1/accounts/" + ts.c2 + "/audit-events", nil},
				{"client under I1", "POST", "/api/v1/accounts", map[string]any{"kind": "client", "name": "New", "integrator_id": ts.i1}},
				{"client under I2", "POST", "/api/v1/accounts", map[string]any{"kind": "client", "name": "New", "integrator_id": ts.i2}},
				{"integrator", "POST", "/api/v1/accounts", map[string]any{"kind": "integrator", "name": "New"}},
			}
			// want[request][principal], in the order of principals.
			want := map[string][8]int{
				//                 op   i1a  i1u  c1a  c1u  i2a  i1s  anon
				"get I1":          {200, 200, 200, 404, 404, 404, 200, 401},
				"get C1":          {200, 200, 200, 200, 200, 404, 200, 401},
				"get C2":          {200, 404, 404, 404, 404, 200, 404, 401},
				"get unknown":     {404, 404, 404, 404, 404, 404, 404, 401},
				"patch I1":        {200, 200, 403, 404, 404, 404, 403, 401},
				"patch C1":        {200, 200, 200, 200, 403, 404, 200, 401},
				"patch C2":        {200, 404, 404, 404, 404, 200, 404, 401},
				"settings C1":     {200, 403, 403, 403, 403, 404, 403, 401},
				"settings C2":     {200, 404, 404, 404, 404, 403, 404, 401},
				"audit I1":        {200, 200, 403, 404, 404, 404, 403, 401},
				"audit C1":        {200, 200, 200, 200, 403, 404, 200, 401},
				"audit C2":        {200, 404, 404, 404, 404, 200, 404, 401},
				"client under I1": {201, 201, 201, 404, 404, 404, 201, 401},
				"client under I2": {201, 404, 404, 404, 404, 201, 404, 401},
				"integrator":      {201, 403, 403, 403, 403, 403, 403, 401},
			}
			for _, req := range requests {
				for i, p := range principals {
					r := ts.e.Do(t, req.method, req.path, ts.tokens[p], req.body)
					if r.Status != want[req.name][i] {
						t.Errorf("%s as %s: status %d, want %d\n%s", req.name, p, r.Status, want[req.name][i], r.Raw)
					}
					// A foreign account and an unknown one get the same body.
					if r.Status == 404 && r.Code() != "not_found" {
						t.Errorf("%s as %s: 404 with code %q", req.name, p, r.Code())
					}
				}
			}
		})
	}
}

// Each principal lists exactly the accounts it may see, searching included (R-T4).
func TestListShowsOnlyVisibleAccounts(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			want := map[string][]string{
				"operator":  {"Client One A", "Client One B", "Client Two", "Integrator One", "Integrator Two"},
				"i1-admin":  {"Client One A", "Client One B", "Integrator One"},
				"i1-user":   {"Client One A", "Client One B", "Integrator One"},
				"c1-admin":  {"Client One A"},
				"c1-user":   {"Client One A"},
				"i2-admin":  {"Client Two", "Integrator Two"},
				"i1-scoped": {"Client One A", "Client One B", "Integrator One"},
			}
			for p, names := range want {
				for _, query := range []string{"", "?q=client", "?integrator_id=" + ts.i2, "?kind=integrator"} {
					r := ts.e.Must(t, 200, "GET", "/api/v1/accounts"+query, ts.tokens[p], nil)
					var got []string
					for _, item := range r.Items() {
						got = append(got, item["name"].(string))
					}
					sort.Strings(got)
					expected := filterNames(names, query, ts)
					if !slices.Equal(got, expected) {
						t.Errorf("%s lists %q with %q, want %q", p, query, got, expected)
					}
				}
			}
		})
	}
}

// filterNames applies the list query to the names a principal may see.
func filterNames(names []string, query string, ts *tenants) []string {
	out := []string{}
	for _, n := range names {
		keep := true
		switch query {
		case "?q=client":
			keep = n[:6] == "Client"
		case "?integrator_id=" + ts.i2:
			keep = n == "Client Two"
		case "?kind=integrator":
			keep = n[:10] == "Integrator"
		}
		if keep {
			out = append(out, n)
		}
	}
	return out
}
