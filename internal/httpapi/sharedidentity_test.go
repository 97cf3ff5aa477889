package httpapi_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func pngImage(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A client administrator of one integrator's site may add a person who
// works for another integrator to their own site (that is how a person gets
// a second site), but may then change nothing the two share: not the
// username (which would lead, through a password reset, to signing in as the
// person everywhere), names, photo, second factor, sign-in lock or sessions.
// What belongs to their own membership stays theirs to change.
func TestSharedIdentityCannotBeTakenOver(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			victim := addActive(t, e, ts.c1, "victim@example.com", "client_user", nil).String("user_id")
			attacker, _ := e.Member(t, ts.c2, gatehouse.LevelClientAdmin)

			// The add is allowed, by design, and changes nothing of the person.
			added := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c2+"/users", attacker, map[string]any{
				"username": "victim@example.com", "first_name": "Mallory", "last_name": "Owned", "level": "client_user"})
			if added.String("status") != "active" {
				t.Fatalf("the add of an active person: %s", added.Raw)
			}
			e.Mail(t)

			refusals := map[string]apitest.Response{
				"username":   e.Do(t, "PATCH", "/api/v1/users/"+victim, attacker, map[string]string{"username": "mallory@evil.example"}),
				"first_name": e.Do(t, "PATCH", "/api/v1/users/"+victim, attacker, map[string]string{"first_name": "Mallory"}),
				"phone":      e.Do(t, "PATCH", "/api/v1/users/"+victim, attacker, map[string]string{"phone": "+33612345678"}),
				"lock":       e.Do(t, "DELETE", "/api/v1/users/"+victim+"/sign-in-lock", attacker, nil),
				"sessions":   e.Do(t, "DELETE", "/api/v1/users/"+victim+"/sessions", attacker, nil),
				"mfa":        e.Do(t, "DELETE", "/api/v1/users/"+victim+"/mfa", attacker, nil),
				// The integrator administrator of the person's first site does
				// not manage the second either.
				"first site's integrator": e.Do(t, "PATCH", "/api/v1/users/"+victim, ts.tokens["i1-admin"], map[string]string{"last_name": "X"}),
			}
			for what, r := range refusals {
				if r.Status != 403 || r.Code() != "shared_identity" {
					t.Errorf("%s: %d %s, want 403 shared_identity", what, r.Status, r.Raw)
				}
			}
			if r := refusals["username"]; r.Field() != "username" {
				t.Errorf("the refusal of a username change is not at the field: %s", r.Raw)
			}
			if resp := putImage(t, e, victim, attacker, "image/png", pngImage(t)); resp.StatusCode != 403 {
				t.Errorf("the other site's administrator set the photo: %d", resp.StatusCode)
			}
			if mail := e.Mail(t); len(mail) != 0 {
				t.Errorf("a refused change mailed %d messages, first to %s", len(mail), mail[0].To)
			}
			u, _ := e.Store.User(t.Context(), victim)
			if u.Username != "victim@example.com" || u.FirstName == "Mallory" || u.LastName == "Owned" || u.Phone != "" {
				t.Errorf("the identity changed: %+v", u)
			}
			// The person still signs in with their password alone: no second
			// factor was required of them.
			if s := signIn(e, t, "victim@example.com", goodPassword); s.String("token") == "" {
				t.Errorf("the person's sign-in changed: %s", s.Raw)
			}

			// Their membership of the second site is the second site's.
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+ts.c2+"/users/"+added.String("id"), attacker, map[string]any{"roles": []string{"editor"}})
			// Requiring a second factor while adding changes the identity too.
			addActive(t, e, ts.c1, "other@example.com", "client_user", nil)
			before := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c2+"/users", op, nil).Items())
			r := e.Do(t, "POST", "/api/v1/accounts/"+ts.c2+"/users", attacker, map[string]any{"username": "other@example.com", "level": "client_user", "mfa_required": true})
			if r.Status != 403 || r.Code() != "shared_identity" || r.Field() != "mfa_required" {
				t.Errorf("requiring a second factor of a shared person: %d %s", r.Status, r.Raw)
			}
			if after := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c2+"/users", op, nil).Items()); after != before {
				t.Errorf("the refused add changed the site's members from %d to %d", before, after)
			}

			// The person, an operator, and an administrator of every account
			// the person is in may.
			own := session(t, e, "victim@example.com")
			e.Must(t, 200, "PATCH", "/api/v1/users/"+victim, own, map[string]string{"first_name": "Vic"})
			e.Must(t, 200, "PATCH", "/api/v1/users/"+victim, op, map[string]string{"last_name": "Tim"})
			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+ts.c2+"/users/"+added.String("id"), attacker, nil)
			e.Must(t, 200, "PATCH", "/api/v1/users/"+victim, ts.tokens["i1-admin"], map[string]string{"last_name": "Managed"})
			// Once removed, the other site's administrator sees the person nowhere.
			if r := e.Do(t, "PATCH", "/api/v1/users/"+victim, attacker, map[string]string{"first_name": "Mallory"}); r.Status != 404 {
				t.Errorf("after the removal: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// A username change mails a notice to the old address, naming who asked,
// beside the link to the new one: a person learns of a change someone else
// asked for before it happens.
func TestUsernameChangeNotifiesTheOldAddress(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			user := addActive(t, e, ts.c1, "ann@example.com", "client_user", nil).String("user_id")
			admin, adminID := e.Member(t, ts.i1, gatehouse.LevelIntegratorAdmin)
			e.Mail(t)
			e.Must(t, 200, "PATCH", "/api/v1/users/"+user, admin, map[string]string{"username": "ann.new@example.com"})
			var notice, link int
			for _, m := range e.Mail(t) {
				switch {
				case m.To == "ann@example.com" && strings.Contains(m.Body, "ann.new@example.com") && strings.Contains(m.Body, adminID+"@example.com"):
					notice++
				case m.To == "ann.new@example.com" && strings.Contains(m.Body, "/confirm-username?token="):
					link++
				default:
					t.Errorf("unexpected mail to %s: %s\n%s", m.To, m.Subject, m.Body)
				}
			}
			if notice != 1 || link != 1 {
				t.Errorf("%d notices to the old address naming the administrator, %d links to the new one; want 1 and 1", notice, link)
			}
			// Asked by the person themself, the notice says so too.
			own := session(t, e, "ann@example.com")
			e.Must(t, 200, "PATCH", "/api/v1/users/"+user, own, map[string]string{"username": "ann.other@example.com"})
			for _, m := range e.Mail(t) {
				if m.To == "ann@example.com" && !strings.Contains(m.Body, "ann@example.com") {
					t.Errorf("the notice does not name the person who asked: %s", m.Body)
				}
			}
		})
	}
}

