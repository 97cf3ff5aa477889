package httpapi_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The isolation fuzzer. Two integrators with clients; the victim
// side (Integrator Two and its client) holds members, a folder, a custom
// role, a group, a grant, a pending invitation, a remote monitoring user, a
// bulk preview, a personal API token, a SCIM token and a group mapping. Every principal of the other side
// asks every route of the API with the victim's ids in the path and the
// body. The invariants: no such request succeeds (2xx), is refused as a
// conflict (409, which would show it got past the door), or fails (5xx);
// the victim's data reads the same afterwards; nobody of the other side is
// ever allowed the canary permission on the victim's folder.

type isolationWorld struct {
	e          *apitest.Env
	principals map[string]string // name → bearer secret
	outsiders  []string          // user ids of the other side's principals
	ids        map[string]string // path parameter → the victim's id
	i2, c2     string
	routes     []string // "METHOD pattern"
}

// isolationPrincipals are the principals of the other side, in order.
var isolationPrincipals = []string{"i1-admin", "i1-user", "c1-admin", "c1-user", "i1-scoped", "c1-scim", "anonymous"}

func buildIsolationWorld(t testing.TB, b storetest.Backend) *isolationWorld {
	e := apitest.Start(t, b)
	w := &isolationWorld{e: e, principals: map[string]string{"anonymous": ""}, ids: map[string]string{}}
	i1 := e.CreateAccount(t, "integrator", "Integrator One", "")
	w.i2 = e.CreateAccount(t, "integrator", "Integrator Two", "")
	c1 := e.CreateAccount(t, "client", "Client One", i1)
	w.c2 = e.CreateAccount(t, "client", "Client Two", w.i2)
	for name, spec := range map[string]struct {
		account string
		level   gatehouse.Level
	}{"i1-admin": {i1, gatehouse.LevelIntegratorAdmin}, "i1-user": {i1, gatehouse.LevelIntegratorUser},
		"c1-admin": {c1, gatehouse.LevelClientAdmin}, "c1-user": {c1, gatehouse.LevelClientUser}} {
		token, userID := e.Member(t, spec.account, spec.level)
		w.principals[name], w.outsiders = token, append(w.outsiders, userID)
	}
	// Staff of I1 who is also an administrator of C2, through a token
	// scoped to I1: the token must not reach C2.
	scoped, userID := e.Member(t, i1, gatehouse.LevelIntegratorUser)
	if err := e.Store.Write(context.Background(), func(tx *store.WriteTx) error {
		return e.Grant(context.Background(), tx, userID, w.c2, gatehouse.LevelClientAdmin, nil)
	}); err != nil {
		t.Fatal(err)
	}
	// (This person administers C2 in their own right, so the canary does
	// not ask about them: only their I1-scoped token is an outsider.)
	w.principals["i1-scoped"] = scoped
	// Client One's directory, with its SCIM token.
	w.principals["c1-scim"] = e.Must(t, 201, "POST", "/api/v1/accounts/"+c1+"/scim-tokens", op, map[string]string{"name": "c1"}).String("token")

	c2 := "/api/v1/accounts/" + w.c2
	victim := e.Must(t, 201, "POST", c2+"/users", op, map[string]any{"username": "victim@example.com", "first_name": "Vic",
		"last_name": "Tim", "level": "client_user"})
	e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": e.ActivationTokens(t, "victim@example.com")[0],
		"password": goodPassword})
	w.ids["membership_id"], w.ids["user_id"] = victim.String("id"), victim.String("user_id")
	w.ids["folder_id"] = e.Must(t, 201, "POST", c2+"/folders", op, map[string]string{"name": "Vault"}).String("id")
	w.ids["role_id"] = e.Must(t, 201, "POST", c2+"/roles", op, map[string]any{"name": "Keeper", "permissions": []string{"cameras.control"}}).String("id")
	w.ids["group_id"] = e.Must(t, 201, "POST", c2+"/groups", op, map[string]any{"name": "Night", "roles": []string{"viewer"}}).String("id")
	e.Must(t, 204, "POST", c2+"/groups/"+w.ids["group_id"]+"/members", op, map[string]string{"user_id": w.ids["user_id"]})
	w.ids["grant_id"] = e.Must(t, 201, "POST", c2+"/folders/"+w.ids["folder_id"]+"/grants", op,
		map[string]any{"user_id": w.ids["user_id"], "role": "Keeper"}).String("id")
	e.Must(t, 201, "POST", c2+"/users", op, map[string]any{"username": "pending@example.com", "first_name": "Pen", "last_name": "Ding", "level": "client_user"})
	w.ids["invitation"] = e.Must(t, 200, "GET", c2+"/invitations?status=pending", op, nil).Items()[0]["id"].(string)
	e.Must(t, 201, "POST", c2+"/remote-monitoring-user", op, map[string]string{"description": "Station"})
	w.ids["preview_id"] = e.Must(t, 200, "POST", c2+"/invitations/bulk", op, "email\nbulk@example.com\n").String("preview_id")
	victimSession := e.Must(t, 201, "POST", "/api/v1/sessions", "", map[string]string{"username": "victim@example.com", "password": goodPassword}).String("token")
	w.ids["api_token"] = e.Must(t, 201, "POST", c2+"/api-tokens", victimSession, map[string]any{"name": "mine", "scopes": []string{"users:read"}}).String("id")
	w.ids["check_token"] = e.Must(t, 201, "POST", "/api/v1/check-tokens", op, map[string]string{"name": "video"}).String("id")
	victimStaff, _ := e.Member(t, w.i2, gatehouse.LevelIntegratorUser)
	w.ids["request_id"] = e.Must(t, 201, "POST", c2+"/provider-access/requests", victimStaff, map[string]string{"reason": "maintenance"}).String("id")
	w.ids["scim_token"] = e.Must(t, 201, "POST", c2+"/scim-tokens", op, map[string]string{"name": "Entra"}).String("id")
	w.ids["mapping_id"] = e.Must(t, 201, "POST", c2+"/scim-group-mappings", op, map[string]string{"group": "Night", "role": "editor"}).String("id")
	for _, r := range e.API.Routes() {
		w.routes = append(w.routes, r.Method+" "+r.Pattern)
	}
	slices.Sort(w.routes)
	return w
}

