package httpapi_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Operators as people: an operator makes an activated identity an
// operator; signed in, it must enroll a second factor (R-P4), then acts as
// an operator everywhere (every account, the support-only settings); only
// operators manage operators, nobody removes their own power, and removing
// it ends the person's sessions. Every change is audited.
func TestOperatorsArePeople(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			sam := addActive(t, e, ts.i1, "sam@example.com", "integrator_user", nil).String("user_id")
			pending := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.i1+"/users", op, newUser("pending@example.com", "integrator_user")).String("user_id")
			if r := e.Do(t, "PUT", "/api/v1/operators/"+sam, ts.tokens["i1-admin"], nil); r.Status != 403 {
				t.Errorf("an integrator admin making an operator: %d", r.Status)
			}
			if r := e.Do(t, "PUT", "/api/v1/operators/"+pending, op, nil); r.Status != 409 || r.Code() != "not_activated" {
				t.Errorf("making a pending identity an operator: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 200, "PUT", "/api/v1/operators/"+sam, op, nil)
			if items := e.Must(t, 200, "GET", "/api/v1/operators", op, nil).Items(); len(items) != 1 || items[0]["username"] != "sam@example.com" {
				t.Errorf("operators listed: %v", items)
			}

			// Sam must now enroll a second factor, then acts as an operator.
			self := adminSession(t, e, "sam@example.com")
			if n := len(e.Must(t, 200, "GET", "/api/v1/accounts", self, nil).Items()); n != 5 {
				t.Errorf("an operator sees %d accounts, want all 5", n)
			}
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+ts.c2+"/settings", self, map[string]any{"max_client_users": 12})
			if r := e.Do(t, "DELETE", "/api/v1/operators/"+sam, self, nil); r.Status != 403 {
				t.Errorf("an operator removing their own power: %d", r.Status)
			}
			if r := e.Do(t, "DELETE", "/api/v1/me/mfa", self, nil); r.Status != 409 {
				t.Errorf("an operator turning the second factor off: %d", r.Status)
			}
			e.Must(t, 204, "DELETE", "/api/v1/operators/"+sam, op, nil)
			if r := e.Do(t, "GET", "/api/v1/accounts/"+ts.c2, self, nil); r.Status != 401 {
				t.Errorf("the former operator's session after the removal: %d", r.Status)
			}
			for _, action := range []string{"operator.granted", "operator.revoked"} {
				if auditCount(t, e, action) != 1 {
					t.Errorf("no %s audit event", action)
				}
			}
		})
	}
}