// A personal API token dies with the membership it was made through, for
// good: adding the same person again does not revive it, even when the
// token is made while the member is being removed.
func TestRemovedMembersTokenStaysDeadWhenReAdded(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			c1 := "/api/v1/accounts/" + ts.c1
			member := addActive(t, e, ts.c1, "temp@example.com", "client_user", nil)
			own := session(t, e, "temp@example.com")
			secret := e.Must(t, 201, "POST", c1+"/api-tokens", own, map[string]any{"name": "sync", "scopes": []string{"accounts:read"}}).String("token")
			e.Must(t, 200, "GET", c1, secret, nil)

			// Tokens made while the member is removed: whatever the order,
			// none outlives the membership.
			var wg sync.WaitGroup
			made := make(chan string, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := e.Do(t, "POST", c1+"/api-tokens", own, map[string]any{"name": fmt.Sprint("race ", i), "scopes": []string{"accounts:read"}})
					if r.Status == 201 {
						made <- r.String("token")
					}
				}()
			}
			e.Must(t, 204, "DELETE", c1+"/users/"+member.String("id"), ts.tokens["c1-admin"], nil)
			wg.Wait()
			close(made)

			e.Must(t, 201, "POST", c1+"/users", op, newUser("temp@example.com", "client_user"))
			for _, s := range append([]string{secret}, drain(made)...) {
				if r := e.Do(t, "GET", c1, s, nil); r.Status != 401 {
					t.Errorf("a token of the removed membership answered %d after the person came back", r.Status)
				}
			}
			// The person's new membership makes new tokens as usual.
			again := session(t, e, "temp@example.com")
			fresh := e.Must(t, 201, "POST", c1+"/api-tokens", again, map[string]any{"name": "sync", "scopes": []string{"accounts:read"}}).String("token")
			e.Must(t, 200, "GET", c1, fresh, nil)
			if listed := e.Must(t, 200, "GET", c1+"/api-tokens", again, nil).Items(); len(listed) != 1 {
				t.Errorf("the new membership lists %d tokens, want its own one", len(listed))
			}
		})
	}
}

func drain(c chan string) []string {
	var out []string
	for s := range c {
		out = append(out, s)
	}
	return out
}

// The remote monitoring user's credentials are generated, never chosen: no
// one changes its username or profile, and it changes no password or second
// factor and makes no API token.
func TestRemoteMonitoringIdentityIsFixed(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			base := "/api/v1/accounts/" + ts.c1 + "/remote-monitoring-user"
			m := e.Must(t, 201, "POST", base, op, map[string]string{"description": "Night watch"})
			for _, patch := range []map[string]string{{"username": "rm@example.com"}, {"first_name": "Bob"}, {"language": "fr"}} {
				if r := e.Do(t, "PATCH", "/api/v1/users/"+m.String("user_id"), op, patch); r.Status != 403 || r.Code() != "forbidden" {
					t.Errorf("an operator changed the remote monitoring user's %v: %d %s", patch, r.Status, r.Raw)
				}
			}
			details := parseDetails(t, string(e.Must(t, 200, "GET", base+"/connection-details", op, nil).Raw))
			s := signIn(e, t, details["Username"], details["Password"]).String("token")
			if s == "" {
				t.Fatal("the remote monitoring user could not sign in")
			}
			for what, r := range map[string]apitest.Response{
				"api token":     e.Do(t, "POST", "/api/v1/accounts/"+ts.c1+"/api-tokens", s, map[string]any{"name": "x", "scopes": []string{"check"}}),
				"password":      e.Do(t, "POST", "/api/v1/me/password", s, map[string]string{"current_password": details["Password"], "new_password": "a chosen password 123"}),
				"second factor": e.Do(t, "POST", "/api/v1/me/mfa/totp", s, nil),
				"own profile":   e.Do(t, "PATCH", "/api/v1/users/"+m.String("user_id"), s, map[string]string{"first_name": "Me"}),
			} {
				if r.Status != 403 {
					t.Errorf("the remote monitoring user's %s: %d %s", what, r.Status, r.Raw)
				}
			}
		})
	}
}
