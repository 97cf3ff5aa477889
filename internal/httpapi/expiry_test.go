package httpapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// addUntil adds a client user whose access ends at end, as the operator,
// and activates them; it returns the membership.
func addUntil(t *testing.T, e *apitest.Env, accountID, username string, end time.Time) apitest.Response {
	t.Helper()
	body := newUser(username, "client_user")
	body["expires_at"] = end.Format(time.RFC3339)
	m := e.Must(t, 201, "POST", "/api/v1/accounts/"+accountID+"/users", op, body)
	if tokens := e.ActivationTokens(t, username); len(tokens) > 0 {
		e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[len(tokens)-1], "password": goodPassword})
	}
	return m
}

// sweepAtOnce runs the sweeper of every node twice at once (two sweepers
// per node, on each node of a PostgreSQL deployment) and adds up what they
// say they removed.
func sweepAtOnce(t *testing.T, nodes []*apitest.Env) people.ExpiryResult {
	t.Helper()
	var (
		mu    sync.Mutex
		total people.ExpiryResult
		wg    sync.WaitGroup
	)
	for _, node := range append(nodes, nodes...) {
		wg.Go(func() {
			res, err := node.Services.People.EndExpiredAccess(context.Background())
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
			mu.Lock()
			total.Memberships += res.Memberships
			total.Grants += res.Grants
			mu.Unlock()
		})
	}
	wg.Wait()
	return total
}

// countActions counts the audit events of an account with the action.
func countActions(t *testing.T, e *apitest.Env, accountID, action string) (n int, actors []string) {
	t.Helper()
	for _, ev := range e.Must(t, 200, "GET", "/api/v1/accounts/"+accountID+"/audit-events?limit=500", op, nil).Items() {
		if ev["action"] == action {
			n++
			actors = append(actors, ev["actor_id"].(string))
		}
	}
	return n, actors
}

