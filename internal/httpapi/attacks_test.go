package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Failures seen in comparable identity services, each pinned by a
// test named for what it prevents.

// A forged invitation let attackers join any organization: here a link
// that was tampered with is refused, and a link activates the identity it
// was sent to, nobody else.
func TestTamperedInvitationLinksAreRefused(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			ann := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, newUser("ann@example.com", "client_user")).String("user_id")
			bob := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c2+"/users", op, newUser("bob@example.com", "client_user")).String("user_id")
			link := e.ActivationTokens(t, "ann@example.com")[0]
			flipped := []byte(link)
			last := len(flipped) - 1
			flipped[last] ^= 1
			for name, token := range map[string]string{"a changed character": string(flipped), "cut short": link[:len(link)-4],
				"with a suffix": link + "A", "in upper case": strings.ToUpper(link)} {
				if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": token, "password": goodPassword}); r.Status != 410 {
					t.Errorf("a link %s: %d %s", name, r.Status, r.Raw)
				}
			}
			r := e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": link, "password": goodPassword})
			if r.String("user_id") != ann {
				t.Errorf("Ann's link activated %s", r.String("user_id"))
			}
			if u, _ := e.Store.User(t.Context(), bob); u.Status != "pending" {
				t.Errorf("Bob's identity after Ann's activation: %s", u.Status)
			}
		})
	}
}

// An organization manager read registration links through the API: here no
// answer ever carries an invitation or username-confirmation secret, not
// even to whoever sent it.
func TestNoAnswerCarriesALinkSecret(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			var answers []apitest.Response
			keep := func(r apitest.Response) apitest.Response { answers = append(answers, r); return r }
			c1 := "/api/v1/accounts/" + ts.c1
			member := keep(e.Must(t, 201, "POST", c1+"/users", op, newUser("ann@example.com", "client_user")))
			invitations := keep(e.Must(t, 200, "GET", c1+"/invitations", op, nil))
			invitation := invitations.Items()[0]["id"].(string)
			keep(e.Must(t, 200, "POST", "/api/v1/invitations/"+invitation+"/resend", op, nil))
			if len(e.ActivationTokens(t, "ann@example.com")) == 0 {
				t.Fatalf("the links went nowhere at all: the test would prove nothing")
			}
			keep(e.Must(t, 200, "GET", "/api/v1/invitations/"+invitation, op, nil))
			keep(e.Must(t, 200, "GET", c1+"/users", op, nil))
			keep(e.Must(t, 200, "GET", c1+"/users/"+member.String("id"), op, nil))
			preview := keep(e.Must(t, 200, "POST", c1+"/invitations/bulk", op, "email\nbob@example.com\n"))
			keep(e.Must(t, 200, "POST", c1+"/invitations/bulk/"+preview.String("preview_id")+"/confirm", op, nil))
			keep(e.Must(t, 200, "GET", c1+"/invitations/bulk/"+preview.String("preview_id")+"/rows", op, nil))
			carl := addActive(t, e, ts.c1, "carl@example.com", "client_user", nil).String("user_id")
			keep(e.Must(t, 200, "PATCH", "/api/v1/users/"+carl, op, map[string]string{"username": "carl.new@example.com"}))
			keep(e.Must(t, 200, "GET", c1+"/audit-events?limit=500", op, nil))
			keep(e.Must(t, 200, "GET", "/api/v1/me", session(t, e, "carl@example.com"), nil))
			for _, r := range answers {
				for _, kind := range []string{"gh_inv_", "gh_cnf_"} {
					if bytes.Contains(r.Raw, []byte(kind)) {
						t.Errorf("an answer carries a %s secret: %s", kind, r.Raw)
					}
				}
			}
		})
	}
}

// Tokens are typed: a secret of one kind never works as another (an
// invitation as a session, a session as an invitation, …).
func TestSecretsWorkOnlyAsTheirOwnKind(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1+"/users", op, newUser("ann@example.com", "client_user"))
			invitation := e.ActivationTokens(t, "ann@example.com")[0]
			if r := e.Do(t, "GET", "/api/v1/me", invitation, nil); r.Status != 401 {
				t.Errorf("an unused invitation as a bearer token: %d", r.Status)
			}
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": invitation, "password": goodPassword})
			sessionSecret := session(t, e, "ann@example.com")
			addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil)
			challenge := signIn(e, t, "boss@example.com", goodPassword).String("challenge")
			for name, bearer := range map[string]string{"an invitation": invitation, "a second-factor challenge": challenge} {
				if r := e.Do(t, "GET", "/api/v1/me", bearer, nil); r.Status != 401 {
					t.Errorf("%s as a bearer token: %d", name, r.Status)
				}
			}
			for name, token := range map[string]string{"a session": sessionSecret, "a challenge": challenge, "an API token": ts.tokens["c1-admin"]} {
				if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": token, "password": goodPassword}); r.Status != 410 {
					t.Errorf("%s as an invitation link: %d", name, r.Status)
				}
				if r := e.Do(t, "POST", "/api/v1/username-confirmations", "", map[string]string{"token": token}); r.Status != 410 {
					t.Errorf("%s as a username confirmation: %d", name, r.Status)
				}
				if r := e.Do(t, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": token, "code": "000000"}); r.Status != 401 {
					t.Errorf("%s as a challenge: %d", name, r.Status)
				}
			}
		})
	}
}

