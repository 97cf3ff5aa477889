package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A person at a page and a program at the API get the same status for the
// same refusal: one table maps codes to statuses for both. The portal used
// to answer 500 for a full account, a folder name taken, and an
// administrator turning their second factor off.
func TestPortalAnswersCodedRefusalsAsTheAPIDoes(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil)
			bossAPI := adminSession(t, e, "boss@example.com")
			page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: bossAPI}}
			c1 := "/accounts/" + ts.c1

			// A full account.
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+ts.c1+"/settings", op, map[string]any{"max_client_users": 0})
			api := e.Do(t, "POST", "/api/v1"+c1+"/users", bossAPI, newUser("full@example.com", "client_user"))
			resp, body := page.do(t, "POST", c1+"/users", url.Values{"username": {"full2@example.com"}, "first_name": {"Full"},
				"last_name": {"Up"}, "level": {"client_user"}, "language": {"en"}, "same_as_username": {"1"}})
			same(t, "a full account", api.Status, api.Code(), resp.StatusCode, body, gatehouse.EUSERLIMIT)
			if !strings.Contains(body, "cancel a pending invitation") {
				t.Errorf("the refusal does not say what to do:\n%.800s", body)
			}
			if _, users := page.do(t, "GET", c1, nil); !strings.Contains(users, `id="account-full"`) || strings.Contains(users, `id="add-user"`) {
				t.Errorf("a full site's users page still offers to add, or does not say why not")
			}

			// A folder name taken.
			e.Must(t, 201, "POST", "/api/v1"+c1+"/folders", bossAPI, map[string]string{"name": "Lobby"})
			api = e.Do(t, "POST", "/api/v1"+c1+"/folders", bossAPI, map[string]string{"name": "Lobby"})
			resp, body = page.do(t, "POST", c1+"/folders", url.Values{"name": {"Lobby"}})
			same(t, "a folder name taken", api.Status, api.Code(), resp.StatusCode, body, gatehouse.ECONFLICT)

			// An administrator turning their second factor off.
			api = e.Do(t, "DELETE", "/api/v1/me/mfa", bossAPI, nil)
			resp, body = page.do(t, "POST", "/profile/mfa/off", url.Values{})
			same(t, "an administrator's second factor off", api.Status, api.Code(), resp.StatusCode, body, gatehouse.EMFAREQUIRED)

			// A change to a person another integrator's site shares: 403 in
			// both, and the portal says why at the field, in the page's words.
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+ts.c1+"/settings", op, map[string]any{"max_client_users": 10})
			addActive(t, e, ts.c2, "shared@example.com", "client_user", nil)
			body2 := map[string]any{"username": "shared@example.com", "level": "client_user", "mfa_required": true}
			api = e.Do(t, "POST", "/api/v1"+c1+"/users", bossAPI, body2)
			resp, body = page.do(t, "POST", c1+"/users", url.Values{"username": {"shared@example.com"}, "level": {"client_user"},
				"language": {"en"}, "same_as_username": {"1"}, "mfa_required": {"1"}})
			same(t, "a shared person's second factor", api.Status, api.Code(), resp.StatusCode, body, gatehouse.ESHAREDIDENTITY)
			if !strings.Contains(body, `id="mfa_required-error"`) || !strings.Contains(body, "accounts you do not manage") {
				t.Errorf("the portal does not show the shared-identity refusal at the field:\n%s", body)
			}
		})
	}
}

func same(t *testing.T, what string, apiStatus int, apiCode string, pageStatus int, page, wantCode string) {
	t.Helper()
	if apiCode != wantCode {
		t.Errorf("%s: the API answered %d %s, want %s", what, apiStatus, apiCode, wantCode)
	}
	if pageStatus != apiStatus {
		t.Errorf("%s: the portal answered %d, the API %d\n%.600s", what, pageStatus, apiStatus, page)
	}
}

// A French page says a refusal in French: at the field for a value refused,
// above the form for the rest.
func TestFrenchPagesSayRefusalsInFrench(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	boss := addActive(t, e, site, "boss@example.com", "client_admin", nil).String("user_id")
	e.Must(t, 200, "PATCH", "/api/v1/users/"+boss, op, map[string]string{"language": "fr"})
	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "boss@example.com")}}

	form := url.Values{"username": {"new@example.com"}, "first_name": {"Anne"}, "last_name": {"Martin"}, "level": {"client_user"},
		"language": {"fr"}, "same_as_username": {"1"}, "phone": {"12"}}
	resp, body := page.do(t, "POST", "/accounts/"+site+"/users", form)
	if resp.StatusCode != 400 || !strings.Contains(body, "Indiquez un numéro de mobile") || strings.Contains(body, "phone must be") {
		t.Errorf("a refused phone on a French page: %d\n%.1500s", resp.StatusCode, body)
	}
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 0})
	form.Set("phone", "")
	resp, body = page.do(t, "POST", "/accounts/"+site+"/users", form)
	if resp.StatusCode != 409 || !strings.Contains(body, "annulez une invitation en attente") {
		t.Errorf("a full site on a French page: %d\n%.1500s", resp.StatusCode, body)
	}
}
