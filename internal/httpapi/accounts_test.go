package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const op = apitest.OperatorToken

// The life of an account as an operator sees it, on every database
// (R-T1, R-T3, R-T4, R-X1).
func TestAccountLifecycle(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.Must(t, 201, "POST", "/api/v1/accounts", op, map[string]any{"kind": "integrator", "name": "  Acme Security  "})
			if in.String("name") != "Acme Security" || in.String("kind") != "integrator" || in.Body["integrator_id"] != nil {
				t.Errorf("integrator created as %s", in.Raw)
			}
			if got := in.Header.Get("Location"); got != "/api/v1/accounts/"+in.String("id") {
				t.Errorf("Location %q", got)
			}
			created, err := time.Parse(time.RFC3339, in.String("created_at"))
			if err != nil || created.Location() != time.UTC || time.Since(created) > time.Minute {
				t.Errorf("created_at %q is not a recent RFC 3339 UTC time", in.String("created_at"))
			}

			cl := e.Must(t, 201, "POST", "/api/v1/accounts", op, map[string]any{
				"kind": "client", "integrator_id": in.String("id"), "name": "Store 12", "address": "12 Rue de la Paix\n75002 Paris"})
			settings, _ := cl.Body["settings"].(map[string]any)
			if settings["max_client_users"] != 9.0 || settings["client_admins_can_add_remote_monitoring"] != false {
				t.Errorf("new client settings %v, want 9 and false", settings)
			}
			if cl.String("integrator_id") != in.String("id") || cl.String("address") != "12 Rue de la Paix\n75002 Paris" {
				t.Errorf("client created as %s", cl.Raw)
			}
			id := cl.String("id")
			if got := e.Must(t, 200, "GET", "/api/v1/accounts/"+id, op, nil); got.String("name") != "Store 12" {
				t.Errorf("GET returned %s", got.Raw)
			}

			renamed := e.Must(t, 200, "PATCH", "/api/v1/accounts/"+id, op, map[string]any{"name": "Store 12 (Opéra)"})
			if renamed.String("name") != "Store 12 (Opéra)" || renamed.String("address") != "12 Rue de la Paix\n75002 Paris" {
				t.Errorf("PATCH name changed more than the name: %s", renamed.Raw)
			}
			changed := e.Must(t, 200, "PATCH", "/api/v1/accounts/"+id+"/settings", op,
				map[string]any{"max_client_users": 4, "client_admins_can_add_remote_monitoring": true})
			settings, _ = changed.Body["settings"].(map[string]any)
			if settings["max_client_users"] != 4.0 || settings["client_admins_can_add_remote_monitoring"] != true {
				t.Errorf("settings after PATCH %v", settings)
			}
			if got := e.Must(t, 200, "GET", "/api/v1/accounts/"+id, op, nil); !strings.Contains(string(got.Raw), `"max_client_users":4`) {
				t.Errorf("settings not kept: %s", got.Raw)
			}

			search := e.Must(t, 200, "GET", "/api/v1/accounts?q=OPÉRA&kind=client&integrator_id="+in.String("id"), op, nil)
			if items := search.Items(); len(items) != 1 || items[0]["id"] != id || search.Body["next_cursor"] != nil {
				t.Errorf("search by name: %s", search.Raw)
			}

			audit := e.Must(t, 200, "GET", "/api/v1/accounts/"+id+"/audit-events", op, nil)
			var actions []string
			for _, ev := range audit.Items() {
				actions = append(actions, ev["action"].(string))
				if ev["actor_id"] != "operator" || ev["ip"] != "127.0.0.1" || ev["target_id"] != id || ev["target_type"] != "account" {
					t.Errorf("audit event %v", ev)
				}
			}
			want := []string{"account.settings_changed", "account.updated", "account.created"}
			if !slices.Equal(actions, want) {
				t.Errorf("audit actions %v, want newest first %v", actions, want)
			}
		})
	}
}