// Access that ends by itself ends exactly at its end, on every node and
// before any sweeper runs: a member whose membership ends, and a grant that
// ends, hold everything a second before and nothing at the end and after,
// through the check API and the API (the member's session and API token),
// on SQLite and on two PostgreSQL nodes sharing one clock. The sweeper then
// removes them for good, once even with two sweepers on each node: the
// slot of the client-user limit is free again, the audit log says the
// system did it, the sessions of someone left without any account end,
// and those of someone with another account stay.
func TestAccessThatEndsByItself(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			nodes := nodesOf(t, b, e)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", in)
			other := e.CreateAccount(t, "client", "Paris Store", in)
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 3})
			folder := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders", op, map[string]string{"name": "Doors"}).String("id")
			e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/roles", op, map[string]any{"name": "Guard", "permissions": []string{"cameras.control"}})

			end := e.Clock.Now().Add(10 * time.Minute).Truncate(time.Second)
			// A technician for the day, alone in Gatehouse; a contractor who
			// also works at another site; a guard whose grant ends.
			tech := addUntil(t, e, site, "tech@example.com", end)
			if got := tech.String("expires_at"); got != end.Format(time.RFC3339) {
				t.Fatalf("the membership answers expires_at %q, want %s", got, end.Format(time.RFC3339))
			}
			contractor := addUntil(t, e, site, "contractor@example.com", end)
			addActive(t, e, other, "contractor@example.com", "client_user", nil)
			guard := addActive(t, e, site, "guard@example.com", "client_user", nil)
			grant := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders/"+folder+"/grants", op,
				map[string]any{"user_id": guard.String("user_id"), "role": "Guard", "expires_at": end.Format(time.RFC3339)})
			if grant.String("expires_at") != end.Format(time.RFC3339) {
				t.Fatalf("the grant answers %s", grant.Raw)
			}
			techSession, contractorSession := session(t, e, "tech@example.com"), session(t, e, "contractor@example.com")
			techToken := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/api-tokens", techSession,
				map[string]any{"name": "Report", "scopes": []string{"accounts:read"}}).String("token")
			// The site is full: three client users.
			if r := e.Do(t, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("late@example.com", "client_user")); r.Code() != "user_limit_reached" {
				t.Fatalf("a fourth client user on a site of three: %d %s", r.Status, r.Raw)
			}

			// holds tells, on every node, what each one holds at the clock's
			// time, and fails when the nodes disagree.
			holds := func(label string) map[string]bool {
				t.Helper()
				var first map[string]bool
				for i, node := range nodes {
					ask := asker(t, node)
					got := map[string]bool{
						"tech check":          ask(tech.String("user_id"), site, "media.view", ""),
						"tech check (folder)": ask(tech.String("user_id"), site, "media.view", folder),
						"contractor check":    ask(contractor.String("user_id"), site, "media.view", ""),
						"guard grant":         ask(guard.String("user_id"), site, "cameras.control", folder),
						"tech session":        node.Do(t, "GET", "/api/v1/accounts/"+site, techSession, nil).Status == 200,
						"tech token":          node.Do(t, "GET", "/api/v1/accounts/"+site, techToken, nil).Status == 200,
						"contractor session":  node.Do(t, "GET", "/api/v1/accounts/"+site, contractorSession, nil).Status == 200,
						"tech in /me":         strings.Contains(string(node.Must(t, 200, "GET", "/api/v1/me", techSession, nil).Raw), site),
					}
					// What does not end stays: the guard's own role, the
					// contractor's other site.
					if !ask(guard.String("user_id"), site, "media.view", folder) || node.Do(t, "GET", "/api/v1/accounts/"+other, contractorSession, nil).Status != 200 {
						t.Errorf("%s, node %d: access without an end was lost", label, i)
					}
					if first == nil {
						first = got
					}
					for k, v := range got {
						if first[k] != v {
							t.Errorf("%s: the nodes disagree on %s", label, k)
						}
					}
				}
				return first
			}
			e.Clock.Advance(end.Add(-time.Second).Sub(e.Clock.Now()))
			for what, ok := range holds("a second before the end") {
				if !ok {
					t.Errorf("a second before the end, %s is refused", what)
				}
			}
			for _, at := range []time.Duration{time.Second, time.Second} {
				e.Clock.Advance(at)
				for what, ok := range holds("at " + e.Clock.Now().Format(time.RFC3339)) {
					if ok {
						t.Errorf("at %s (end %s), %s is still allowed", e.Clock.Now().Format(time.RFC3339), end.Format(time.RFC3339), what)
					}
				}
			}
			// A person who ended sees a 404 for the site, like a stranger;
			// nothing was removed yet: the administrators still list them.
			if r := e.Do(t, "GET", "/api/v1/accounts/"+site+"/users", techSession, nil); r.Status != 404 {
				t.Errorf("the ended member reads the site's users: %d", r.Status)
			}
			if n := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users", op, nil).Items()); n != 3 {
				t.Fatalf("%d users listed before the sweep, want 3", n)
			}
			if n, _ := countActions(t, e, site, "user.expired"); n != 0 {
				t.Fatalf("something swept already")
			}

			// Two sweepers on each node at once remove each thing once.
			if got := sweepAtOnce(t, nodes); got != (people.ExpiryResult{Memberships: 2, Grants: 1}) {
				t.Errorf("the sweepers removed %+v, want 2 memberships and 1 grant in all", got)
			}
			if got := sweepAtOnce(t, nodes); got != (people.ExpiryResult{}) {
				t.Errorf("a second sweep removed %+v", got)
			}
			users := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users", op, nil).Items()
			if len(users) != 1 || users[0]["username"] != "guard@example.com" {
				t.Errorf("after the sweep the users are %v", names(users, "username"))
			}
			if grants := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/folders/"+folder+"/grants", op, nil).Items(); len(grants) != 0 {
				t.Errorf("the grant that ended is still listed: %v", grants)
			}
			for action, want := range map[string]int{"user.expired": 2, "grant.expired": 1} {
				n, actors := countActions(t, e, site, action)
				if n != want {
					t.Errorf("%d %s events, want %d", n, action, want)
				}
				for _, a := range actors {
					if a != "system" {
						t.Errorf("%s by %q, want the system", action, a)
					}
				}
			}
			// Their slots are free: two more client users fit.
			e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("late@example.com", "client_user"))
			e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("later@example.com", "client_user"))
			// The technician belongs nowhere now: signed out. The contractor
			// still works at the other site: still signed in there.
			if r := e.Do(t, "GET", "/api/v1/me", techSession, nil); r.Status != 401 {
				t.Errorf("the session of a person left without any account still works: %d", r.Status)
			}
			if r := e.Do(t, "GET", "/api/v1/accounts/"+other, contractorSession, nil); r.Status != 200 {
				t.Errorf("the contractor's session ended though they keep another site: %d", r.Status)
			}
			if r := e.Do(t, "GET", "/api/v1/accounts/"+site, techToken, nil); r.Status != 401 {
				t.Errorf("the API token of the removed membership: %d", r.Status)
			}
		})
	}
}