// Links in e-mails are built from the configured public URL only, never
// from the request's Host or X-Forwarded-Host (a poisoned reset link).
func TestLinksIgnoreTheRequestsHost(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			raw, _ := json.Marshal(newUser("ann@example.com", "client_user"))
			req, _ := http.NewRequest("POST", e.URL+"/api/v1/accounts/"+ts.c1+"/users", bytes.NewReader(raw))
			req.Host = "evil.example"
			req.Header.Set("X-Forwarded-Host", "evil.example")
			req.Header.Set("X-Forwarded-Proto", "http")
			req.Header.Set("Forwarded", "host=evil.example")
			req.Header.Set("Authorization", "Bearer "+op)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				t.Fatalf("add: %d", resp.StatusCode)
			}
			mails := e.Mail(t)
			if len(mails) != 1 || !strings.Contains(mails[0].Body, "https://gatehouse.example.com/activate?token=") || strings.Contains(mails[0].Body, "evil") {
				t.Errorf("the invitation mail's link:\n%v", mails)
			}
		})
	}
}

// An array or an object where a string is expected is refused (400 at the
// field), never read as "the first one" or "all of them".
func TestListsWhereOneValueIsExpectedAreRefused(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			ann := addActive(t, e, ts.c1, "ann@example.com", "client_user", nil).String("user_id")
			c1 := "/api/v1/accounts/" + ts.c1
			before := len(e.Must(t, 200, "GET", c1+"/users", op, nil).Items())
			for _, c := range []struct {
				method, path, field string
				body                map[string]any
			}{
				{"POST", c1 + "/users", "username", map[string]any{"username": []string{"a@example.com", "b@example.com"}, "first_name": "A", "last_name": "B", "level": "client_user"}},
				{"POST", c1 + "/users", "email", map[string]any{"username": "c@example.com", "email": map[string]string{"a": "b@example.com"}, "first_name": "A", "last_name": "B", "level": "client_user"}},
				{"POST", "/api/v1/sessions", "username", map[string]any{"username": []string{"ann@example.com"}, "password": goodPassword}},
				{"PATCH", "/api/v1/users/" + ann, "phone", map[string]any{"phone": []string{"+33612345678"}}},
				{"POST", c1 + "/notifications", "subject", map[string]any{"subject": []string{"x"}, "message": "y"}},
				{"POST", "/api/v1/activate", "token", map[string]any{"token": []string{"gh_inv_x"}, "password": goodPassword}},
			} {
				token := op
				if c.path == "/api/v1/sessions" || c.path == "/api/v1/activate" {
					token = ""
				}
				r := e.Do(t, c.method, c.path, token, c.body)
				if r.Status != 400 || r.Field() != c.field {
					t.Errorf("%s %s with a list for %s: %d %s", c.method, c.path, c.field, r.Status, r.Raw)
				}
			}
			if n := len(e.Must(t, 200, "GET", c1+"/users", op, nil).Items()); n != before {
				t.Errorf("%d users after the refused adds, want %d", n, before)
			}
		})
	}
}