// Lists page through everything exactly once with ?limit and ?cursor, and
// next_cursor is null on the last page (docs/api.md).
func TestListPagination(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	in := e.CreateAccount(t, "integrator", "Paging Integrator", "")
	for i := range 7 {
		e.CreateAccount(t, "client", "Site "+string(rune('A'+i)), in)
	}
	var names []string
	path := "/api/v1/accounts?kind=client&limit=3"
	for page := 0; page < 5; page++ {
		r := e.Must(t, 200, "GET", path, op, nil)
		for _, item := range r.Items() {
			names = append(names, item["name"].(string))
		}
		next, _ := r.Body["next_cursor"].(string)
		if next == "" {
			if r.Body["next_cursor"] != nil {
				t.Errorf("last page next_cursor = %v, want null", r.Body["next_cursor"])
			}
			break
		}
		path = "/api/v1/accounts?kind=client&limit=3&cursor=" + next
	}
	if want := []string{"Site A", "Site B", "Site C", "Site D", "Site E", "Site F", "Site G"}; !slices.Equal(names, want) {
		t.Errorf("pages gave %v, want %v", names, want)
	}
	if n := len(e.Must(t, 200, "GET", "/api/v1/accounts", op, nil).Items()); n != 8 {
		t.Errorf("default limit listed %d of 8", n)
	}
	// "At most 500": a larger limit is served, capped.
	if n := len(e.Must(t, 200, "GET", "/api/v1/accounts?limit=100000", op, nil).Items()); n != 8 {
		t.Errorf("limit=100000 listed %d of 8", n)
	}
}