// selfRoutes are about the caller alone (or public), not about an account:
// they are asked too, but their success says nothing about isolation.
var selfRoutes = map[string]bool{
	"GET /api/v1/me": true, "DELETE /api/v1/sessions/current": true, "POST /api/v1/sessions": true, "POST /api/v1/sessions/mfa": true,
	"POST /api/v1/sessions/mfa/resend": true, "POST /api/v1/activate": true, "POST /api/v1/password-resets": true,
	"POST /api/v1/password-resets/confirm": true, "POST /api/v1/username-confirmations": true, "DELETE /api/v1/me/mfa": true,
	"POST /api/v1/me/mfa/totp": true, "POST /api/v1/me/mfa/totp/confirm": true, "POST /api/v1/me/mfa/sms": true,
	"POST /api/v1/me/mfa/sms/confirm": true, "POST /api/v1/me/mfa/recovery-codes": true, "GET /api/v1/identity-providers": true,
	"GET /api/v1/accounts": true, "POST /api/v1/identity-providers": true,
	"GET /api/v1/me/passkeys": true, "POST /api/v1/me/passkeys/options": true, "POST /api/v1/me/passkeys": true,
	"DELETE /api/v1/me/passkeys/{passkey_id}": true, "POST /api/v1/sessions/passkey/options": true, "POST /api/v1/sessions/passkey": true,
	"POST /api/v1/sessions/mfa/passkey/options": true, "POST /api/v1/sessions/mfa/passkey": true,
	"POST /api/v1/activate/passkey/options": true, "POST /api/v1/activate/passkey": true,
}

