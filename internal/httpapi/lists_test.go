package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The users and invitations lists are searched by name or address and
// filtered by status and level, on both databases, through the API as in
// the portal.
func TestListsSearchAndFilter(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			users := "/api/v1/accounts/" + ts.c1 + "/users"
			addActive(t, e, ts.c1, "ann.lee@example.com", "client_user", nil)
			e.Must(t, 201, "POST", users, op, map[string]any{"username": "bob@example.com", "first_name": "Élodie", "last_name": "Martin_%", "level": "client_user"})
			e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c2+"/users", op, newUser("ann.other@example.com", "client_user"))

			for query, want := range map[string][]string{
				"?q=ANN.LEE":                              {"ann.lee@example.com"},
				"?q=" + url.QueryEscape("Élodie"):         {"bob@example.com"},
				"?q=" + url.QueryEscape("martin_%"):       {"bob@example.com"},
				"?q=" + url.QueryEscape("%"):              {"bob@example.com"}, // the name holds a %; it is no wildcard
				"?status=activation_required":             {"bob@example.com"},
				"?q=lee&status=active&level=client_admin": {},
				"?q=lee&status=active&level=client_user":  {"ann.lee@example.com"},
			} {
				r := e.Must(t, 200, "GET", users+query, op, nil)
				got := names(r.Items(), "username")
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("%s: %v, want %v", query, got, want)
				}
			}
			for _, bad := range []string{"?status=gone", "?level=king", "?q=" + strings.Repeat("a", 201)} {
				if r := e.Do(t, "GET", users+bad, op, nil); r.Status != 400 {
					t.Errorf("%s: %d", bad, r.Status)
				}
			}
			invs := e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1+"/invitations?q=BOB", op, nil)
			if got := names(invs.Items(), "email"); len(got) != 1 || got[0] != "bob@example.com" {
				t.Errorf("invitations searched: %v", got)
			}
		})
	}
}

// Actions on several people at once: what loses something shows who it
// touches first and changes nothing; confirmed, it acts on each through the
// same rules as one by one, and says beside each name what happened. An id
// of another account's member is refused beside it, and nobody else is
// stopped by it.
func TestListSelectionActions(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	other := e.CreateAccount(t, "client", "Elsewhere", in)
	addActive(t, e, site, "boss@example.com", "client_admin", nil)
	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "boss@example.com")}}
	ann := addActive(t, e, site, "ann@example.com", "client_user", nil).String("id")
	bob := addActive(t, e, site, "bob@example.com", "client_user", nil).String("id")
	stranger := addActive(t, e, other, "stranger@example.com", "client_user", nil).String("id")
	pending := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("cy@example.com", "client_user")).String("id")
	base := "/accounts/" + site

	_, body := page.do(t, "GET", base+"?q=BOB", nil)
	if !strings.Contains(body, "bob@example.com") || strings.Contains(body, "ann@example.com") || !strings.Contains(body, `form="selection"`) {
		t.Errorf("the users list searched for bob:\n%s", body[strings.Index(body, "<table"):])
	}
	if resp, body := page.do(t, "POST", base+"/users/selection", url.Values{"action": {"remove"}}); resp.StatusCode != 400 || !strings.Contains(body, `role="alert"`) {
		t.Errorf("nobody ticked: %d", resp.StatusCode)
	}
	ticked := url.Values{"action": {"remove"}, "ids": {ann, bob, stranger}}
	resp, body := page.do(t, "POST", base+"/users/selection", ticked)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm"`) || !strings.Contains(body, "ann@example.com") || !strings.Contains(body, "bob@example.com") {
		t.Fatalf("the removal of several does not ask first: %d\n%.2000s", resp.StatusCode, body)
	}
	e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users/"+ann, op, nil)
	ticked.Set("confirmed", "1")
	resp, body = page.do(t, "POST", base+"/users/selection", ticked)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="selection-result"`) || !strings.Contains(body, `class="failed"`) {
		t.Fatalf("the removal of several: %d\n%.2000s", resp.StatusCode, body)
	}
	e.Must(t, 404, "GET", "/api/v1/accounts/"+site+"/users/"+ann, op, nil)
	e.Must(t, 404, "GET", "/api/v1/accounts/"+site+"/users/"+bob, op, nil)
	e.Must(t, 200, "GET", "/api/v1/accounts/"+other+"/users/"+stranger, op, nil)

	// The pending person's invitation: resent at once, cancelled after a
	// confirmation.
	inv := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/invitations?status=pending", op, nil).Items()[0]["id"].(string)
	e.Mail(t)
	if resp, body := page.do(t, "POST", base+"/users/selection", url.Values{"action": {"resend"}, "ids": {pending}}); resp.StatusCode != 200 || !strings.Contains(body, `id="selection-result"`) {
		t.Errorf("resend from the users list: %d", resp.StatusCode)
	}
	if mail := e.Mail(t); len(mail) != 1 || mail[0].To != "cy@example.com" {
		t.Errorf("the invitation was not sent again: %v", mail)
	}
	resp, body = page.do(t, "POST", base+"/invitations/selection", url.Values{"action": {"cancel"}, "ids": {inv}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm"`) {
		t.Fatalf("cancelling several does not ask first: %d", resp.StatusCode)
	}
	page.do(t, "POST", base+"/invitations/selection", url.Values{"action": {"cancel"}, "ids": {inv}, "confirmed": {"1"}})
	if r := e.Must(t, 200, "GET", "/api/v1/invitations/"+inv, op, nil); r.String("status") != "cancelled" {
		t.Errorf("the invitation: %s", r.Raw)
	}
}