// An end is changed by those who may change the member, through PATCH:
// extended (the member holds access again if it had ended and was not swept
// yet) or removed (null); it must be in the future and at most a year ahead;
// the remote monitoring user never ends; grants take an end the same way.
// Every membership and grant carries expires_at, null without an end.
func TestChangeAccessEnd(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			site := ts.c1
			users := "/api/v1/accounts/" + site + "/users/"
			now := e.Clock.Now()
			end := now.Add(time.Hour).Truncate(time.Second)
			ann := addUntil(t, e, site, "ann@example.com", end)
			permanent := addActive(t, e, site, "bob@example.com", "client_user", nil)
			if v, ok := permanent.Body["expires_at"]; !ok || v != nil {
				t.Errorf("a membership without an end answers expires_at %v (present %v), want null", v, ok)
			}
			for _, item := range e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users", op, nil).Items() {
				if _, ok := item["expires_at"]; !ok {
					t.Errorf("a listed membership has no expires_at: %v", item)
				}
			}
			id := ann.String("id")

			// Validation: a past or present time, more than a year ahead,
			// not a time at all; each at the field, nothing changed.
			for name, body := range map[string]any{
				"past":         map[string]any{"expires_at": now.Add(-time.Minute).Format(time.RFC3339)},
				"now":          map[string]any{"expires_at": now.Format(time.RFC3339Nano)},
				"too far":      map[string]any{"expires_at": now.AddDate(1, 0, 1).Format(time.RFC3339)},
				"not a time":   map[string]any{"expires_at": "tomorrow"},
				"not a string": map[string]any{"expires_at": 12},
			} {
				if r := e.Do(t, "PATCH", users+id, op, body); r.Status != 400 || r.Field() != "expires_at" {
					t.Errorf("%s: %d %s", name, r.Status, r.Raw)
				}
			}
			for name, body := range map[string]any{
				"past": map[string]any{"username": "cy@example.com", "first_name": "Cy", "last_name": "Example", "level": "client_user",
					"expires_at": now.Add(-time.Hour).Format(time.RFC3339)},
				"too far": map[string]any{"username": "cy@example.com", "first_name": "Cy", "last_name": "Example", "level": "client_user",
					"expires_at": now.AddDate(2, 0, 0).Format(time.RFC3339)},
			} {
				if r := e.Do(t, "POST", "/api/v1/accounts/"+site+"/users", op, body); r.Status != 400 || r.Field() != "expires_at" {
					t.Errorf("adding with an end %s: %d %s", name, r.Status, r.Raw)
				}
			}
			if r := e.Must(t, 200, "GET", users+id, op, nil); r.String("expires_at") != end.Format(time.RFC3339) {
				t.Errorf("a refused change moved the end: %s", r.Raw)
			}

			// Those who may not change the member may not change the end.
			if r := e.Do(t, "PATCH", users+id, ts.tokens["c1-user"], map[string]any{"expires_at": nil}); r.Status != 403 {
				t.Errorf("a client user changed another's end: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "PATCH", users+id, ts.tokens["i2-admin"], map[string]any{"expires_at": nil}); r.Status != 404 {
				t.Errorf("another integrator's administrator: %d %s", r.Status, r.Raw)
			}

			// Extend: past the old end the member still holds access.
			later := end.Add(24 * time.Hour)
			if r := e.Must(t, 200, "PATCH", users+id, ts.tokens["c1-admin"], map[string]any{"expires_at": later.Format(time.RFC3339)}); r.String("expires_at") != later.Format(time.RFC3339) {
				t.Errorf("extended: %s", r.Raw)
			}
			ask := asker(t, e)
			e.Clock.Advance(2 * time.Hour)
			if !ask(ann.String("user_id"), site, "media.view", "") {
				t.Errorf("an extended member lost access at the old end")
			}
			// Ended and not swept yet: extending gives access back.
			e.Clock.Advance(later.Sub(e.Clock.Now()))
			if ask(ann.String("user_id"), site, "media.view", "") {
				t.Errorf("access holds at the new end")
			}
			e.Must(t, 200, "PATCH", users+id, op, map[string]any{"expires_at": e.Clock.Now().Add(time.Hour).Format(time.RFC3339)})
			if !ask(ann.String("user_id"), site, "media.view", "") {
				t.Errorf("extending an ended membership before the sweep did not give access back")
			}
			// Remove the end: permanent, whatever the clock.
			if r := e.Must(t, 200, "PATCH", users+id, op, map[string]any{"expires_at": nil}); r.Body["expires_at"] != nil {
				t.Errorf("cleared: %s", r.Raw)
			}
			e.Clock.Advance(48 * time.Hour)
			if !ask(ann.String("user_id"), site, "media.view", "") {
				t.Errorf("a permanent member lost access")
			}
			if got, err := e.Services.People.EndExpiredAccess(context.Background()); err != nil || got != (people.ExpiryResult{}) {
				t.Errorf("the sweeper removed %+v (%v) after the end was removed", got, err)
			}
			events := string(e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/audit-events?action=user.updated", op, nil).Raw)
			if !strings.Contains(events, `"field":"expires_at"`) {
				t.Errorf("the audit log keeps no change of expires_at: %.800s", events)
			}

			// The remote monitoring user's access never ends.
			rm := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/remote-monitoring-user", op, map[string]any{"description": "Station"}).String("id")
			if r := e.Do(t, "PATCH", users+rm, op, map[string]any{"expires_at": e.Clock.Now().Add(time.Hour).Format(time.RFC3339)}); r.Status != 403 {
				t.Errorf("the remote monitoring user was given an end: %d %s", r.Status, r.Raw)
			}

			// Grants: an end in the past is refused at its field.
			folder := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders", op, map[string]string{"name": "Doors"}).String("id")
			grants := "/api/v1/accounts/" + site + "/folders/" + folder + "/grants"
			if r := e.Do(t, "POST", grants, op, map[string]any{"user_id": ann.String("user_id"), "role": "editor",
				"expires_at": e.Clock.Now().Add(-time.Second).Format(time.RFC3339)}); r.Status != 400 || r.Field() != "expires_at" {
				t.Errorf("a grant ending in the past: %d %s", r.Status, r.Raw)
			}
			if r := e.Must(t, 201, "POST", grants, op, map[string]any{"user_id": ann.String("user_id"), "role": "editor"}); r.Body["expires_at"] != nil {
				t.Errorf("a grant without an end answers %s", r.Raw)
			}
		})
	}
}

