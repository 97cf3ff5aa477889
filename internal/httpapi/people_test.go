package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/httpapi"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func newUser(username, level string) map[string]any {
	return map[string]any{"username": username, "first_name": "Ann", "last_name": "Lee", "level": level}
}

// Adding people to accounts as the product describes it (R-U1, R-U2, R-U3,
// R-M1, R-M2, R-X1).
func TestAddUser(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site1 := e.CreateAccount(t, "client", "Store 1", in)
			site2 := e.CreateAccount(t, "client", "Store 2", in)

			m := e.Must(t, 201, "POST", "/api/v1/accounts/"+site1+"/users", op, map[string]any{
				"username": "Store.Admin@Example.com", "first_name": "Store", "last_name": "Admin", "level": "client_admin",
				"language": "fr", "phone": "+33 6 12 34 56 78"})
			if m.String("status") != "activation_required" || m.String("email") != "Store.Admin@Example.com" ||
				m.String("language") != "fr" || m.String("level") != "client_admin" || m.String("account_id") != site1 {
				t.Errorf("new client admin: %s", m.Raw)
			}
			if m.Header.Get("Location") != "/api/v1/accounts/"+site1+"/users/"+m.String("id") {
				t.Errorf("Location %q", m.Header.Get("Location"))
			}
			user, err := e.Store.User(context.Background(), m.String("user_id"))
			if err != nil || user.Phone != "+33612345678" {
				t.Errorf("phone stored as %q (%v), want E.164", user.Phone, err)
			}

			// The same username, typed differently, on the second site: one
			// identity, and the names sent are ignored (R-U2: "Store Admin" stays).
			m2 := e.Must(t, 201, "POST", "/api/v1/accounts/"+site2+"/users", op, map[string]any{
				"username": "store.admin@example.com", "first_name": "Someone", "last_name": "Else", "level": "client_user",
				"email": "alerts@example.com"})
			if m2.String("user_id") != m.String("user_id") {
				t.Errorf("a second identity was made for the same username")
			}
			if m2.String("first_name") != "Store" || m2.String("last_name") != "Admin" || m2.String("language") != "fr" {
				t.Errorf("an existing identity was overwritten: %s", m2.Raw)
			}
			if m2.String("email") != "alerts@example.com" {
				t.Errorf("notification e-mail %q, want the one given (R-U3)", m2.String("email"))
			}
			if roles := m2.Body["roles"].([]any); len(roles) != 1 || roles[0] != "viewer" {
				t.Errorf("client user roles %v, want the default [viewer]", roles)
			}

			dup := e.Do(t, "POST", "/api/v1/accounts/"+site1+"/users", op, newUser("STORE.ADMIN@example.com", "client_user"))
			if dup.Status != 409 || dup.Code() != "already_member" {
				t.Errorf("adding a member twice: %d %s", dup.Status, dup.Raw)
			}

			list := e.Must(t, 200, "GET", "/api/v1/accounts/"+site1+"/users", op, nil)
			if items := list.Items(); len(items) != 1 || items[0]["id"] != m.String("id") {
				t.Errorf("users of site 1: %s", list.Raw)
			}
			got := e.Must(t, 200, "GET", "/api/v1/accounts/"+site1+"/users/"+m.String("id"), op, nil)
			if got.String("username") != "Store.Admin@Example.com" {
				t.Errorf("GET user: %s", got.Raw)
			}
			// A membership is only found through its own account.
			e.Must(t, 404, "GET", "/api/v1/accounts/"+site2+"/users/"+m.String("id"), op, nil)

			invs, err := e.Store.ListInvitations(context.Background(), site1, gatehouse.InvitationPending, time.Now(), gatehouse.PageRequest{})
			if err != nil || len(invs.Items) != 1 || invs.Items[0].MembershipID != m.String("id") || len(invs.Items[0].TokenHash) != 32 {
				t.Errorf("pending invitations of site 1: %+v (%v)", invs.Items, err)
			}

			e.Must(t, 204, "DELETE", "/api/v1/accounts/"+site1+"/users/"+m.String("id"), op, nil)
			e.Must(t, 404, "GET", "/api/v1/accounts/"+site1+"/users/"+m.String("id"), op, nil)
			e.Must(t, 404, "DELETE", "/api/v1/accounts/"+site1+"/users/"+m.String("id"), op, nil)

			var actions []string
			for _, ev := range e.Must(t, 200, "GET", "/api/v1/accounts/"+site1+"/audit-events", op, nil).Items() {
				actions = append(actions, ev["action"].(string))
			}
			if want := []string{"user.removed", "invitation.sent", "user.added", "account.created"}; !slices.Equal(actions, want) {
				t.Errorf("audit of site 1: %v, want %v", actions, want)
			}
		})
	}
}

