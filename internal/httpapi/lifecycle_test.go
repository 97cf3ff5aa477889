package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// checkAs asks the check API whether the user may do permission in the
// account, as the operator.
func checkAs(t *testing.T, e *apitest.Env, user, account, permission string) bool {
	t.Helper()
	r := e.Must(t, 200, "POST", "/api/v1/check", op, map[string]string{"user_id": user, "account_id": account, "permission": permission})
	return r.Body["allowed"] == true
}

// A client suspended by its integrator's staff: its own members cannot act
// in it (403 account_suspended, checks answer no) while the staff still
// manage it and its remote monitoring user keeps working; restored, all is
// as before. An integrator suspended by an operator stops its staff in all
// its clients, and nobody but operators may do that (R-T5).
func TestAccountSuspension(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			c1 := "/api/v1/accounts/" + ts.c1
			ann := addActive(t, e, ts.c1, "ann@example.com", "client_user", nil).String("user_id")
			annSession := session(t, e, "ann@example.com")
			staff := addActive(t, e, ts.i1, "staff@example.com", "integrator_user", nil).String("user_id")
			rm := e.Must(t, 201, "POST", c1+"/remote-monitoring-user", op, map[string]string{"description": "Station"}).String("user_id")

			for who, want := range map[string]int{"c1-admin": 403, "c1-user": 403, "i2-admin": 404} {
				if r := e.Do(t, "POST", c1+"/suspend", ts.tokens[who], nil); r.Status != want {
					t.Errorf("%s suspends C1: %d %s, want %d", who, r.Status, r.Raw, want)
				}
			}
			if r := e.Must(t, 200, "POST", c1+"/suspend", ts.tokens["i1-user"], nil); r.String("status") != "suspended" {
				t.Fatalf("suspended: %s", r.Raw)
			}
			e.Must(t, 200, "POST", c1+"/suspend", ts.tokens["i1-user"], nil) // again: nothing changes

			for who, token := range map[string]string{"client admin": ts.tokens["c1-admin"], "client user": annSession} {
				if r := e.Do(t, "GET", c1+"/users", token, nil); r.Status != 403 || r.Code() != "account_suspended" {
					t.Errorf("the %s of a suspended account: %d %s", who, r.Status, r.Raw)
				}
			}
			if me := e.Must(t, 200, "GET", "/api/v1/me", annSession, nil); !strings.Contains(string(me.Raw), `"account_suspended":true`) {
				t.Errorf("/me does not mark the suspended account: %s", me.Raw)
			}
			e.Must(t, 200, "GET", c1+"/users", ts.tokens["i1-admin"], nil)
			if checkAs(t, e, ann, ts.c1, "media.view") {
				t.Errorf("a member of a suspended account is let in")
			}
			if !checkAs(t, e, rm, ts.c1, "cameras.view") {
				t.Errorf("the remote monitoring user is cut off by the suspension")
			}
			if !checkAs(t, e, staff, ts.c1, "users.view") {
				t.Errorf("the integrator's staff lost their hold on the suspended client")
			}
			if r := e.Must(t, 200, "POST", c1+"/restore", ts.tokens["i1-admin"], nil); r.String("status") != "active" {
				t.Errorf("restored: %s", r.Raw)
			}
			e.Must(t, 200, "GET", c1+"/users", ts.tokens["c1-admin"], nil)
			if !checkAs(t, e, ann, ts.c1, "media.view") {
				t.Errorf("a member of a restored account is still refused")
			}

			// The integrator itself: operators only; its staff stop everywhere.
			i1 := "/api/v1/accounts/" + ts.i1
			if r := e.Do(t, "POST", i1+"/suspend", ts.tokens["i1-admin"], nil); r.Status != 403 {
				t.Errorf("an integrator's administrator suspends their integrator: %d", r.Status)
			}
			e.Must(t, 200, "POST", i1+"/suspend", op, nil)
			for _, path := range []string{i1, c1 + "/users"} {
				if r := e.Do(t, "GET", path, ts.tokens["i1-admin"], nil); r.Status != 403 || r.Code() != "account_suspended" {
					t.Errorf("the staff of a suspended integrator on %s: %d %s", path, r.Status, r.Raw)
				}
			}
			if r := e.Do(t, "POST", i1+"/restore", ts.tokens["i1-admin"], nil); r.Status != 403 {
				t.Errorf("the staff of a suspended integrator restore it: %d", r.Status)
			}
			e.Must(t, 200, "GET", c1+"/users", ts.tokens["c1-admin"], nil) // the clients' own people go on
			if checkAs(t, e, staff, ts.c1, "users.view") {
				t.Errorf("the staff of a suspended integrator are let into its clients")
			}
			e.Must(t, 200, "POST", i1+"/restore", op, nil)
			if !checkAs(t, e, staff, ts.c1, "users.view") {
				t.Errorf("the staff of a restored integrator are still refused")
			}
			events := e.Must(t, 200, "GET", c1+"/audit-events", op, nil)
			if !strings.Contains(string(events.Raw), "account.suspended") || !strings.Contains(string(events.Raw), "account.restored") {
				t.Errorf("no audit of the suspension: %.800s", events.Raw)
			}
		})
	}
}

