package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Two clients of one integrator cannot share a name (in any case), through
// the API as through the portal, where the refusal is at the name field; a
// person who works for two sites of the same name under two integrators
// tells them apart in the switcher by the integrator's name.
func TestClientNamesAndTheSwitcher(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			if r := e.Do(t, "POST", "/api/v1/accounts", ts.tokens["i1-admin"], map[string]string{"kind": "client", "name": "client one a", "integrator_id": ts.i1}); r.Status != 409 || r.Field() != "name" {
				t.Errorf("a second client of the same name: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "PATCH", "/api/v1/accounts/"+ts.c1b, ts.tokens["i1-admin"], map[string]string{"name": "CLIENT ONE A"}); r.Status != 409 {
				t.Errorf("a client renamed to another's name: %d %s", r.Status, r.Raw)
			}
			twin := e.Must(t, 201, "POST", "/api/v1/accounts", ts.tokens["i2-admin"], map[string]string{"kind": "client", "name": "Client One A", "integrator_id": ts.i2}).String("id")
			addActive(t, e, ts.c1, "both@example.com", "client_user", nil)
			e.Must(t, 201, "POST", "/api/v1/accounts/"+twin+"/users", op, newUser("both@example.com", "client_user"))
			token := session(t, e, "both@example.com")

			me := e.Must(t, 200, "GET", "/api/v1/me", token, nil)
			if raw := string(me.Raw); !strings.Contains(raw, `"integrator_name":"Integrator One"`) || !strings.Contains(raw, `"integrator_name":"Integrator Two"`) {
				t.Errorf("/me does not name the integrators: %s", raw)
			}
			page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: token}}
			_, body := page.do(t, "GET", "/accounts", nil)
			if !strings.Contains(body, "Client One A</a> <span class=\"context\">— Integrator One</span>") || !strings.Contains(body, "— Integrator Two</span>") {
				t.Errorf("the switcher does not tell the two sites apart:\n%.3000s", body)
			}
			// The portal's form refuses the name at its field, in French too.
			addActive(t, e, ts.i1, "staff@example.com", "integrator_user", nil)
			staff := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: session(t, e, "staff@example.com")}}
			resp, body := staff.do(t, "POST", "/accounts/"+ts.i1+"/clients", url.Values{"name": {"Client One B"}})
			if resp.StatusCode != 409 || !strings.Contains(body, `id="client-name-error">This name is taken here`) {
				t.Errorf("the portal's new client of a taken name: %d\n%.2000s", resp.StatusCode, body)
			}
		})
	}
}