// Bad input for adding a user: a clear 400 naming the field, and nothing
// written (R-X3).
func TestAddUserBadInput(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Store", in)
	path := "/api/v1/accounts/" + site + "/users"
	with := func(k string, v any) map[string]any {
		body := newUser("new@example.com", "client_user")
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
		return body
	}
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"no username", with("username", nil), "username"},
		{"username not an e-mail", with("username", "ann"), "username"},
		{"username with a display name", with("username", "Ann <ann@example.com>"), "username"},
		{"username without a domain dot", with("username", "ann@localhost"), "username"},
		{"two usernames", with("username", []string{"a@example.com", "b@example.com"}), "username"},
		{"bad notification e-mail", with("email", "not-an-address"), "email"},
		{"no level", with("level", nil), "level"},
		{"unknown level", with("level", "superuser"), "level"},
		{"integrator level in a client account", with("level", "integrator_admin"), "level"},
		{"new username without first name", with("first_name", nil), "first_name"},
		{"new username without last name", with("last_name", "  "), "last_name"},
		{"unknown language", with("language", "de"), "language"},
		{"unknown role", with("roles", []string{"viewer", "god"}), "roles"},
		{"invalid phone", with("phone", "+1 555"), "phone"},
		{"phone without country code", with("phone", "06 12 34 56 78"), "phone"},
		{"unknown identity provider", with("identity_provider", "nope"), "identity_provider"},
		{"unknown home folder", with("home_folder_id", "nope"), "home_folder_id"},
		{"notifications not an object", with("notifications", true), "notifications"},
	}
	for _, c := range cases {
		r := e.Do(t, "POST", path, op, c.body)
		if r.Status != 400 || r.Code() != "validation_failed" || r.Field() != c.field {
			t.Errorf("%s: %d %s, want 400 field %s", c.name, r.Status, r.Raw, c.field)
		}
	}
	if n := len(e.Must(t, 200, "GET", path, op, nil).Items()); n != 0 {
		t.Errorf("%d users after refused requests", n)
	}
	if _, err := e.Store.UserByUsername(context.Background(), "new@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("a refused add left an identity behind: %v", err)
	}
}

// Who may add whom (R-P2), and who may see an account's users (R-X2).
func TestAddUserPermissions(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			type target struct {
				account, level string
			}
			targets := []target{{ts.i1, "integrator_admin"}, {ts.i1, "integrator_user"}, {ts.c1, "client_admin"}, {ts.c1, "client_user"}, {ts.c2, "client_user"}}
			// want[target][principal], principals in the order of the matrix.
			want := [][8]int{
				//   op   i1a  i1u  c1a  c1u  i2a  i1s  anon
				{201, 201, 403, 404, 404, 404, 403, 401}, // integrator admin into I1
				{201, 201, 403, 404, 404, 404, 403, 401}, // integrator user into I1
				{201, 201, 201, 403, 403, 404, 201, 401}, // client admin into C1
				{201, 201, 201, 201, 403, 404, 201, 401}, // client user into C1
				{201, 404, 404, 404, 404, 201, 404, 401}, // client user into C2
			}
			n := 0
			for ti, tg := range targets {
				for pi, p := range principals {
					n++
					r := ts.e.Do(t, "POST", "/api/v1/accounts/"+tg.account+"/users", ts.tokens[p],
						newUser(fmt.Sprintf("person%d@example.com", n), tg.level))
					if r.Status != want[ti][pi] {
						t.Errorf("%s adding a %s to %s: %d, want %d: %s", p, tg.level, tg.account, r.Status, want[ti][pi], r.Raw)
					}
				}
			}
			// Listing users: client users manage nobody and see no list.
			wantList := map[string]int{"operator": 200, "i1-admin": 200, "i1-user": 200, "c1-admin": 200, "c1-user": 403, "i2-admin": 404, "i1-scoped": 200, "anonymous": 401}
			for p, status := range wantList {
				if r := ts.e.Do(t, "GET", "/api/v1/accounts/"+ts.c1+"/users", ts.tokens[p], nil); r.Status != status {
					t.Errorf("%s listing C1's users: %d, want %d", p, r.Status, status)
				}
			}
		})
	}
}

