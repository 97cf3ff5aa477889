package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Every destructive action of the portal asks first: the GET of its address
// is a page saying what will be lost, with a form that posts to the same
// address, and changes nothing.
func TestDestructiveActionsAskFirst(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	addActive(t, e, site, "boss@example.com", "client_admin", nil)
	token := adminSession(t, e, "boss@example.com")
	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: token}}
	folder := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders", token, map[string]string{"name": "Lobby"}).String("id")
	guard := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", token, newUser("guard@example.com", "client_user")).String("id")
	role := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/roles", token, map[string]any{"name": "Guards", "permissions": []string{"cameras.view"}}).String("id")

	base := "/accounts/" + site
	for _, path := range []string{base + "/folders/" + folder + "/delete", base + "/users/" + guard + "/remove",
		base + "/users/" + guard + "/end-sessions", base + "/users/" + guard + "/reset-mfa", base + "/roles/" + role + "/delete", "/profile/mfa/off"} {
		resp, body := page.do(t, "GET", path, nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm"`) || !strings.Contains(body, `action="`+path+`"`) {
			t.Errorf("GET %s: %d, no confirmation posting to itself\n%.400s", path, resp.StatusCode, body)
		}
	}
	e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/folders/"+folder, token, nil)
	e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users/"+guard, token, nil)
	e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/roles/"+role, token, nil)
	if me := e.Must(t, 200, "GET", "/api/v1/me", token, nil); !strings.Contains(string(me.Raw), `"mfa_enabled":true`) {
		t.Errorf("asking about the second factor turned it off: %s", me.Raw)
	}
	// Confirmed, the action happens.
	if resp, _ := page.do(t, "POST", base+"/folders/"+folder+"/delete", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("confirmed delete: %d", resp.StatusCode)
	}
	e.Must(t, 404, "GET", "/api/v1/accounts/"+site+"/folders/"+folder, token, nil)
}

// People change their password and end their other sessions from their
// profile: a wrong current password is refused at its field, and the
// sessions ended stop working.
func TestProfilePasswordAndSessions(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	activeUser(t, e, site, "viewer@example.com", "client_user")
	phone := session(t, e, "viewer@example.com")
	laptop := session(t, e, "viewer@example.com")
	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: laptop}}

	_, body := page.do(t, "GET", "/profile", nil)
	if strings.Count(body, "/end\"") != 1 || !strings.Contains(body, `id="password-form"`) {
		t.Fatalf("the profile does not list the other session to end, or offer the password form:\n%.3000s", body)
	}
	resp, body := page.do(t, "POST", "/profile/password", url.Values{"current_password": {"not it at all"}, "new_password": {"a brand new passphrase"}})
	if resp.StatusCode != 400 || !strings.Contains(body, `id="current_password-error"`) {
		t.Errorf("a wrong current password: %d", resp.StatusCode)
	}
	resp, _ = page.do(t, "POST", "/profile/password", url.Values{"current_password": {goodPassword}, "new_password": {"a brand new passphrase"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	if r := e.Do(t, "GET", "/api/v1/me", phone, nil); r.Status != 401 {
		t.Errorf("the other session after a password change: %d", r.Status)
	}
	e.Must(t, 200, "GET", "/api/v1/me", laptop, nil)
}

// People make their own API tokens from the portal: the secret is shown
// once, the token works with the scopes chosen, and revoking it (after a
// confirmation) ends it.
func TestAPITokensPage(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	activeUser(t, e, site, "viewer@example.com", "client_user")
	page := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: session(t, e, "viewer@example.com")}}
	base := "/accounts/" + site + "/api-tokens"

	resp, body := page.do(t, "POST", base, url.Values{"name": {"HR sync"}, "scopes": {"accounts:read"}})
	secret := regexp.MustCompile(`<code[^>]*>(gh_api_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(body)
	if resp.StatusCode != 201 || secret == nil {
		t.Fatalf("a token made on the page: %d\n%.1500s", resp.StatusCode, body)
	}
	e.Must(t, 200, "GET", "/api/v1/accounts/"+site, secret[1], nil)
	if r := e.Do(t, "GET", "/api/v1/accounts/"+site+"/audit-events", secret[1], nil); r.Status != 403 {
		t.Errorf("a token without audit:read read the audit log: %d", r.Status)
	}
	_, body = page.do(t, "GET", base, nil)
	if strings.Contains(body, secret[1]) || !strings.Contains(body, "HR sync") {
		t.Errorf("the list shows the secret again, or not the token")
	}
	id := regexp.MustCompile(`/api-tokens/([0-9a-f-]+)/revoke`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no revoke link")
	}
	if resp, body := page.do(t, "GET", base+"/"+id[1]+"/revoke", nil); resp.StatusCode != 200 || !strings.Contains(body, `id="confirm"`) {
		t.Errorf("revoking does not ask first: %d", resp.StatusCode)
	}
	e.Must(t, 200, "GET", "/api/v1/accounts/"+site, secret[1], nil)
	page.do(t, "POST", base+"/"+id[1]+"/revoke", url.Values{})
	if r := e.Do(t, "GET", "/api/v1/accounts/"+site, secret[1], nil); r.Status != 401 {
		t.Errorf("a revoked token: %d", r.Status)
	}
}