// Bad input gets the contract's 4xx error body naming the field, and writes
// nothing (R-X3).
func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Integrator", "")
			client := e.CreateAccount(t, "client", "Client", in)
			long := strings.Repeat("n", 201)
			huge := `{"kind":"integrator","name":"` + strings.Repeat("x", 2<<20) + `"}`
			cases := []struct {
				name, method, path string
				token              string
				body               any
				status             int
				code, field        string
			}{
				{"no token", "GET", "/api/v1/accounts", "", nil, 401, "unauthenticated", ""},
				{"unknown token", "GET", "/api/v1/accounts", "gh_api_unknown", nil, 401, "unauthenticated", ""},
				{"token of no known kind", "GET", "/api/v1/accounts", "guess", nil, 401, "unauthenticated", ""},
				{"malformed JSON", "POST", "/api/v1/accounts", op, `{"kind":"integrator",`, 400, "validation_failed", ""},
				{"not an object", "POST", "/api/v1/accounts", op, `["integrator"]`, 400, "validation_failed", ""},
				{"trailing data", "POST", "/api/v1/accounts", op, `{"kind":"integrator","name":"A"} {"x":1}`, 400, "validation_failed", ""},
				{"empty body", "POST", "/api/v1/accounts", op, "", 400, "validation_failed", ""},
				{"unknown kind", "POST", "/api/v1/accounts", op, map[string]any{"kind": "reseller", "name": "A"}, 400, "validation_failed", "kind"},
				{"missing kind", "POST", "/api/v1/accounts", op, map[string]any{"name": "A"}, 400, "validation_failed", "kind"},
				{"missing name", "POST", "/api/v1/accounts", op, map[string]any{"kind": "integrator"}, 400, "validation_failed", "name"},
				{"blank name", "POST", "/api/v1/accounts", op, map[string]any{"kind": "integrator", "name": " \t "}, 400, "validation_failed", "name"},
				{"name too long", "POST", "/api/v1/accounts", op, map[string]any{"kind": "integrator", "name": long}, 400, "validation_failed", "name"},
				{"control character", "POST", "/api/v1/accounts", op, map[string]any{"kind": "integrator", "name": "A\x00B"}, 400, "validation_failed", "name"},
				{"array for a string", "POST", "/api/v1/accounts", op, map[string]any{"kind": "integrator", "name": []string{"A", "B"}}, 400, "validation_failed", "name"},
				{"number for a string", "POST", "/api/v1/accounts", op, map[string]any{"kind": "integrator", "name": 7}, 400, "validation_failed", "name"},
				{"client without integrator", "POST", "/api/v1/accounts", op, map[string]any{"kind": "client", "name": "C"}, 400, "validation_failed", "integrator_id"},
				{"integrator with integrator", "POST", "/api/v1/accounts", op, map[string]any{"kind": "integrator", "name": "I", "integrator_id": in}, 400, "validation_failed", "integrator_id"},
				{"client under a client", "POST", "/api/v1/accounts", op, map[string]any{"kind": "client", "name": "C", "integrator_id": client}, 400, "validation_failed", "integrator_id"},
				{"client under an unknown integrator", "POST", "/api/v1/accounts", op, map[string]any{"kind": "client", "name": "C", "integrator_id": "nope"}, 404, "not_found", "integrator_id"},
				{"oversized body", "POST", "/api/v1/accounts", op, huge, 413, "too_large", ""},
				{"unknown account", "GET", "/api/v1/accounts/0190d7a0-0000-7000-8000-000000000000", op, nil, 404, "not_found", ""},
				{"rename to blank", "PATCH", "/api/v1/accounts/" + client, op, map[string]any{"name": ""}, 400, "validation_failed", "name"},
				{"address too long", "PATCH", "/api/v1/accounts/" + client, op, map[string]any{"address": strings.Repeat("a", 1001)}, 400, "validation_failed", "address"},
				{"negative limit setting", "PATCH", "/api/v1/accounts/" + client + "/settings", op, map[string]any{"max_client_users": -1}, 400, "validation_failed", "max_client_users"},
				{"fractional limit setting", "PATCH", "/api/v1/accounts/" + client + "/settings", op, map[string]any{"max_client_users": 2.5}, 400, "validation_failed", "max_client_users"},
				{"string for a boolean", "PATCH", "/api/v1/accounts/" + client + "/settings", op, map[string]any{"client_admins_can_add_remote_monitoring": "yes"}, 400, "validation_failed", "client_admins_can_add_remote_monitoring"},
				{"settings of an integrator", "PATCH", "/api/v1/accounts/" + in + "/settings", op, map[string]any{"max_client_users": 3}, 400, "validation_failed", "settings"},
				{"list kind", "GET", "/api/v1/accounts?kind=reseller", op, nil, 400, "validation_failed", "kind"},
				{"limit zero", "GET", "/api/v1/accounts?limit=0", op, nil, 400, "validation_failed", "limit"},
				{"negative limit", "GET", "/api/v1/accounts?limit=-5", op, nil, 400, "validation_failed", "limit"},
				{"limit not a number", "GET", "/api/v1/accounts?limit=ten", op, nil, 400, "validation_failed", "limit"},
				{"forged cursor", "GET", "/api/v1/accounts?cursor=eyJ4IjoxfQ", op, nil, 400, "validation_failed", "cursor"},
				{"unknown route", "GET", "/api/v1/nothing-here", op, nil, 404, "not_found", ""},
				{"wrong method", "DELETE", "/api/v1/accounts", op, nil, 405, "method_not_allowed", ""},
			}
			for _, c := range cases {
				r := e.Do(t, c.method, c.path, c.token, c.body)
				if r.Status != c.status || r.Code() != c.code || r.Field() != c.field {
					t.Errorf("%s: got %d %q field %q, want %d %q field %q\n%s", c.name, r.Status, r.Code(), r.Field(), c.status, c.code, c.field, r.Raw)
				}
				if msg, _ := r.Body["error"].(map[string]any)["message"].(string); msg == "" {
					t.Errorf("%s: error without a message: %s", c.name, r.Raw)
				}
			}
			// Nothing of the refused requests was written.
			if n := len(e.Must(t, 200, "GET", "/api/v1/accounts", op, nil).Items()); n != 2 {
				t.Errorf("%d accounts after refused requests, want the 2 created", n)
			}
			if got := e.Must(t, 200, "GET", "/api/v1/accounts/"+client, op, nil); got.String("name") != "Client" {
				t.Errorf("a refused PATCH changed the account: %s", got.Raw)
			}
			if n := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+client+"/audit-events", op, nil).Items()); n != 1 {
				t.Errorf("%d audit events for the client, want only its creation", n)
			}
		})
	}
}

// The 401 answer tells the client how to authenticate.
func TestUnauthenticatedAsksForBearer(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	r := e.Must(t, http.StatusUnauthorized, "GET", "/api/v1/accounts", "", nil)
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
}
