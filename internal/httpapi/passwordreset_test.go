package httpapi_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var resetLink = regexp.MustCompile(`https://gatehouse\.example\.com/reset-password\?token=(gh_rst_[A-Za-z0-9_-]+)`)

func resetLinks(t *testing.T, e *apitest.Env, to string) []string {
	t.Helper()
	var out []string
	for _, m := range e.Mail(t) {
		if match := resetLink.FindStringSubmatch(m.Body); match != nil && m.To == to {
			out = append(out, match[1])
		}
	}
	return out
}

// "Forgot your password?": the same answer for every username
// (known, unknown, pending, asked too often); a link works once, for an
// hour; a refused password leaves it usable; using it ends the sessions;
// the second factor is still asked; links are typed.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "ann@example.com", "client_user", nil)
			e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, newUser("pending@example.com", "client_user"))
			invitation := e.ActivationTokens(t, "pending@example.com")[0]
			old := session(t, e, "ann@example.com")
			ask := func(username string) apitest.Response {
				return e.Do(t, "POST", "/api/v1/password-resets", "", map[string]string{"username": username})
			}
			known, unknown, pending := ask("ann@example.com"), ask("nobody@example.com"), ask("pending@example.com")
			if known.Status != 202 || string(known.Raw) != string(unknown.Raw) || string(known.Raw) != string(pending.Raw) ||
				unknown.Status != 202 || pending.Status != 202 {
				t.Errorf("answers differ: %d %s / %d %s / %d %s", known.Status, known.Raw, unknown.Status, unknown.Raw, pending.Status, pending.Raw)
			}
			links := resetLinks(t, e, "ann@example.com")
			if len(links) != 1 || len(resetLinks(t, e, "pending@example.com")) != 0 {
				t.Fatalf("reset links mailed: %v", links)
			}
			link := links[0]
			reset := func(token, pw string) apitest.Response {
				return e.Do(t, "POST", "/api/v1/password-resets/confirm", "", map[string]string{"token": token, "password": pw})
			}
			// Mail scanners follow links: a GET uses nothing.
			for range 2 {
				if page := e.Do(t, "GET", "/reset-password?token="+link, "", nil); page.Status != 200 {
					t.Errorf("the reset page: %d", page.Status)
				}
			}
			if r := reset(link, "short"); r.Status != 400 || r.Field() != "password" {
				t.Errorf("a weak password: %d %s", r.Status, r.Raw)
			}
			for name, token := range map[string]string{"an invitation": invitation, "a session": old} {
				if r := reset(token, "a brand new passphrase"); r.Status != 410 {
					t.Errorf("%s as a reset link: %d", name, r.Status)
				}
			}
			if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": link, "password": "a brand new passphrase"}); r.Status != 410 {
				t.Errorf("a reset link as an invitation: %d", r.Status)
			}
			e.Must(t, 200, "POST", "/api/v1/password-resets/confirm", "", map[string]string{"token": link, "password": "a brand new passphrase"})
			if r := reset(link, "another new passphrase"); r.Status != 410 {
				t.Errorf("the link used twice: %d", r.Status)
			}
			if r := e.Do(t, "GET", "/api/v1/me", old, nil); r.Status != 401 {
				t.Errorf("a session from before the reset: %d", r.Status)
			}
			if r := signIn(e, t, "ann@example.com", goodPassword); r.Status != 401 {
				t.Errorf("the old password: %d", r.Status)
			}
			if r := signIn(e, t, "ann@example.com", "a brand new passphrase"); r.Status != 201 {
				t.Errorf("the new password: %d %s", r.Status, r.Raw)
			}

			// Five links an hour; an hour later, the link is dead.
			for range 7 {
				ask("ann@example.com")
			}
			links = resetLinks(t, e, "ann@example.com")
			if len(links) != 4 { // the first request of the hour was the one used above
				t.Errorf("%d links for 8 requests in an hour, want 4 more (5 an hour)", len(links))
			}
			e.Clock.Advance(61 * time.Minute)
			if r := reset(links[0], "yet another passphrase"); r.Status != 410 {
				t.Errorf("a link an hour old: %d", r.Status)
			}

			// A reset is one factor: an administrator still gets the second.
			addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil)
			adminSession(t, e, "boss@example.com")
			ask("boss@example.com")
			e.Must(t, 200, "POST", "/api/v1/password-resets/confirm", "", map[string]string{"token": resetLinks(t, e, "boss@example.com")[0],
				"password": "boss new passphrase"})
			if r := signIn(e, t, "boss@example.com", "boss new passphrase"); r.Status != 200 || r.Body["mfa_required"] != true {
				t.Errorf("an administrator after a reset: %d %s", r.Status, r.Raw)
			}
		})
	}
}
