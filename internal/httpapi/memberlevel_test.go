package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A member moves between the levels of their account: a client user made
// an administrator gives their slot back, an administrator made a user takes
// one and is refused on a full account, nobody changes their own level, and
// a person raised to administrator without a second factor is signed out so
// that their next sign-in sets one up (R-P2, R-P4, R-L1).
func TestChangeMemberLevel(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			site := e.CreateAccount(t, "client", "Level Site", ts.i1)
			users := "/api/v1/accounts/" + site + "/users/"
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 2})
			ann := addActive(t, e, site, "ann@example.com", "client_user", nil).String("id")
			addActive(t, e, site, "bob@example.com", "client_user", nil)
			boss := addActive(t, e, site, "boss@example.com", "client_admin", nil).String("id")
			bossSession := adminSession(t, e, "boss@example.com")
			annSession := session(t, e, "ann@example.com")

			// A client administrator manages the site's users, not its
			// administrators: the integrator's staff appoint those.
			if r := e.Do(t, "PATCH", users+ann, bossSession, map[string]string{"level": "client_admin"}); r.Status != 403 {
				t.Errorf("a client administrator appointed another: %d %s", r.Status, r.Raw)
			}
			if r := e.Must(t, 200, "PATCH", users+ann, ts.tokens["i1-user"], map[string]string{"level": "client_admin"}); r.String("level") != "client_admin" {
				t.Fatalf("promotion: %s", r.Raw)
			}
			if r := e.Do(t, "GET", "/api/v1/me", annSession, nil); r.Status != 401 {
				t.Errorf("the session opened without a second factor still works after the promotion: %d", r.Status)
			}
			if r := signIn(e, t, "ann@example.com", goodPassword); r.Body["mfa_enrollment_required"] != true {
				t.Errorf("the new administrator's sign-in does not set up a second factor: %s", r.Raw)
			}
			// Ann's slot is free again: a third user fits, and then the
			// account is full, so nobody may be made a user.
			addActive(t, e, site, "cy@example.com", "client_user", nil)
			for who, id := range map[string]string{"ann": ann, "boss": boss} {
				token := op
				if who == "ann" {
					token = ts.tokens["i1-admin"]
				}
				if r := e.Do(t, "PATCH", users+id, token, map[string]string{"level": "client_user"}); r.Status != 409 || r.Code() != "user_limit_reached" {
					t.Errorf("%s made a user of a full account: %d %s", who, r.Status, r.Raw)
				}
			}
			if r := e.Must(t, 200, "GET", users+ann, op, nil); r.String("level") != "client_admin" {
				t.Errorf("a refused change changed the level: %s", r.Raw)
			}
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 9})
			chief := addActive(t, e, ts.i1, "chief@example.com", "integrator_admin", nil).String("id")
			chiefSession := adminSession(t, e, "chief@example.com")
			if r := e.Do(t, "PATCH", "/api/v1/accounts/"+ts.i1+"/users/"+chief, chiefSession, map[string]string{"level": "integrator_user"}); r.Status != 403 || !strings.Contains(string(r.Raw), "own level") {
				t.Errorf("an administrator changed their own level: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "PATCH", users+ann, ts.tokens["i1-admin"], map[string]string{"level": "integrator_admin"}); r.Status != 400 || r.Field() != "level" {
				t.Errorf("a client member made integrator staff: %d %s", r.Status, r.Raw)
			}
			// Another integrator's administrator learns nothing.
			if r := e.Do(t, "PATCH", users+ann, ts.tokens["i2-admin"], map[string]string{"level": "client_user"}); r.Status != 404 {
				t.Errorf("another integrator's administrator: %d %s", r.Status, r.Raw)
			}
			// An integrator user manages client levels but not the
			// integrator's own administrators.
			staff := addActive(t, e, ts.i1, "staff@example.com", "integrator_user", nil).String("id")
			e.Must(t, 200, "PATCH", users+ann, ts.tokens["i1-user"], map[string]string{"level": "client_user"})
			if r := e.Do(t, "PATCH", "/api/v1/accounts/"+ts.i1+"/users/"+staff, ts.tokens["i1-user"], map[string]string{"level": "integrator_admin"}); r.Status != 403 {
				t.Errorf("an integrator user made an integrator administrator: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+ts.i1+"/users/"+staff, ts.tokens["i1-admin"], map[string]string{"level": "integrator_admin"})

			events := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/audit-events", op, nil)
			if !strings.Contains(string(events.Raw), "user.level_changed") {
				t.Errorf("no audit event for the level change: %.600s", events.Raw)
			}
		})
	}
}

// Administrators made users at once on a site with few slots left: the
// database counts them, so no more are made users than the limit allows,
// on either database, through two nodes of one PostgreSQL.
func TestLevelChangesRaceForTheLastSlots(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			site := e.CreateAccount(t, "client", "Race Site", ts.i1)
			var admins []string
			for i := range 8 {
				admins = append(admins, e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op,
					newUser(fmt.Sprintf("admin%d@example.com", i), "client_admin")).String("id"))
			}
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 3})
			nodes := nodesOf(t, b, e)
			statuses := race(nodes, len(admins), func(node *apitest.Env, i int) int {
				return node.Do(t, "PATCH", "/api/v1/accounts/"+site+"/users/"+admins[i], op, map[string]string{"level": "client_user"}).Status
			})
			if statuses[200] != 3 || statuses[409] != 5 {
				t.Errorf("8 administrators made users at once with 3 slots: %v, want 3 × 200 and 5 × 409", statuses)
			}
			users := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users?level=client_user", op, nil)
			if n := len(users.Items()); n != 3 {
				t.Errorf("%d client users after the race, want 3", n)
			}
		})
	}
}