// A client deleted by its integrator's administrator, confirming with its
// name: everyone in it loses their access at once (sessions of people who
// belong nowhere else end, tokens die, invitations stop working), people
// who belong elsewhere keep the rest; the name is free again; an operator
// restores it within 30 days, and after them it is purged for good, once,
// with the record kept in the integrator's log (R-T5).
func TestAccountDeletion(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			site := "/api/v1/accounts/" + ts.c1b
			alice := addActive(t, e, ts.c1b, "alice@example.com", "client_admin", nil).String("user_id")
			aliceSession := adminSession(t, e, "alice@example.com")
			token := e.Must(t, 201, "POST", site+"/api-tokens", aliceSession, map[string]any{"name": "sync", "scopes": []string{"users:read"}}).String("token")
			addActive(t, e, ts.c1b, "bob@example.com", "client_user", nil)
			addActive(t, e, ts.c1, "bob@example.com", "client_user", nil)
			bobSession := session(t, e, "bob@example.com")
			e.Must(t, 201, "POST", site+"/users", op, newUser("carol@example.com", "client_user"))
			carolLink := e.ActivationTokens(t, "carol@example.com")[0]
			station := e.Must(t, 201, "POST", site+"/remote-monitoring-user", op, map[string]string{"description": "Station"}).String("user_id")
			if !checkAs(t, e, station, ts.c1b, "cameras.view") {
				t.Fatalf("the remote monitoring user before the deletion")
			}

			// The service provider asked twice: once answered (access open),
			// once still waiting.
			asked := e.Must(t, 201, "POST", site+"/provider-access/requests", ts.tokens["i1-user"], map[string]string{"reason": "camera 3"}).String("id")
			e.Must(t, 200, "POST", site+"/provider-access/requests/"+asked+"/approve", aliceSession, nil)
			e.Must(t, 201, "POST", site+"/provider-access/requests", ts.tokens["i1-user"], map[string]string{"reason": "again"})

			if r := e.Do(t, "DELETE", site, ts.tokens["i1-user"], map[string]string{"confirm_name": "Client One B"}); r.Status != 403 {
				t.Errorf("an integrator user deletes a client: %d", r.Status)
			}
			if r := e.Do(t, "DELETE", site, ts.tokens["i1-admin"], map[string]string{"confirm_name": "Client One"}); r.Status != 400 || r.Field() != "confirm_name" {
				t.Errorf("the wrong name: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "DELETE", "/api/v1/accounts/"+ts.i1, op, map[string]string{"confirm_name": "Integrator One"}); r.Status != 409 {
				t.Errorf("an integrator deleted: %d %s", r.Status, r.Raw)
			}
			deleted := e.Must(t, 200, "DELETE", site, ts.tokens["i1-admin"], map[string]string{"confirm_name": "  client one b "})
			if deleted.String("status") != "deleted" || deleted.String("purge_after") == "" {
				t.Fatalf("deleted: %s", deleted.Raw)
			}

			for what, tok := range map[string]string{"alice's session": aliceSession, "alice's API token": token} {
				if r := e.Do(t, "GET", "/api/v1/me", tok, nil); r.Status != 401 {
					t.Errorf("%s outlived the deletion: %d", what, r.Status)
				}
			}
			if checkAs(t, e, station, ts.c1b, "cameras.view") || checkAs(t, e, alice, ts.c1b, "users.view") {
				t.Errorf("checks still let people into the deleted account")
			}
			if r := e.Do(t, "GET", "/api/v1/me", bobSession, nil); r.Status != 200 || strings.Contains(string(r.Raw), ts.c1b) {
				t.Errorf("bob, who works elsewhere too: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": carolLink, "password": goodPassword}); r.Status < 400 {
				t.Errorf("an invitation of the deleted account still activates: %d", r.Status)
			}
			if r := e.Do(t, "GET", site, ts.tokens["i1-admin"], nil); r.Status != 404 {
				t.Errorf("the integrator sees the deleted account: %d", r.Status)
			}
			if list := e.Must(t, 200, "GET", "/api/v1/accounts?status=deleted", op, nil); !strings.Contains(string(list.Raw), ts.c1b) {
				t.Errorf("operators do not find the deleted account")
			}
			if list := e.Must(t, 200, "GET", "/api/v1/accounts?integrator_id="+ts.i1, ts.tokens["i1-admin"], nil); strings.Contains(string(list.Raw), ts.c1b) {
				t.Errorf("the integrator still lists the deleted account")
			}
			if r := e.Do(t, "POST", site+"/restore", ts.tokens["i1-admin"], nil); r.Status != 404 {
				t.Errorf("an integrator restores a deleted account: %d", r.Status)
			}

			// Its name is free: a new client takes it, and the old one cannot
			// come back under it until that one goes.
			twin := e.Must(t, 201, "POST", "/api/v1/accounts", ts.tokens["i1-admin"], map[string]string{"kind": "client", "name": "Client One B", "integrator_id": ts.i1}).String("id")
			if r := e.Do(t, "POST", site+"/restore", op, nil); r.Status != 409 {
				t.Errorf("restored under a taken name: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 200, "DELETE", "/api/v1/accounts/"+twin, op, map[string]string{"confirm_name": "Client One B"})
			restored := e.Must(t, 200, "POST", site+"/restore", op, nil)
			if restored.String("status") != "active" || restored.String("purge_after") != "" {
				t.Errorf("restored: %s", restored.Raw)
			}
			if users := e.Must(t, 200, "GET", site+"/users", op, nil); len(users.Items()) != 0 {
				t.Errorf("a restored account has people again: %s", users.Raw)
			}
			if access := e.Must(t, 200, "GET", site+"/provider-access", op, nil); access.Body["open"] != false {
				t.Errorf("the service provider's access outlived the deletion: %s", access.Raw)
			}

			// Deleted again; after 30 days it goes, once, even when two
			// purges run at the same time.
			e.Must(t, 200, "DELETE", site, op, map[string]string{"confirm_name": "Client One B"})
			e.Clock.Advance(29 * 24 * time.Hour)
			if n, err := e.Services.Accounts.PurgeDeletedAccounts(t.Context()); err != nil || n != 0 {
				t.Errorf("purged before the 30 days: %d %v", n, err)
			}
			e.Clock.Advance(24*time.Hour + time.Second)
			var wg sync.WaitGroup
			counts := make([]int, 2)
			for i := range counts {
				wg.Go(func() {
					n, err := e.Services.Accounts.PurgeDeletedAccounts(t.Context())
					if err != nil {
						t.Errorf("purge: %v", err)
					}
					counts[i] = n
				})
			}
			wg.Wait()
			if counts[0]+counts[1] != 2 {
				t.Errorf("two purges at once purged %v, want the two deleted accounts once each", counts)
			}
			e.Must(t, 404, "GET", site, op, nil)
			if _, err := e.Store.User(t.Context(), alice); err != nil {
				t.Errorf("the identity of a person of the purged account: %v", err)
			}
			log := string(e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.i1+"/audit-events", op, nil).Raw)
			if strings.Count(log, "account.purged") != 2 || !strings.Contains(log, `"actor_id":"system"`) || !strings.Contains(log, "account.deleted") {
				t.Errorf("the integrator's log of the deletion and purge: %.1500s", log)
			}
		})
	}
}

