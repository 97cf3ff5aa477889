package httpapi_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// ASVS 7.5.2, 7.4.5, 6.2.2, 7.4.3: people see their sessions and end
// them; administrators over a person end all of theirs; a password change
// asks for the current password, and ends the other sessions; so does a
// new second factor.
func TestSessionsAndPasswordChange(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			ann := addActive(t, e, ts.c1, "ann@example.com", "client_user", nil).String("user_id")
			a, other := session(t, e, "ann@example.com"), session(t, e, "ann@example.com")
			list := e.Must(t, 200, "GET", "/api/v1/me/sessions", a, nil).Items()
			if len(list) != 2 || (list[0]["current"] != true && list[1]["current"] != true) {
				t.Fatalf("Ann's sessions: %v", list)
			}
			var otherID string
			for _, s := range list {
				if s["current"] != true {
					otherID = s["id"].(string)
				}
			}
			addActive(t, e, ts.c1, "bob@example.com", "client_user", nil)
			bobSession := session(t, e, "bob@example.com")
			if r := e.Do(t, "DELETE", "/api/v1/me/sessions/"+otherID, bobSession, nil); r.Status != 404 {
				t.Errorf("Bob ending Ann's session: %d", r.Status)
			}
			e.Must(t, 204, "DELETE", "/api/v1/me/sessions/"+otherID, a, nil)
			if r := e.Do(t, "GET", "/api/v1/me", other, nil); r.Status != 401 {
				t.Errorf("the ended session: %d", r.Status)
			}

			third := session(t, e, "ann@example.com")
			change := func(current, next string) int {
				return e.Do(t, "POST", "/api/v1/me/password", a, map[string]string{"current_password": current, "new_password": next}).Status
			}
			if r := e.Do(t, "POST", "/api/v1/me/password", a, map[string]string{"current_password": "not it at all", "new_password": "a fresh passphrase"}); r.Status != 400 || r.Field() != "current_password" {
				t.Errorf("a wrong current password: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/me/password", a, map[string]string{"current_password": goodPassword, "new_password": "short"}); r.Status != 400 || r.Field() != "new_password" {
				t.Errorf("a weak new password: %d %s", r.Status, r.Raw)
			}
			if s := change(goodPassword, "a fresh passphrase"); s != 204 {
				t.Fatalf("the change: %d", s)
			}
			if r := e.Do(t, "GET", "/api/v1/me", third, nil); r.Status != 401 {
				t.Errorf("another session after the change: %d", r.Status)
			}
			e.Must(t, 200, "GET", "/api/v1/me", a, nil)
			if r := signIn(e, t, "ann@example.com", goodPassword); r.Status != 401 {
				t.Errorf("the old password: %d", r.Status)
			}
			fourth := e.Must(t, 201, "POST", "/api/v1/sessions", "", map[string]string{"username": "ann@example.com", "password": "a fresh passphrase"}).String("token")

			// A new second factor ends the sessions opened without it.
			start := e.Must(t, 200, "POST", "/api/v1/me/mfa/totp", a, nil)
			e.Must(t, 204, "POST", "/api/v1/me/mfa/totp/confirm", a, map[string]string{"challenge": start.String("challenge"),
				"code": code(t, e, start.String("totp_secret"), e.Clock.Now())})
			if r := e.Do(t, "GET", "/api/v1/me", fourth, nil); r.Status != 401 {
				t.Errorf("a session opened before the new factor: %d", r.Status)
			}

			// Administrators over Ann end all her sessions; others cannot.
			for p, want := range map[string]int{"i2-admin": 404, "c1-user": 404, "c1-admin": 204} {
				if r := e.Do(t, "DELETE", "/api/v1/users/"+ann+"/sessions", ts.tokens[p], nil); r.Status != want {
					t.Errorf("%s ending Ann's sessions: %d, want %d", p, r.Status, want)
				}
			}
			if r := e.Do(t, "GET", "/api/v1/me", a, nil); r.Status != 401 {
				t.Errorf("Ann's session after an administrator ended them: %d", r.Status)
			}
		})
	}
}