// request builds the path and body of a route aimed at the victim; variant
// picks the integrator instead of the client where both make sense.
func (w *isolationWorld) request(route string, variant int) (method, path string, body any) {
	method, pattern, _ := strings.Cut(route, " ")
	account := w.c2
	if variant%2 == 1 {
		account = w.i2
	}
	ids := map[string]string{"{id}": account, "{membership_id}": w.ids["membership_id"], "{user_id}": w.ids["user_id"],
		"{folder_id}": w.ids["folder_id"], "{role_id}": w.ids["role_id"], "{group_id}": w.ids["group_id"],
		"{grant_id}": w.ids["grant_id"], "{preview_id}": w.ids["preview_id"], "{token_id}": w.ids["api_token"],
		"{provider_id}": "0190d7a0-0000-7000-8000-000000000009", "{request_id}": w.ids["request_id"],
		"{mapping_id}": w.ids["mapping_id"], "{scim_id}": w.ids["membership_id"]}
	if strings.HasPrefix(pattern, "/api/v1/invitations/") {
		ids["{id}"] = w.ids["invitation"]
	}
	if strings.HasPrefix(pattern, "/api/v1/check-tokens/") {
		ids["{token_id}"] = w.ids["check_token"]
	}
	if strings.Contains(pattern, "/scim-tokens/") {
		ids["{token_id}"] = w.ids["scim_token"]
	}
	if strings.Contains(pattern, "/Groups/") {
		ids["{scim_id}"] = w.ids["group_id"]
	}
	path = pattern
	for param, id := range ids {
		path = strings.ReplaceAll(path, param, id)
	}
	if route == "GET /api/v1/events" || route == "GET /api/v1/oidc-clients" {
		// Their account is named in the query: the victim's.
		path += "?account_id=" + account
	}
	bodies := map[string]any{
		"POST /api/v1/accounts":                                 map[string]any{"kind": "client", "integrator_id": w.i2, "name": "Intruder"},
		"PATCH /api/v1/accounts/{id}":                           map[string]any{"name": "Renamed"},
		"PATCH /api/v1/accounts/{id}/settings":                  map[string]any{"max_client_users": 99},
		"POST /api/v1/accounts/{id}/users":                      map[string]any{"username": "intruder@example.com", "first_name": "I", "last_name": "N", "level": "client_user"},
		"PATCH /api/v1/accounts/{id}/users/{membership_id}":     map[string]any{"roles": []string{"manager"}},
		"POST /api/v1/accounts/{id}/roles":                      map[string]any{"name": "Intruder", "permissions": []string{"cameras.control"}},
		"PATCH /api/v1/accounts/{id}/roles/{role_id}":           map[string]any{"permissions": []string{"cameras.view"}},
		"POST /api/v1/accounts/{id}/folders":                    map[string]any{"name": "Intruder"},
		"PATCH /api/v1/accounts/{id}/folders/{folder_id}":       map[string]any{"name": "Renamed"},
		"POST /api/v1/accounts/{id}/folders/{folder_id}/grants": map[string]any{"user_id": w.ids["user_id"], "role": "manager"},
		"POST /api/v1/accounts/{id}/groups":                     map[string]any{"name": "Intruder", "roles": []string{"manager"}},
		"PATCH /api/v1/accounts/{id}/groups/{group_id}":         map[string]any{"name": "Renamed"},
		"POST /api/v1/accounts/{id}/groups/{group_id}/members":  map[string]any{"user_id": w.ids["user_id"]},
		"POST /api/v1/accounts/{id}/invitations/bulk":           "email\nintruder@example.com\n",
		"POST /api/v1/accounts/{id}/remote-monitoring-user":     map[string]any{"description": "Intruder"},
		"POST /api/v1/accounts/{id}/api-tokens":                 map[string]any{"name": "x", "scopes": []string{"users:read"}},
		"POST /api/v1/accounts/{id}/notifications":              map[string]any{"subject": "x", "message": "y"},
		"PATCH /api/v1/users/{user_id}":                         map[string]any{"first_name": "Pwned", "username": "pwned@example.com"},
		"POST /api/v1/check":                                    map[string]any{"user_id": w.ids["user_id"], "account_id": w.c2, "permission": "cameras.control", "folder_id": w.ids["folder_id"]},
		"POST /api/v1/check/batch":                              map[string]any{"questions": []map[string]any{{"user_id": w.ids["user_id"], "account_id": w.c2, "permission": "cameras.control", "folder_id": w.ids["folder_id"]}}},
		"POST /api/v1/check-tokens":                             map[string]any{"name": "mine"},
		"PUT /api/v1/accounts/{id}/provider-access":             map[string]any{"until": nil},
		"POST /api/v1/accounts/{id}/provider-access/requests":   map[string]any{"reason": "let me in"},
		"POST /api/v1/accounts/{id}/scim-tokens":                map[string]any{"name": "Intruder"},
		"POST /api/v1/accounts/{id}/scim-group-mappings":        map[string]any{"group": "Intruders", "level": "client_admin"},
		"POST /scim/v2/accounts/{id}/Users":                     scimUser("intruder@example.com", "In", "Truder", "x"),
		"PATCH /scim/v2/accounts/{id}/Users/{scim_id}":          patchOp(map[string]any{"op": "replace", "path": "active", "value": false}),
		"PATCH /scim/v2/accounts/{id}/Groups/{scim_id}":         patchOp(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": w.ids["membership_id"]}}}),
		"POST /scim/v2/accounts/{id}/Groups":                    map[string]any{"displayName": "Intruders"},
	}
	return method, path, bodies[route]
}

// ask sends one request as the principal and checks the first invariant.
func (w *isolationWorld) ask(t testing.TB, principal, route string, variant int, body any, replaceBody bool) {
	t.Helper()
	method, path, templateBody := w.request(route, variant)
	if !replaceBody {
		body = templateBody
	}
	r := w.e.Do(t, method, path, w.principals[principal], body)
	if selfRoutes[route] {
		if r.Status >= 500 {
			t.Errorf("%s %s as %s: %d %s", method, path, principal, r.Status, r.Raw)
		}
		return
	}
	if strings.HasPrefix(route, "POST /api/v1/check") && r.Status == 200 {
		// Checks may be asked; about the victim they must say no.
		if strings.Contains(string(r.Raw), "true") {
			t.Errorf("%s as %s was told yes: %s", route, principal, r.Raw)
		}
		return
	}
	switch r.Status {
	case 400, 401, 403, 404, 405, 413, 415:
	default:
		t.Errorf("%s %s as %s (victim's ids): %d %s", method, path, principal, r.Status, r.Raw)
	}
}

// snapshot reads the victim's side as an operator sees it.
func (w *isolationWorld) snapshot(t testing.TB) string {
	t.Helper()
	c2 := "/api/v1/accounts/" + w.c2
	var parts []string
	for _, path := range []string{"/api/v1/accounts/" + w.i2, c2, c2 + "/users", c2 + "/roles", c2 + "/folders", c2 + "/groups",
		c2 + "/groups/" + w.ids["group_id"], c2 + "/folders/" + w.ids["folder_id"] + "/grants", c2 + "/invitations?status=pending",
		c2 + "/provider-access/requests", c2 + "/scim-tokens", c2 + "/scim-group-mappings",
		"/api/v1/accounts?kind=client&integrator_id=" + w.i2} {
		parts = append(parts, string(w.e.Must(t, 200, "GET", path, op, nil).Raw))
	}
	return strings.Join(parts, "\n")
}

// canary checks that nobody of the other side holds cameras.control on the
// victim's folder.
func (w *isolationWorld) canary(t testing.TB) {
	t.Helper()
	for _, user := range w.outsiders {
		r := w.e.Must(t, 200, "POST", "/api/v1/check", op, map[string]string{"user_id": user, "account_id": w.c2,
			"permission": "cameras.control", "folder_id": w.ids["folder_id"]})
		if r.Body["allowed"] != false {
			t.Errorf("outsider %s holds the canary permission: %s", user, r.Raw)
		}
	}
}

// Every route × every principal of the other side × the victim's ids, on
// both databases.
func TestIsolationSweep(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := buildIsolationWorld(t, b)
			before := w.snapshot(t)
			asked := 0
			for _, route := range w.routes {
				for _, principal := range isolationPrincipals {
					for variant := range 2 {
						w.ask(t, principal, route, variant, nil, false)
						asked++
					}
				}
			}
			if after := w.snapshot(t); after != before {
				t.Errorf("the victim's data changed:\nbefore %s\nafter  %s", before, after)
			}
			w.canary(t)
			t.Logf("%d requests over %d routes", asked, len(w.routes))
		})
	}
}

