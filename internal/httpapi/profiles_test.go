package httpapi_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The username of an identity changes only once it is activated, and only
// to a free one (R-U4, R-U1); the person or an administrator over them may
// change it, others may not (R-P2), and client users, who see no other
// users, get the answer of an unknown id (R-X2).
func TestUsernameChange(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			pending := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, newUser("pending@example.com", "client_user"))
			r := e.Do(t, "PATCH", "/api/v1/users/"+pending.String("user_id"), op, map[string]string{"username": "new@example.com"})
			if r.Status != 409 || r.Code() != "not_activated" || r.Field() != "username" {
				t.Errorf("renaming a pending identity: %d %s", r.Status, r.Raw)
			}
			activeUser(t, e, ts.c1, "ann@example.com", "client_user")
			ann, _ := e.Store.UserByUsername(t.Context(), "ann@example.com")
			r = e.Do(t, "PATCH", "/api/v1/users/"+ann.ID, op, map[string]string{"username": "PENDING@example.com"})
			if r.Status != 409 || r.Code() != "username_taken" {
				t.Errorf("renaming to a taken username: %d %s", r.Status, r.Raw)
			}
			want := map[string]int{"operator": 200, "i1-admin": 200, "i1-user": 200, "c1-admin": 200, "c1-user": 404, "i2-admin": 404, "anonymous": 401}
			for p, status := range want {
				r := e.Do(t, "PATCH", "/api/v1/users/"+ann.ID, ts.tokens[p], map[string]string{"first_name": "Ann " + p})
				if r.Status != status {
					t.Errorf("%s editing a client user's profile: %d, want %d", p, r.Status, status)
				}
			}
			self := signIn(e, t, "ann@example.com", goodPassword).String("token")
			e.Mail(t) // what came before
			got := e.Must(t, 200, "PATCH", "/api/v1/users/"+ann.ID, self, map[string]string{"username": "Ann.Lee@example.com", "language": "fr"})
			if got.String("username") != "ann@example.com" || got.String("pending_username") != "Ann.Lee@example.com" || got.String("language") != "fr" {
				t.Errorf("self rename: %s", got.Raw)
			}
			// Nothing changes until the link mailed to the new address is followed.
			if r := signIn(e, t, "ann.lee@example.com", goodPassword); r.Status != 401 {
				t.Errorf("sign-in with the unconfirmed username: %d", r.Status)
			}
			link := confirmationLink(t, e, "Ann.Lee@example.com")
			if r := e.Do(t, "POST", "/api/v1/username-confirmations", "", map[string]string{"token": link + "x"}); r.Status != 410 || r.Code() != "confirmation_invalid" {
				t.Errorf("a wrong link: %d %s", r.Status, r.Raw)
			}
			done := e.Must(t, 200, "POST", "/api/v1/username-confirmations", "", map[string]string{"token": link})
			if done.String("username") != "Ann.Lee@example.com" {
				t.Errorf("confirmed: %s", done.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/username-confirmations", "", map[string]string{"token": link}); r.Status != 410 {
				t.Errorf("the link used twice: %d %s", r.Status, r.Raw)
			}
			if r := signIn(e, t, "ann.lee@example.com", goodPassword); r.Status != 201 {
				t.Errorf("sign-in with the new username: %d", r.Status)
			}
			if r := signIn(e, t, "ann@example.com", goodPassword); r.Status != 401 {
				t.Errorf("sign-in with the old username: %d", r.Status)
			}
			if _, err := e.Store.UserByUsername(t.Context(), "ann@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("the old username still finds the identity")
			}
			changed := 0
			for _, ev := range e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1+"/audit-events?limit=500", op, nil).Items() {
				if ev["action"] == "user.username_changed" {
					changed++
				}
			}
			if changed != 1 {
				t.Errorf("%d user.username_changed events in the account's log, want 1", changed)
			}

			// A username taken between the request and the link: 409, and
			// the identity keeps its name. Links expire after a day.
			e.Must(t, 200, "PATCH", "/api/v1/users/"+ann.ID, op, map[string]string{"username": "late@example.com"})
			late := confirmationLink(t, e, "late@example.com")
			e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, newUser("late@example.com", "client_user"))
			if r := e.Do(t, "POST", "/api/v1/username-confirmations", "", map[string]string{"token": late}); r.Status != 409 || r.Code() != "username_taken" {
				t.Errorf("confirming a username taken meanwhile: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 200, "PATCH", "/api/v1/users/"+ann.ID, op, map[string]string{"username": "slow@example.com"})
			slow := confirmationLink(t, e, "slow@example.com")
			e.Clock.Advance(25 * time.Hour)
			if r := e.Do(t, "POST", "/api/v1/username-confirmations", "", map[string]string{"token": slow}); r.Status != 410 {
				t.Errorf("a link a day old: %d %s", r.Status, r.Raw)
			}
			if user, _ := e.Store.User(t.Context(), ann.ID); user.Username != "Ann.Lee@example.com" {
				t.Errorf("username now %q", user.Username)
			}
			if r := e.Do(t, "PATCH", "/api/v1/users/"+ann.ID, op, map[string]any{"username": []string{"a@example.com"}}); r.Status != 400 || r.Field() != "username" {
				t.Errorf("an array for the username: %d %s", r.Status, r.Raw)
			}
		})
	}
}