// The client-user limit (R-L1): nine by default, pending users counted,
// administrators not counted, a removal frees a slot, operators change it.
func TestClientUserLimit(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Store", in)
			path := "/api/v1/accounts/" + site + "/users"
			e.Must(t, 201, "POST", path, op, newUser("admin@example.com", "client_admin"))
			var first string
			for i := range 9 {
				r := e.Must(t, 201, "POST", path, op, newUser(fmt.Sprintf("user%d@example.com", i), "client_user"))
				if i == 0 {
					first = r.String("id")
				}
			}
			r := e.Do(t, "POST", path, op, newUser("tenth@example.com", "client_user"))
			if r.Status != 409 || r.Code() != "user_limit_reached" {
				t.Fatalf("tenth client user: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 201, "POST", path, op, newUser("second-admin@example.com", "client_admin"))
			e.Must(t, 204, "DELETE", path+"/"+first, op, nil)
			e.Must(t, 201, "POST", path, op, newUser("tenth@example.com", "client_user"))
			e.Must(t, 409, "POST", path, op, newUser("eleventh@example.com", "client_user"))
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 10})
			e.Must(t, 201, "POST", path, op, newUser("eleventh@example.com", "client_user"))
			if _, err := e.Store.UserByUsername(context.Background(), "twelfth@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("unexpected identity: %v", err)
			}
			e.Must(t, 409, "POST", path, op, newUser("twelfth@example.com", "client_user"))
			if _, err := e.Store.UserByUsername(context.Background(), "twelfth@example.com"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				t.Errorf("a refused add over the limit left an identity behind: %v", err)
			}
		})
	}
}

// Forty concurrent adds to one account let exactly nine through, on every
// database; on PostgreSQL through two server instances sharing it (R-L1).
func TestConcurrentAddsRespectTheLimit(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			nodes := nodesOf(t, b, e)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Busy store", in)
			const n = 40
			count := race(nodes, n, func(node *apitest.Env, i int) int {
				return node.Do(t, "POST", "/api/v1/accounts/"+site+"/users", op,
					newUser(fmt.Sprintf("rush%02d@example.com", i), "client_user")).Status
			})
			if count[201] != 9 || count[409] != n-9 {
				t.Errorf("statuses %v, want 9 × 201 and %d × 409", count, n-9)
			}
			if got := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users", op, nil).Items()); got != 9 {
				t.Errorf("%d users stored, want 9", got)
			}
		})
	}
}

// The same new username added to ten accounts at once is one identity with
// ten memberships (R-U1).
func TestSameNewUsernameConcurrently(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			nodes := nodesOf(t, b, e)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			sites := make([]string, 10)
			for i := range sites {
				sites[i] = e.CreateAccount(t, "client", fmt.Sprintf("Site %d", i), in)
			}
			userIDs := make([]string, len(sites))
			var wg sync.WaitGroup
			for i, site := range sites {
				wg.Go(func() {
					r := nodes[i%len(nodes)].Do(t, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("Multi.Site@example.com", "client_admin"))
					if r.Status != 201 {
						t.Errorf("site %d: %d %s", i, r.Status, r.Raw)
					}
					userIDs[i] = r.String("user_id")
				})
			}
			wg.Wait()
			if distinct := slices.Compact(slices.Sorted(slices.Values(userIDs))); len(distinct) != 1 {
				t.Errorf("user ids %v, want one identity", userIDs)
			}
		})
	}
}

// race sends n requests at once, spread over the nodes, and counts the
// statuses they were answered with.
func race(nodes []*apitest.Env, n int, send func(node *apitest.Env, i int) int) map[int]int {
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i] = send(nodes[i%len(nodes)], i) })
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	return count
}

// nodesOf returns the nodes a concurrency test spreads its requests over:
// e, and on PostgreSQL a second node sharing e's database.
func nodesOf(t *testing.T, b storetest.Backend, e *apitest.Env) []*apitest.Env {
	if b.Name != "postgres" {
		return []*apitest.Env{e}
	}
	return []*apitest.Env{e, secondNode(t, e)}
}

// secondNode serves the same database through another store and service, as
// a second Gatehouse process would, on the first node's clock: the two
// nodes of a test agree on the time as the machines of a deployment do.
func secondNode(t *testing.T, first *apitest.Env) *apitest.Env {
	t.Helper()
	db, err := store.OpenPostgres(context.Background(), first.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := service.New(db, service.Options{BootstrapToken: apitest.OperatorToken, PasswordParams: apitest.FastPasswords,
		Clock: first.Clock})
	api := httpapi.New(svc, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &apitest.Env{URL: srv.URL, Store: db, API: api, Clock: first.Clock, Services: svc}
}