// FuzzIsolation asks random routes as random principals with the victim's
// ids and random bodies (go test -fuzz=FuzzIsolation ./internal/httpapi).
func FuzzIsolation(f *testing.F) {
	w := buildIsolationWorld(f, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	before := w.snapshot(f)
	for i := range len(w.routes) {
		f.Add(uint16(i), uint8(i), uint8(0), []byte(nil))
	}
	f.Add(uint16(0), uint8(0), uint8(1), []byte(`{"kind":"client","integrator_id":"`+w.i2+`","name":"x"}`))
	f.Add(uint16(3), uint8(2), uint8(1), []byte(`{"user_id":"`+w.ids["user_id"]+`","role":"`+w.ids["role_id"]+`"}`))
	f.Fuzz(func(t *testing.T, route uint16, principal, variant uint8, body []byte) {
		r := w.routes[int(route)%len(w.routes)]
		p := isolationPrincipals[int(principal)%len(isolationPrincipals)]
		var raw any
		replace := len(body) > 0
		if replace {
			// Random JSON, or the victim's ids spliced into it.
			text := strings.NewReplacer("$USER", w.ids["user_id"], "$ACCOUNT", w.c2, "$FOLDER", w.ids["folder_id"],
				"$ROLE", w.ids["role_id"], "$GROUP", w.ids["group_id"]).Replace(string(body))
			raw = json.RawMessage(text)
			if !json.Valid([]byte(text)) {
				raw = text
			}
		}
		w.ask(t, p, r, int(variant), raw, replace)
		if after := w.snapshot(t); after != before {
			t.Fatalf("the victim's data changed after %s as %s with %q:\n%s", r, p, body, after)
		}
		w.canary(t)
	})
}
