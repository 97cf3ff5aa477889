package httpapi_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
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
	if err := e.Store.Write(ctx, func(tx *store.WriteTx) error {
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
	t.Parallel()
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
			notice := map[string]any{"subject": "Camera offline", "message": "Camera 3 stopped sending video."}
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
				{"notify C1", "POST", "/api/v1/accounts/" + ts.c1 + "/notifications", notice},
				{"notify I1", "POST", "/api/v1/accounts/" + ts.i1 + "/notifications", notice},
				{"notify C2", "POST", "/api/v1/accounts/" + ts.c2 + "/notifications", notice},
				{"provider access C1", "GET", "/api/v1/accounts/" + ts.c1 + "/provider-access", nil},
				{"provider access C2", "GET", "/api/v1/accounts/" + ts.c2 + "/provider-access", nil},
				{"open C1", "PUT", "/api/v1/accounts/" + ts.c1 + "/provider-access", nil},
				{"open C2", "PUT", "/api/v1/accounts/" + ts.c2 + "/provider-access", nil},
				{"end C1", "DELETE", "/api/v1/accounts/" + ts.c1 + "/provider-access", nil},
				{"ask C2", "POST", "/api/v1/accounts/" + ts.c2 + "/provider-access/requests", map[string]any{"reason": "maintenance"}},
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
				// i1-scoped is staff through an API token without the
				// notifications:send scope... it has all scopes (made before
				// scopes), so it may.
				"notify C1": {202, 202, 202, 202, 403, 404, 202, 401},
				"notify I1": {202, 202, 403, 404, 404, 404, 403, 401},
				"notify C2": {202, 404, 404, 404, 404, 202, 404, 401},
				// The client's privacy (R-PV1…R-PV3): its administrators open
				// its cameras and media, they and support end it, its
				// integrator's staff see it and ask.
				"provider access C1": {200, 200, 200, 200, 403, 404, 200, 401},
				"provider access C2": {200, 404, 404, 404, 404, 200, 404, 401},
				"open C1":            {403, 403, 403, 200, 403, 404, 403, 401},
				"open C2":            {403, 404, 404, 404, 404, 403, 404, 401},
				"end C1":             {200, 403, 403, 200, 403, 404, 403, 401},
				"ask C2":             {403, 404, 404, 404, 404, 201, 404, 401},
			}
			for _, req := range requests {
				for i, p := range principals {
					body := req.body
					if fields, ok := body.(map[string]any); ok && fields["name"] == "New" {
						// Each principal's new client needs a name of its own:
						// the clients of one integrator have unique names.
						named := maps.Clone(fields)
						named["name"] = "New by " + p
						body = named
					}
					r := ts.e.Do(t, req.method, req.path, ts.tokens[p], body)
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
	t.Parallel()
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

// Every principal against the roles, folders, grants, groups, permissions
// and check endpoints, with ids of both tenants (R-A1…R-A5, R-X2): foreign
// ids are 404 like unknown ones; visible-but-forbidden is 403.
func TestAccessRulesIsolationMatrix(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			c1, c2 := "/api/v1/accounts/"+ts.c1, "/api/v1/accounts/"+ts.c2
			folder1 := e.Must(t, 201, "POST", c1+"/folders", op, map[string]any{"name": "Stores"}).String("id")
			folder2 := e.Must(t, 201, "POST", c2+"/folders", op, map[string]any{"name": "Theirs"}).String("id")
			group2 := e.Must(t, 201, "POST", c2+"/groups", op, map[string]any{"name": "Theirs"}).String("id")
			var c1User map[string]any
			for _, m := range e.Must(t, 200, "GET", c1+"/users", op, nil).Items() {
				if m["level"] == "client_user" {
					c1User = m
				}
			}
			membership, userID := c1+"/users/"+c1User["id"].(string), c1User["user_id"].(string)
			type request struct {
				name, method, path string
				body               func(principal string) any
			}
			fixed := func(v any) func(string) any { return func(string) any { return v } }
			named := func(p string) any {
				return map[string]any{"name": "Made by " + p, "permissions": []string{"media.view"}}
			}
			folder := func(p string) any { return map[string]any{"name": "Made by " + p} }
			question := fixed(map[string]any{"user_id": userID, "account_id": ts.c1, "permission": "media.view"})
			requests := []request{
				{"roles C1", "GET", c1 + "/roles", nil},
				{"roles C2", "GET", c2 + "/roles", nil},
				{"new role C1", "POST", c1 + "/roles", named},
				{"new role C2", "POST", c2 + "/roles", named},
				{"folders C1", "GET", c1 + "/folders", nil},
				{"folders C2", "GET", c2 + "/folders", nil},
				{"new folder C1", "POST", c1 + "/folders", folder},
				{"new folder C2", "POST", c2 + "/folders", folder},
				{"folder C1", "GET", c1 + "/folders/" + folder1, nil},
				{"C2 folder via C1", "GET", c1 + "/folders/" + folder2, nil},
				{"move C2 folder via C1", "PATCH", c1 + "/folders/" + folder2, fixed(map[string]any{"name": "Mine"})},
				{"grant C1", "POST", c1 + "/folders/" + folder1 + "/grants", fixed(map[string]any{"user_id": userID, "role": "viewer"})},
				{"grant on C2 folder via C1", "POST", c1 + "/folders/" + folder2 + "/grants", fixed(map[string]any{"user_id": userID, "role": "viewer"})},
				{"grants C2", "GET", c2 + "/folders/" + folder2 + "/grants", nil},
				{"groups C1", "GET", c1 + "/groups", nil},
				{"new group C2", "POST", c2 + "/groups", folder},
				{"C2 group via C1", "GET", c1 + "/groups/" + group2, nil},
				{"join C2 group via C1", "POST", c1 + "/groups/" + group2 + "/members", fixed(map[string]any{"user_id": userID})},
				{"permissions C1 user", "GET", membership + "/permissions", nil},
				{"roles of C1 user", "PATCH", membership, fixed(map[string]any{"roles": []string{"editor"}})},
				{"check", "POST", "/api/v1/check", question},
				{"batch check", "POST", "/api/v1/check/batch", fixed(map[string]any{"checks": []any{question("")}})},
				{"new check token", "POST", "/api/v1/check-tokens", folder},
				{"check tokens", "GET", "/api/v1/check-tokens", nil},
			}
			want := map[string][8]int{
				//                            op   i1a  i1u  c1a  c1u  i2a  i1s  anon
				"roles C1":                  {200, 200, 200, 200, 403, 404, 200, 401},
				"roles C2":                  {200, 404, 404, 404, 404, 200, 404, 401},
				"new role C1":               {201, 201, 201, 201, 403, 404, 201, 401},
				"new role C2":               {201, 404, 404, 404, 404, 201, 404, 401},
				"folders C1":                {200, 200, 200, 200, 200, 404, 200, 401},
				"folders C2":                {200, 404, 404, 404, 404, 200, 404, 401},
				"new folder C1":             {201, 201, 201, 201, 403, 404, 201, 401},
				"new folder C2":             {201, 404, 404, 404, 404, 201, 404, 401},
				"folder C1":                 {200, 200, 200, 200, 404, 404, 200, 401},
				"C2 folder via C1":          {404, 404, 404, 404, 404, 404, 404, 401},
				"move C2 folder via C1":     {404, 404, 404, 404, 404, 404, 404, 401},
				"grant C1":                  {201, 201, 201, 201, 403, 404, 201, 401},
				"grant on C2 folder via C1": {404, 404, 404, 404, 403, 404, 404, 401},
				"grants C2":                 {200, 404, 404, 404, 404, 200, 404, 401},
				"groups C1":                 {200, 200, 200, 200, 403, 404, 200, 401},
				"new group C2":              {201, 404, 404, 404, 404, 201, 404, 401},
				"C2 group via C1":           {404, 404, 404, 404, 403, 404, 404, 401},
				"join C2 group via C1":      {404, 404, 404, 404, 403, 404, 404, 401},
				"permissions C1 user":       {200, 200, 200, 200, 200, 404, 200, 401},
				"roles of C1 user":          {200, 200, 200, 200, 403, 404, 200, 401},
				"check":                     {200, 403, 403, 403, 403, 403, 403, 401},
				"batch check":               {200, 403, 403, 403, 403, 403, 403, 401},
				"new check token":           {201, 403, 403, 403, 403, 403, 403, 401},
				"check tokens":              {200, 403, 403, 403, 403, 403, 403, 401},
			}
			for _, req := range requests {
				for i, p := range principals {
					var body any
					if req.body != nil {
						body = req.body(p)
					}
					r := e.Do(t, req.method, req.path, ts.tokens[p], body)
					if r.Status != want[req.name][i] {
						t.Errorf("%s as %s: status %d, want %d\n%s", req.name, p, r.Status, want[req.name][i], r.Raw)
					}
					if r.Status == 404 && r.Code() != "not_found" {
						t.Errorf("%s as %s: 404 with code %q", req.name, p, r.Code())
					}
					if req.name == "grant C1" && r.Status == 201 {
						// Take it back, so the next principal's grant is new too.
						e.Must(t, 204, "DELETE", c1+"/folders/"+folder1+"/grants/"+r.String("id"), op, nil)
					}
				}
			}
			// Nothing of C2 changed through C1's paths.
			if got := e.Must(t, 200, "GET", c2+"/folders/"+folder2, op, nil).String("name"); got != "Theirs" {
				t.Errorf("C2's folder renamed to %q", got)
			}
			if got := e.Must(t, 200, "GET", c2+"/groups/"+group2, op, nil).Body["user_ids"]; fmt.Sprint(got) != "[]" {
				t.Errorf("C2's group gained members %v", got)
			}
		})
	}
}