// In the portal: a member of a suspended site finds its name and why they
// cannot act in it; deleting asks for the name typed again, at its field.
func TestAccountLifeInThePortal(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	addActive(t, e, site, "ann@example.com", "client_user", nil)
	addActive(t, e, in, "boss@example.com", "integrator_admin", nil)
	ann := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: session(t, e, "ann@example.com")}}
	boss := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "boss@example.com")}}
	base := "/accounts/" + site

	if resp, body := boss.do(t, "GET", base+"/suspend", nil); resp.StatusCode != 200 || !strings.Contains(body, `id="confirm"`) {
		t.Fatalf("suspending does not ask first: %d", resp.StatusCode)
	}
	if resp, _ := boss.do(t, "POST", base+"/suspend", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d", resp.StatusCode)
	}
	resp, body := ann.do(t, "GET", base, nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "Lyon Store") || !strings.Contains(body, "This account is suspended") {
		t.Errorf("the suspended site, as its member sees it: %d\n%.2000s", resp.StatusCode, body)
	}
	if _, body := boss.do(t, "GET", base, nil); !strings.Contains(body, `id="restore-account"`) {
		t.Errorf("the integrator is not offered to restore it")
	}
	boss.do(t, "POST", base+"/restore", url.Values{})
	if resp, _ := ann.do(t, "GET", base, nil); resp.StatusCode != 200 {
		t.Errorf("the restored site, as its member sees it: %d", resp.StatusCode)
	}

	resp, body = boss.do(t, "POST", base+"/delete", url.Values{"confirm_name": {"Lyon"}})
	if resp.StatusCode != 400 || !strings.Contains(body, `id="confirm_name-error"`) {
		t.Errorf("a wrong name: %d, not at its field", resp.StatusCode)
	}
	resp, _ = boss.do(t, "POST", base+"/delete", url.Values{"confirm_name": {"lyon store"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/accounts/"+in+"/clients") {
		t.Errorf("delete: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.Must(t, 404, "GET", "/api/v1/accounts/"+site, boss.cookie.Value, nil)
}
