package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A page's use cases share what they read of the account and of the
// person's access to it, within the request: a membership removed while
// the person has the portal open stops working at their next page, on
// both databases, and their other account's pages go on.
func TestARemovedMembersNextPageIsRefused(t *testing.T) {
	t.Parallel()
	for _, backend := range storetest.Backends(t) {
		t.Run(backend.Name, func(t *testing.T) {
			e := apitest.Start(t, backend)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			lyon := e.CreateAccount(t, "client", "Lyon Store", in)
			paris := e.CreateAccount(t, "client", "Paris Store", in)
			inLyon := activeUser(t, e, lyon, "viewer@example.com", "client_user")
			e.Must(t, 201, "POST", "/api/v1/accounts/"+paris+"/users", op, newUser("viewer@example.com", "client_user"))

			b := &browser{e: e}
			if resp, _ := b.do(t, "POST", "/login", url.Values{"username": {"viewer@example.com"}, "password": {goodPassword}}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", resp.StatusCode)
			}
			if resp, page := b.do(t, "GET", "/accounts/"+lyon, nil); resp.StatusCode != 200 || !strings.Contains(page, "Lyon Store") {
				t.Fatalf("Lyon's page while a member: %d", resp.StatusCode)
			}

			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+lyon+"/users/"+inLyon, op, nil)
			for _, path := range []string{"/accounts/" + lyon, "/accounts/" + lyon + "/folders"} {
				if resp, page := b.do(t, "GET", path, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(page, "Lyon Store") {
					t.Errorf("%s after the membership was removed: %d", path, resp.StatusCode)
				}
			}
			if resp, page := b.do(t, "GET", "/accounts/"+paris, nil); resp.StatusCode != 200 || !strings.Contains(page, "Paris Store") || strings.Contains(page, "Lyon Store") {
				t.Errorf("Paris's page after Lyon's membership was removed: %d", resp.StatusCode)
			}
		})
	}
}