// An administrator of one account cannot reach another by putting the
// other's ids in the body: another account's user, folder, role or group.
func TestIdsOfAnotherAccountInTheBodyAreRefused(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			admin := ts.tokens["c1-admin"]
			c1, c2 := "/api/v1/accounts/"+ts.c1, "/api/v1/accounts/"+ts.c2
			mine := e.Must(t, 201, "POST", c1+"/folders", admin, map[string]string{"name": "Mine"}).String("id")
			theirFolder := e.Must(t, 201, "POST", c2+"/folders", op, map[string]string{"name": "Theirs"}).String("id")
			theirRole := e.Must(t, 201, "POST", c2+"/roles", op, map[string]any{"name": "Theirs", "permissions": []string{"cameras.view"}}).String("id")
			theirGroup := e.Must(t, 201, "POST", c2+"/groups", op, map[string]any{"name": "Theirs", "roles": []string{}}).String("id")
			theirUser := addActive(t, e, ts.c2, "them@example.com", "client_user", nil).String("user_id")
			for name, c := range map[string]struct {
				path string
				body map[string]any
			}{
				"a grant to their user":    {c1 + "/folders/" + mine + "/grants", map[string]any{"user_id": theirUser, "role": "viewer"}},
				"a grant to their group":   {c1 + "/folders/" + mine + "/grants", map[string]any{"group_id": theirGroup, "role": "viewer"}},
				"a grant of their role":    {c1 + "/folders/" + mine + "/grants", map[string]any{"user_id": theirUser, "role": theirRole}},
				"their folder as a parent": {c1 + "/folders", map[string]any{"name": "Sneaky", "parent_id": theirFolder}},
				"their folder as home":     {c1 + "/users", map[string]any{"username": "x@example.com", "first_name": "X", "last_name": "Y", "level": "client_user", "home_folder_id": theirFolder}},
				"their role on a new user": {c1 + "/users", map[string]any{"username": "y@example.com", "first_name": "X", "last_name": "Y", "level": "client_user", "roles": []string{theirRole}}},
			} {
				if r := e.Do(t, "POST", c.path, admin, c.body); r.Status < 400 || r.Status >= 500 {
					t.Errorf("%s: %d %s", name, r.Status, r.Raw)
				}
			}
			if r := e.Do(t, "POST", c1+"/groups/"+theirGroup+"/members", admin, map[string]string{"user_id": theirUser}); r.Status != 404 {
				t.Errorf("their group through our account's path: %d", r.Status)
			}
			if grants := e.Must(t, 200, "GET", c1+"/folders/"+mine+"/grants", admin, nil).Items(); len(grants) != 0 {
				t.Errorf("grants made across accounts: %v", grants)
			}
		})
	}
}

// Any token could list another user's memberships by id: here the
// memberships of a person are listed to that person (/me) and to the
// administrators over the account, nobody else.
func TestOthersMembershipsAreNotListable(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			ann := addActive(t, e, ts.c1, "ann@example.com", "client_user", nil)
			annSession := session(t, e, "ann@example.com")
			c1 := "/api/v1/accounts/" + ts.c1
			for p, want := range map[string]int{"c1-user": 403, "i2-admin": 404, "anonymous": 401, "c1-admin": 200, "i1-user": 200} {
				if r := e.Do(t, "GET", c1+"/users", ts.tokens[p], nil); r.Status != want {
					t.Errorf("%s listing C1's users: %d, want %d", p, r.Status, want)
				}
				if r := e.Do(t, "GET", c1+"/users/"+ann.String("id"), ts.tokens[p], nil); r.Status != want {
					t.Errorf("%s reading Ann's membership: %d, want %d", p, r.Status, want)
				}
			}
			me := e.Must(t, 200, "GET", "/api/v1/me", annSession, nil)
			if ms, _ := me.Body["memberships"].([]any); len(ms) != 1 {
				t.Errorf("Ann's own memberships: %s", me.Raw)
			}
			if r := e.Do(t, "GET", c1+"/users", annSession, nil); r.Status != 403 {
				t.Errorf("Ann (a client user) listing her account's users: %d", r.Status)
			}
		})
	}
}

// No flow skips the second factor: an administrator's right password
// gives a challenge, never a session, through the API and the sign-in page.
func TestNoFlowSkipsTheSecondFactor(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil)
			adminSession(t, e, "boss@example.com")
			r := signIn(e, t, "boss@example.com", goodPassword)
			if r.Status != 200 || r.String("token") != "" || r.Body["mfa_required"] != true {
				t.Errorf("the API after the right password: %d %s", r.Status, r.Raw)
			}
			page := &browser{e: e}
			resp, body := page.do(t, "POST", "/login", url.Values{"username": {"boss@example.com"}, "password": {goodPassword}})
			if resp.StatusCode != 200 || page.cookie != nil || !strings.Contains(body, `name="challenge"`) {
				t.Errorf("the sign-in page after the right password: %d, cookie %v", resp.StatusCode, page.cookie)
			}
			// The challenge alone is no session.
			if r := e.Do(t, "GET", "/api/v1/me", r.String("challenge"), nil); r.Status != 401 {
				t.Errorf("a challenge as a session: %d", r.Status)
			}
		})
	}
}
