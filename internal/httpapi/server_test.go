package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func sqliteEnv(t testing.TB) *apitest.Env {
	return apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
}

// The OpenAPI document lists exactly the served API routes, and each with
// the path parameters the route has.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.Must(t, 200, "GET", "/openapi.json", "", nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{"GET /healthz": true, "GET /openapi.json": true, "GET /metrics": true}
	for _, route := range e.API.Routes() {
		served[route.Method+" "+route.Pattern] = true
	}
	for route := range served {
		if !documented[route] {
			t.Errorf("served but not in openapi.json: %s", route)
		}
	}
	for route := range documented {
		if !served[route] {
			t.Errorf("in openapi.json but not served: %s", route)
		}
		// And the server really answers it with something other than 404/405.
		method, path, _ := strings.Cut(route, " ")
		path = strings.NewReplacer("{id}", "0190d7a0-0000-7000-8000-000000000000", "{membership_id}", "0190d7a0-0000-7000-8000-000000000001", "{user_id}", "0190d7a0-0000-7000-8000-000000000002").Replace(path)
		got := e.Do(t, method, path, apitest.OperatorToken, "{}")
		if got.Status == 405 || strings.Contains(string(got.Raw), "route not found") {
			t.Errorf("%s is documented but answered %d: %s", route, got.Status, got.Raw)
		}
	}
}

// Requests carry an id: the client's when it sent a sane one, a fresh one
// otherwise; it comes back in X-Request-Id and in the audit event.
func TestRequestID(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	req, _ := http.NewRequest("POST", e.URL+"/api/v1/accounts", strings.NewReader(`{"kind":"integrator","name":"Traced"}`))
	req.Header.Set("Authorization", "Bearer "+apitest.OperatorToken)
	req.Header.Set("X-Request-Id", "trace-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var account map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&account)
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "trace-42" {
		t.Errorf("X-Request-Id %q, want the client's", got)
	}
	audit := e.Must(t, 200, "GET", "/api/v1/accounts/"+account["id"].(string)+"/audit-events", apitest.OperatorToken, nil)
	if items := audit.Items(); len(items) != 1 || items[0]["request_id"] != "trace-42" {
		t.Errorf("audit event does not carry the request id: %s", audit.Raw)
	}

	req, _ = http.NewRequest("GET", e.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "bad id with spaces")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \n") {
		t.Errorf("X-Request-Id %q for an unusable incoming id", got)
	}
}

// /metrics shows requests by route and status, latency, and the database pools.
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.CreateAccount(t, "integrator", "Measured", "")
	e.Do(t, "GET", "/api/v1/accounts/unknown", apitest.OperatorToken, nil)
	r := e.Must(t, 200, "GET", "/metrics", "", nil)
	body := string(r.Raw)
	for _, want := range []string{
		`gatehouse_http_requests_total{method="POST",route="POST /api/v1/accounts",status="201"} 1`,
		`gatehouse_http_requests_total{method="GET",route="GET /api/v1/accounts/{id}",status="404"} 1`,
		`gatehouse_http_request_duration_seconds_bucket{method="POST",route="POST /api/v1/accounts",le=`,
		`go_sql_open_connections{db_name="write"}`,
		`go_sql_open_connections{db_name="read"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.Must(t, 200, "GET", "/healthz", "", nil)
	if r.String("status") != "ok" {
		t.Errorf("healthz body %s", r.Raw)
	}
	if !slices.Contains([]string{"application/json; charset=utf-8"}, r.Header.Get("Content-Type")) {
		t.Errorf("healthz content type %q", r.Header.Get("Content-Type"))
	}
}

// The policy's table names every served API route with the action it asks,
// and nothing else: who may do what is read from one place
// (docs/authorization.md).
func TestPolicyTableListsEveryRoute(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	inTable := map[string]bool{}
	for _, r := range policy.Routes {
		inTable[r.Method+" "+r.Path] = true
	}
	served := map[string]bool{}
	for _, route := range e.API.Routes() {
		served[route.Method+" "+route.Pattern] = true
		if !inTable[route.Method+" "+route.Pattern] {
			t.Errorf("served but not in the policy's table: %s %s", route.Method, route.Pattern)
		}
	}
	for route := range inTable {
		if !served[route] {
			t.Errorf("in the policy's table but not served: %s", route)
		}
	}
}