var confirmLink = regexp.MustCompile(`https://gatehouse\.example\.com/confirm-username\?token=(gh_cnf_[A-Za-z0-9_-]+)`)

// confirmationLink returns the secret of the one username confirmation
// mailed to the address.
func confirmationLink(t *testing.T, e *apitest.Env, to string) string {
	t.Helper()
	var found []string
	for _, m := range e.Mail(t) {
		if match := confirmLink.FindStringSubmatch(m.Body); match != nil && m.To == to {
			found = append(found, match[1])
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d username confirmations mailed to %s, want 1", len(found), to)
	}
	return found[0]
}

// R-U7: the user type is a free label of the person's role at the site,
// given when a new username is added and changed in the profile; "" clears
// it; an existing identity keeps its own (R-U2).
func TestUserType(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			add := newUser("guard@example.com", "client_user")
			add["user_type"] = "Security guard"
			user := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, add).String("user_id")
			again := newUser("guard@example.com", "client_user")
			again["user_type"] = "Cleaner"
			e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1b+"/users", op, again)
			if u, _ := e.Store.User(t.Context(), user); u.UserType != "Security guard" {
				t.Errorf("user type %q after a second add, want the first", u.UserType)
			}
			// The person works at two sites: their identity is changed by an
			// administrator over both, not by one site's administrator.
			if r := e.Do(t, "PATCH", "/api/v1/users/"+user, ts.tokens["c1-admin"], map[string]string{"user_type": "Thief"}); r.Status != 403 || r.Code() != "shared_identity" || r.Field() != "user_type" {
				t.Errorf("one site's administrator changed a person of two sites: %d %s", r.Status, r.Raw)
			}
			got := e.Must(t, 200, "PATCH", "/api/v1/users/"+user, ts.tokens["i1-admin"], map[string]string{"user_type": "  Night manager "})
			if got.String("user_type") != "Night manager" {
				t.Errorf("user type after the change: %s", got.Raw)
			}
			if r := e.Do(t, "PATCH", "/api/v1/users/"+user, op, map[string]string{"user_type": strings.Repeat("x", 300)}); r.Status != 400 || r.Field() != "user_type" {
				t.Errorf("a 300-letter user type: %d %s", r.Status, r.Raw)
			}
			if got := e.Must(t, 200, "PATCH", "/api/v1/users/"+user, op, map[string]string{"user_type": ""}); got.String("user_type") != "" {
				t.Errorf("user type not cleared: %s", got.Raw)
			}
		})
	}
}
