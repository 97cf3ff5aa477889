package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// The portal: the add-user form takes an optional end, in UTC and labelled
// so, refused at its field when past; the member page shows the end and the
// time left and lets an administrator change or remove it; the users list
// shows the time left in the member's row; a folder's grant form takes an
// end and its grants show theirs.
func TestAccessEndInThePortal(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	addActive(t, e, in, "boss@example.com", "integrator_admin", nil)
	boss := pageOf(e, adminSession(t, e, "boss@example.com"))
	now := e.Clock.Now()

	form := func(end string) url.Values {
		return url.Values{"first_name": {"Tess"}, "last_name": {"Tech"}, "username": {"tess@example.com"}, "same_as_username": {"1"},
			"level": {"client_user"}, "language": {"en"}, "roles": {"viewer"}, "expires_at": {end}}
	}
	resp, body := boss.do(t, "GET", "/accounts/"+site+"/users/new", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `type="datetime-local" id="expires_at"`) || !strings.Contains(body, "Access until (UTC)") {
		t.Fatalf("the add-user form has no labelled end of access: %d\n%.3000s", resp.StatusCode, body)
	}
	past := now.Add(-time.Hour).UTC().Format("2006-01-02T15:04")
	resp, body = boss.do(t, "POST", "/accounts/"+site+"/users", form(past))
	if resp.StatusCode != 400 || !strings.Contains(body, `id="expires_at-error"`) || !strings.Contains(body, `value="`+past+`"`) {
		t.Errorf("a past end: %d, not refused at its field\n%.3000s", resp.StatusCode, body)
	}
	if n := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users", op, nil).Items()); n != 0 {
		t.Fatalf("a refused form added someone")
	}
	end := now.Add(5*time.Hour + 30*time.Minute).UTC().Truncate(time.Minute)
	resp, _ = boss.do(t, "POST", "/accounts/"+site+"/users", form(end.Format("2006-01-02T15:04")))
	if resp.StatusCode != 303 {
		t.Fatalf("adding with an end: %d", resp.StatusCode)
	}
	items := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users", op, nil).Items()
	if len(items) != 1 || items[0]["expires_at"] != end.Format(time.RFC3339) {
		t.Fatalf("the end read from the form, as UTC: %v, want %s", items, end.Format(time.RFC3339))
	}
	id := items[0]["id"].(string)
	left := "ends in 5 h — " + end.Format("2006-01-02 15:04 UTC")
	if _, body := boss.do(t, "GET", "/accounts/"+site, nil); !strings.Contains(body, left) {
		t.Errorf("the users list does not say %q\n%.3000s", left, body)
	}
	member := "/accounts/" + site + "/users/" + id
	_, body = boss.do(t, "GET", member, nil)
	if !strings.Contains(body, `id="member-access-end">`+left) || !strings.Contains(body, `id="access-end-form"`) || !strings.Contains(body, `value="`+end.Format("2006-01-02T15:04")+`"`) {
		t.Errorf("the member page does not show the end and a form to change it\n%.4000s", body)
	}
	later := end.Add(72 * time.Hour)
	if resp, _ := boss.do(t, "POST", member+"/expiry", url.Values{"expires_at": {later.Format("2006-01-02T15:04")}, "action": {"set"}}); resp.StatusCode != 303 {
		t.Errorf("changing the end: %d", resp.StatusCode)
	}
	if got := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users/"+id, op, nil).String("expires_at"); got != later.Format(time.RFC3339) {
		t.Errorf("after the change the end is %q", got)
	}
	if resp, body := boss.do(t, "POST", member+"/expiry", url.Values{"expires_at": {"not a time"}, "action": {"set"}}); resp.StatusCode != 400 || !strings.Contains(body, `id="expires_at-error"`) {
		t.Errorf("a wrong end on the member page: %d\n%.3000s", resp.StatusCode, body)
	}
	if resp, _ := boss.do(t, "POST", member+"/expiry", url.Values{"expires_at": {later.Format("2006-01-02T15:04")}, "action": {"clear"}}); resp.StatusCode != 303 {
		t.Errorf("removing the end: %d", resp.StatusCode)
	}
	if got := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users/"+id, op, nil).Body["expires_at"]; got != nil {
		t.Errorf("after removing the end, expires_at is %v", got)
	}
	if _, body := boss.do(t, "GET", member, nil); !strings.Contains(body, `id="member-access-end">No end`) || strings.Contains(body, `id="clear-access-end"`) {
		t.Errorf("a permanent member's page\n%.4000s", body)
	}

	// A grant with an end, from the folder's page.
	folder := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders", op, map[string]string{"name": "Doors"}).String("id")
	page := "/accounts/" + site + "/folders/" + folder
	if _, body := boss.do(t, "GET", page, nil); !strings.Contains(body, `id="grant-expires_at"`) {
		t.Errorf("the grant form has no end\n%.3000s", body)
	}
	userID := items[0]["user_id"].(string)
	if resp, body := boss.do(t, "POST", page+"/grants", url.Values{"grantee": {"user:" + userID}, "role": {"editor"}, "expires_at": {past}}); resp.StatusCode != 400 || !strings.Contains(body, `id="grant-expires_at-error"`) {
		t.Errorf("a grant ending in the past: %d\n%.3000s", resp.StatusCode, body)
	}
	if resp, _ := boss.do(t, "POST", page+"/grants", url.Values{"grantee": {"user:" + userID}, "role": {"editor"}, "expires_at": {end.Format("2006-01-02T15:04")}}); resp.StatusCode != 303 {
		t.Errorf("a grant with an end: %d", resp.StatusCode)
	}
	if _, body := boss.do(t, "GET", page, nil); !strings.Contains(body, left) {
		t.Errorf("the grants do not say when they end (%q)\n%.3000s", left, body)
	}
}
