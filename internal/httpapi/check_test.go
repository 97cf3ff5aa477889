package httpapi_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The check API answers for the remote monitoring user's camera permissions
// (R-RM4) and for built-in roles (R-A1, R-A5), reflecting changes at
// once.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			rm := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/remote-monitoring-user", op, map[string]string{"description": "Station"})
			viewer := addActive(t, e, ts.c1, "viewer@example.com", "client_user", nil)
			editor := addActive(t, e, ts.c1, "editor@example.com", "client_user", []string{"editor"})
			ask := func(userID, accountID, permission string) bool {
				t.Helper()
				r := e.Must(t, 200, "POST", "/api/v1/check", op, map[string]string{"user_id": userID, "account_id": accountID, "permission": permission})
				allowed, ok := r.Body["allowed"].(bool)
				if !ok {
					t.Fatalf("check answered %s", r.Raw)
				}
				return allowed
			}
			cases := []struct {
				name, user, account, permission string
				want                            bool
			}{
				{"monitoring views cameras", rm.String("user_id"), ts.c1, "cameras.view", true},
				{"monitoring controls cameras", rm.String("user_id"), ts.c1, "cameras.control", true},
				{"monitoring sees no users", rm.String("user_id"), ts.c1, "users.view", false},
				{"monitoring edits no media", rm.String("user_id"), ts.c1, "media.edit", false},
				{"monitoring elsewhere", rm.String("user_id"), ts.c1b, "cameras.view", false},
				{"viewer views media", viewer.String("user_id"), ts.c1, "media.view", true},
				{"viewer edits no media", viewer.String("user_id"), ts.c1, "media.edit", false},
				{"editor edits media", editor.String("user_id"), ts.c1, "media.edit", true},
				{"editor manages no folders", editor.String("user_id"), ts.c1, "folders.manage", false},
				{"unknown account", viewer.String("user_id"), "0190d7a0-0000-7000-8000-000000000000", "media.view", false},
			}
			for _, c := range cases {
				if got := ask(c.user, c.account, c.permission); got != c.want {
					t.Errorf("%s: allowed %v, want %v", c.name, got, c.want)
				}
			}
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+ts.c1+"/users/"+rm.String("id"), op, nil)
			if ask(rm.String("user_id"), ts.c1, "cameras.view") {
				t.Errorf("a removed remote monitoring user still views cameras")
			}
			if r := e.Do(t, "POST", "/api/v1/check", op, map[string]string{"user_id": viewer.String("user_id"), "account_id": ts.c1, "permission": "cameras.fly"}); r.Status != 400 || r.Field() != "permission" {
				t.Errorf("unknown permission: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/check", ts.tokens["i1-admin"], map[string]string{"user_id": viewer.String("user_id"), "account_id": ts.c1, "permission": "media.view"}); r.Status != 403 {
				t.Errorf("check by a non-operator: %d", r.Status)
			}
		})
	}
}