// The invitation of a temporary member says until when, in the person's
// language, and its link lives no longer than the access; a person already
// active is told in the "new site" e-mail.
func TestTemporaryMemberIsToldUntilWhen(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Lyon Store", in)
			end := e.Clock.Now().Add(48 * time.Hour).Truncate(time.Minute)
			when := end.Format("2006-01-02 15:04 UTC")
			for lang, word := range map[string]string{"en": "temporary", "fr": "temporaire"} {
				username := "tech-" + lang + "@example.com"
				body := newUser(username, "client_user")
				body["language"], body["expires_at"] = lang, end.Format(time.RFC3339)
				e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, body)
				mail := e.Mail(t)
				if len(mail) != 1 || !strings.Contains(mail[0].Body, word) || !strings.Contains(mail[0].Body, when) {
					t.Errorf("%s invitation does not say until when (%s):\n%v", lang, when, mail)
				}
			}
			invitations := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/invitations?status=pending", op, nil).Items()
			for _, inv := range invitations {
				if inv["expires_at"] != end.Format(time.RFC3339) {
					t.Errorf("an invitation for access ending %s lives until %v", end.Format(time.RFC3339), inv["expires_at"])
				}
			}
			// Someone already active, added to another site for a while.
			other := e.CreateAccount(t, "client", "Paris Store", in)
			addActive(t, e, other, "ann@example.com", "client_user", nil)
			body := newUser("ann@example.com", "client_user")
			body["expires_at"] = end.Format(time.RFC3339)
			e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, body)
			if mail := e.Mail(t); len(mail) != 1 || !strings.Contains(mail[0].Body, "temporary") || !strings.Contains(mail[0].Body, when) {
				t.Errorf("the new-site e-mail does not say until when:\n%v", mail)
			}
		})
	}
}