// A person who lost their phone gets their second factor reset by an
// administrator: every session ends, the person is told by e-mail who did
// it, and their next sign-in sets up a new factor. Nobody resets their own
// this way (R-S2, R-P4).
func TestResetSecondFactor(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			boss := addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil).String("user_id")
			lost := addActive(t, e, ts.c1b, "lost@example.com", "client_admin", nil).String("user_id")
			bossSession := adminSession(t, e, "boss@example.com")
			lostSession := adminSession(t, e, "lost@example.com")
			e.Mail(t)

			if r := e.Do(t, "DELETE", "/api/v1/users/"+lost+"/mfa", bossSession, nil); r.Status != 404 {
				t.Errorf("the administrator of another site reset the factor: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "DELETE", "/api/v1/users/"+boss+"/mfa", bossSession, nil); r.Status != 403 {
				t.Errorf("a person reset their own factor this way: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 204, "DELETE", "/api/v1/users/"+lost+"/mfa", ts.tokens["i1-admin"], nil)
			if r := e.Do(t, "GET", "/api/v1/me", lostSession, nil); r.Status != 401 {
				t.Errorf("the person's session outlived the reset: %d", r.Status)
			}
			mail := e.Mail(t)
			if len(mail) != 1 || mail[0].To != "lost@example.com" || !strings.Contains(mail[0].Subject, "second factor") {
				t.Fatalf("mail after the reset: %+v", mail)
			}
			if r := signIn(e, t, "lost@example.com", goodPassword); r.Body["mfa_enrollment_required"] != true {
				t.Errorf("the sign-in after a reset does not set up a new factor: %s", r.Raw)
			}
		})
	}
}

// The member page offers the level and the reset of a lost second factor;
// the reset asks first.
func TestMemberPageChangesLevel(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	addActive(t, e, site, "boss@example.com", "client_admin", nil)
	addActive(t, e, in, "staff@example.com", "integrator_admin", nil)
	guard := addActive(t, e, site, "guard@example.com", "client_user", nil).String("id")
	path := "/accounts/" + site + "/users/" + guard

	// The site's own administrator may not appoint administrators: no
	// choice of level is offered to them.
	siteAdmin := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "boss@example.com")}}
	if _, body := siteAdmin.do(t, "GET", path, nil); strings.Contains(body, `name="level"`) || !strings.Contains(body, `id="member-form"`) {
		t.Errorf("the site administrator is offered the level, or not the roles")
	}
	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "staff@example.com")}}
	_, body := page.do(t, "GET", path, nil)
	for _, want := range []string{`<select id="level" name="level"`, `href="` + path + `/reset-mfa"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the member page lacks %s", want)
		}
	}
	// The photo of a member is served to those who see them here, and a
	// member of another account is not found through this one.
	other := e.CreateAccount(t, "client", "Elsewhere", in)
	stranger := addActive(t, e, other, "stranger@example.com", "client_user", nil).String("id")
	if resp, _ := siteAdmin.do(t, "GET", "/accounts/"+site+"/users/"+stranger+"/photo", nil); resp.StatusCode != 404 {
		t.Errorf("another account's member's photo through this one: %d", resp.StatusCode)
	}
	resp, _ := page.do(t, "POST", path, url.Values{"level": {"client_admin"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the level: %d", resp.StatusCode)
	}
	if r := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users/"+guard, op, nil); r.String("level") != "client_admin" {
		t.Errorf("the level did not change: %s", r.Raw)
	}
	resp, body = page.do(t, "POST", path, url.Values{"level": {"integrator_admin"}})
	if resp.StatusCode != 400 || !strings.Contains(body, `id="level-error"`) {
		t.Errorf("a wrong level: %d, no error at the field\n%.600s", resp.StatusCode, body)
	}
}

// Adding a user with several mistakes answers them all at once, in the API
// (fields) and in the portal's form, each at its field, in French on a
// French page.
func TestAddUserAnswersEveryMistake(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	r := e.Do(t, "POST", "/api/v1/accounts/"+site+"/users", op, map[string]any{"username": "not-an-address", "phone": "12",
		"language": "xx", "level": "client_user", "first_name": "Ann"})
	if r.Status != 400 || r.Field() != "username" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	for _, field := range []string{`"field":"username"`, `"field":"phone"`, `"field":"language"`} {
		if !strings.Contains(string(r.Raw), field) {
			t.Errorf("the answer does not list %s: %s", field, r.Raw)
		}
	}
	addActive(t, e, site, "boss@example.com", "client_admin", nil)
	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "boss@example.com")}}
	e.Must(t, 200, "PATCH", "/api/v1/users/"+e.Must(t, 200, "GET", "/api/v1/me", page.cookie.Value, nil).Body["user"].(map[string]any)["id"].(string), page.cookie.Value, map[string]string{"language": "fr"})
	resp, body := page.do(t, "POST", "/accounts/"+site+"/users", url.Values{"username": {"not-an-address"}, "phone": {"12"}, "level": {"client_user"}})
	if resp.StatusCode != 400 || !strings.Contains(body, `id="username-error"`) || !strings.Contains(body, `id="phone-error"`) || !strings.Contains(body, "Indiquez un numéro de mobile") {
		t.Errorf("the form shows not every mistake, in French: %d\n%.4000s", resp.StatusCode, body)
	}
}
