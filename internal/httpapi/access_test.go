package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// addActive adds a user to the account as the operator, activates them (a
// new identity) and returns the membership. roles nil keeps the default.
func addActive(t *testing.T, e *apitest.Env, accountID, username, level string, roles []string) apitest.Response {
	t.Helper()
	body := newUser(username, level)
	if roles != nil {
		body["roles"] = roles
	}
	m := e.Must(t, 201, "POST", "/api/v1/accounts/"+accountID+"/users", op, body)
	if tokens := e.ActivationTokens(t, username); len(tokens) > 0 {
		e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[len(tokens)-1], "password": goodPassword})
	}
	return m
}

// session returns a session token of a user without a second factor.
func session(t *testing.T, e *apitest.Env, username string) string {
	t.Helper()
	r := signIn(e, t, username, goodPassword)
	if r.Status != 201 {
		t.Fatalf("sign-in of %s: %d %s", username, r.Status, r.Raw)
	}
	return r.String("token")
}

// asker asks checks through one node as the operator.
func asker(t *testing.T, e *apitest.Env) func(user, account, permission, folder string) bool {
	return func(user, account, permission, folder string) bool {
		t.Helper()
		body := map[string]string{"user_id": user, "account_id": account, "permission": permission}
		if folder != "" {
			body["folder_id"] = folder
		}
		r := e.Must(t, 200, "POST", "/api/v1/check", op, body)
		allowed, ok := r.Body["allowed"].(bool)
		if !ok {
			t.Fatalf("check answered %s", r.Raw)
		}
		return allowed
	}
}

func names(items []map[string]any, key string) []string {
	var out []string
	for _, item := range items {
		out = append(out, fmt.Sprint(item[key]))
	}
	return out
}

// R-A1: built-in roles as documented, custom roles created, renamed,
// changed (holders see the change at once) and deleted only when unused.
func TestRoles(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e, base := ts.e, "/api/v1/accounts/"+ts.c1+"/roles"
			list := e.Must(t, 200, "GET", base, ts.tokens["c1-admin"], nil).Items()
			want := map[string][]string{"viewer": {"media.view"}, "editor": {"media.view", "media.edit"}, "manager": {"media.view", "media.edit", "folders.manage"}}
			if len(list) != 3 {
				t.Fatalf("built-in roles: %v", list)
			}
			for _, r := range list {
				var perms []string
				for _, p := range r["permissions"].([]any) {
					perms = append(perms, p.(string))
				}
				if !slices.Equal(sortedStrings(perms), sortedStrings(want[r["name"].(string)])) || r["builtin"] != true {
					t.Errorf("built-in %v", r)
				}
			}

			guard := e.Must(t, 201, "POST", base, ts.tokens["c1-admin"], map[string]any{"name": "Guard", "permissions": []string{"cameras.view"}})
			for _, bad := range []struct {
				body  map[string]any
				code  string
				field string
			}{
				{map[string]any{"name": "Pilot", "permissions": []string{"cameras.fly"}}, "validation_failed", "permissions"},
				{map[string]any{"name": "Empty", "permissions": []string{}}, "validation_failed", "permissions"},
				{map[string]any{"name": "", "permissions": []string{"media.view"}}, "validation_failed", "name"},
				{map[string]any{"name": "guard", "permissions": []string{"media.view"}}, "conflict", "name"},
				{map[string]any{"name": "Viewer", "permissions": []string{"media.view"}}, "conflict", "name"},
			} {
				if r := e.Do(t, "POST", base, ts.tokens["c1-admin"], bad.body); r.Code() != bad.code || r.Field() != bad.field {
					t.Errorf("%v: %d %s", bad.body, r.Status, r.Raw)
				}
			}
			if r := e.Do(t, "POST", base, ts.tokens["c1-user"], map[string]any{"name": "Mine", "permissions": []string{"media.view"}}); r.Status != 403 {
				t.Errorf("a client user created a role: %d", r.Status)
			}
			if r := e.Do(t, "GET", "/api/v1/accounts/"+ts.c2+"/roles", ts.tokens["c1-admin"], nil); r.Status != 404 {
				t.Errorf("another tenant's roles: %d", r.Status)
			}

			// A user holding Guard sees cameras; the role's change shows at once.
			m := addActive(t, e, ts.c1, "guard@example.com", "client_user", []string{"guard"})
			if got := fmt.Sprint(m.Body["roles"]); got != "[Guard]" {
				t.Errorf("membership roles %s", got)
			}
			ask, user := asker(t, e), m.String("user_id")
			if !ask(user, ts.c1, "cameras.view", "") || ask(user, ts.c1, "cameras.control", "") {
				t.Errorf("Guard holds cameras.view only")
			}
			roleURL := base + "/" + guard.String("id")
			e.Must(t, 200, "PATCH", roleURL, ts.tokens["c1-admin"], map[string]any{"name": "Night guard", "permissions": []string{"cameras.view", "cameras.control"}})
			if !ask(user, ts.c1, "cameras.control", "") {
				t.Errorf("the role's new permission is not held at once")
			}
			got := e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1+"/users/"+m.String("id"), op, nil)
			if fmt.Sprint(got.Body["roles"]) != "[Night guard]" {
				t.Errorf("the member shows the old role name: %v", got.Body["roles"])
			}

			if r := e.Do(t, "DELETE", roleURL, ts.tokens["c1-admin"], nil); r.Status != 409 || r.Code() != "role_in_use" {
				t.Errorf("delete in use: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "DELETE", base+"/viewer", ts.tokens["c1-admin"], nil); r.Status != 403 {
				t.Errorf("delete a built-in: %d", r.Status)
			}
			e.Must(t, 200, "PATCH", "/api/v1/accounts/"+ts.c1+"/users/"+m.String("id"), ts.tokens["c1-admin"], map[string]any{"roles": []string{"viewer"}})
			e.Must(t, 204, "DELETE", roleURL, ts.tokens["c1-admin"], nil)
			if ask(user, ts.c1, "cameras.view", "") {
				t.Errorf("cameras still viewable once the role is gone")
			}
			e.Must(t, 404, "GET", roleURL, ts.tokens["c1-admin"], nil)
		})
	}
}

func sortedStrings(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// R-A2: a tree per account with paths, moves that keep subtrees, cycles
// refused, deletes only when empty.
func TestFolders(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e, base, admin := ts.e, "/api/v1/accounts/"+ts.c1+"/folders", ts.tokens["c1-admin"]
			mk := func(name, parent string) string {
				body := map[string]any{"name": name}
				if parent != "" {
					body["parent_id"] = parent
				}
				return e.Must(t, 201, "POST", base, admin, body).String("id")
			}
			stores := mk("Stores", "")
			east := mk("East", stores)
			lyon := mk("Lyon", east)
			west := mk("West", stores)
			if p := e.Must(t, 200, "GET", base+"/"+lyon, admin, nil).String("path"); p != "/Stores/East/Lyon" {
				t.Errorf("path %q", p)
			}
			if r := e.Do(t, "POST", base, admin, map[string]any{"name": "east", "parent_id": stores}); r.Status != 409 || r.Field() != "name" {
				t.Errorf("sibling with the same name: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", base, admin, map[string]any{"name": "A/B"}); r.Status != 400 || r.Field() != "name" {
				t.Errorf("slash in a name: %d", r.Status)
			}
			if r := e.Do(t, "POST", base, admin, map[string]any{"name": "X", "parent_id": "0190d7a0-0000-7000-8000-000000000000"}); r.Status != 404 || r.Field() != "parent_id" {
				t.Errorf("unknown parent: %d %s", r.Status, r.Raw)
			}
			// A folder of another account is no parent here.
			foreign := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c2+"/folders", op, map[string]any{"name": "Theirs"}).String("id")
			if r := e.Do(t, "POST", base, admin, map[string]any{"name": "X", "parent_id": foreign}); r.Status != 404 {
				t.Errorf("foreign parent: %d", r.Status)
			}
			// Moves: East (with Lyon) under West; not under Lyon, its own child.
			if r := e.Do(t, "PATCH", base+"/"+east, admin, map[string]any{"parent_id": lyon}); r.Status != 400 || r.Field() != "parent_id" {
				t.Errorf("move under a subfolder: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "PATCH", base+"/"+east, admin, map[string]any{"parent_id": east}); r.Status != 400 {
				t.Errorf("move under itself: %d", r.Status)
			}
			moved := e.Must(t, 200, "PATCH", base+"/"+east, admin, map[string]any{"parent_id": west, "name": "Est"})
			if moved.String("path") != "/Stores/West/Est" {
				t.Errorf("moved path %q", moved.String("path"))
			}
			if p := e.Must(t, 200, "GET", base+"/"+lyon, admin, nil).String("path"); p != "/Stores/West/Est/Lyon" {
				t.Errorf("a subfolder did not follow its parent: %q", p)
			}
			top := e.Must(t, 200, "PATCH", base+"/"+west, admin, map[string]any{"parent_id": nil})
			if top.String("path") != "/West" || top.Body["parent_id"] != nil {
				t.Errorf("move to the top: %s", top.Raw)
			}
			if got := names(e.Must(t, 200, "GET", base, admin, nil).Items(), "path"); !slices.Equal(got, []string{"/Stores", "/West", "/West/Est", "/West/Est/Lyon"}) {
				t.Errorf("list %v", got)
			}
			if got := names(e.Must(t, 200, "GET", base+"?parent_id="+west, admin, nil).Items(), "name"); !slices.Equal(got, []string{"Est"}) {
				t.Errorf("children of West %v", got)
			}
			if r := e.Do(t, "DELETE", base+"/"+west, admin, nil); r.Status != 409 || r.Code() != "folder_not_empty" {
				t.Errorf("delete with subfolders: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 204, "DELETE", base+"/"+lyon, admin, nil)
			e.Must(t, 404, "GET", base+"/"+lyon, admin, nil)
			if r := e.Do(t, "GET", base+"/"+foreign, admin, nil); r.Status != 404 {
				t.Errorf("another account's folder read: %d", r.Status)
			}
			// Depth is bounded.
			parent := ""
			var err string
			for i := range 25 {
				r := e.Do(t, "POST", base, admin, map[string]any{"name": fmt.Sprint("L", i), "parent_id": parent})
				if r.Status != 201 {
					err = fmt.Sprintf("level %d: %d %s", i+1, r.Status, r.Field())
					break
				}
				parent = r.String("id")
			}
			if err != "level 21: 400 parent_id" {
				t.Errorf("depth limit: %s", err)
			}
			audit := e.Must(t, 200, "GET", "/api/v1/accounts/"+ts.c1+"/audit-events?limit=500", op, nil).Items()
			actions := names(audit, "action")
			for _, a := range []string{"folder.created", "folder.moved", "folder.deleted"} {
				if !slices.Contains(actions, a) {
					t.Errorf("no %s in the audit log", a)
				}
			}
		})
	}
}

// R-A2, R-A4, R-A5: grants on a folder cover everything under it, to a user
// or through a group; lists show only what the caller may see; checks answer
// from all of it and see every change at once; pending and removed members
// are denied.
func TestGrantsGroupsAndChecks(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e, acct, admin := ts.e, "/api/v1/accounts/"+ts.c1, ts.tokens["c1-admin"]
			mk := func(name, parent string) string {
				return e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": name, "parent_id": parent}).String("id")
			}
			stores := mk("Stores", "")
			east := mk("East", stores)
			lyon := mk("Lyon", east)
			offices := mk("Offices", "")
			scoped := addActive(t, e, ts.c1, "scoped@example.com", "client_user", []string{})
			guard := addActive(t, e, ts.c1, "guard@example.com", "client_user", []string{})
			viewer := addActive(t, e, ts.c1, "viewer@example.com", "client_user", nil)
			ask := asker(t, e)

			e.Must(t, 201, "POST", acct+"/folders/"+east+"/grants", admin, map[string]any{"user_id": scoped.String("user_id"), "role": "editor"})
			if r := e.Do(t, "POST", acct+"/folders/"+east+"/grants", admin, map[string]any{"user_id": scoped.String("user_id"), "role": "editor"}); r.Status != 409 {
				t.Errorf("the same grant twice: %d", r.Status)
			}
			for _, bad := range []map[string]any{
				{"role": "editor"}, // no subject
				{"user_id": scoped.String("user_id"), "group_id": "x", "role": "editor"},
				{"user_id": scoped.String("user_id"), "role": "pilot"},
				{"user_id": ts.tokens["c1-user"], "role": "viewer"}, // not a user id of the account
			} {
				if r := e.Do(t, "POST", acct+"/folders/"+east+"/grants", admin, bad); r.Status != 400 {
					t.Errorf("grant %v: %d %s", bad, r.Status, r.Raw)
				}
			}
			user := scoped.String("user_id")
			if !ask(user, ts.c1, "media.edit", east) || !ask(user, ts.c1, "media.edit", lyon) {
				t.Errorf("a grant on East covers East and Lyon")
			}
			if ask(user, ts.c1, "media.edit", stores) || ask(user, ts.c1, "media.edit", offices) || ask(user, ts.c1, "media.view", "") {
				t.Errorf("a grant on East reaches beyond East")
			}
			// A folder id of another account, and an unknown one, allow nothing.
			theirs := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c2+"/folders", op, map[string]any{"name": "Theirs"}).String("id")
			if ask(viewer.String("user_id"), ts.c1, "media.view", theirs) || ask(viewer.String("user_id"), ts.c1, "media.view", "nope") {
				t.Errorf("a check about a folder outside the account was allowed")
			}

			// Groups: roles account-wide and grants to the group.
			night := e.Must(t, 201, "POST", acct+"/groups", admin, map[string]any{"name": "Night shift"})
			groupURL := acct + "/groups/" + night.String("id")
			e.Must(t, 201, "POST", acct+"/folders/"+offices+"/grants", admin, map[string]any{"group_id": night.String("id"), "role": "viewer"})
			if ask(guard.String("user_id"), ts.c1, "media.view", offices) {
				t.Errorf("allowed before joining the group")
			}
			e.Must(t, 204, "POST", groupURL+"/members", admin, map[string]any{"user_id": guard.String("user_id")})
			if !ask(guard.String("user_id"), ts.c1, "media.view", offices) || ask(guard.String("user_id"), ts.c1, "media.view", stores) {
				t.Errorf("a group grant on Offices should cover Offices alone")
			}
			if got := e.Must(t, 200, "GET", groupURL, admin, nil).Body["user_ids"]; fmt.Sprint(got) != "["+guard.String("user_id")+"]" {
				t.Errorf("group members %v", got)
			}
			e.Must(t, 200, "PATCH", groupURL, admin, map[string]any{"roles": []string{"editor"}})
			if !ask(guard.String("user_id"), ts.c1, "media.edit", "") {
				t.Errorf("a group's role is not held account-wide")
			}
			if r := e.Do(t, "POST", acct+"/groups", admin, map[string]any{"name": "night SHIFT"}); r.Status != 409 {
				t.Errorf("duplicate group name: %d", r.Status)
			}
			e.Must(t, 204, "DELETE", groupURL+"/members/"+guard.String("user_id"), admin, nil)
			if ask(guard.String("user_id"), ts.c1, "media.edit", "") || ask(guard.String("user_id"), ts.c1, "media.view", offices) {
				t.Errorf("still allowed after leaving the group")
			}

			// Folder lists show what the caller may see.
			scopedToken := session(t, e, "scoped@example.com")
			if got := names(e.Must(t, 200, "GET", acct+"/folders", scopedToken, nil).Items(), "path"); !slices.Equal(got, []string{"/Stores/East", "/Stores/East/Lyon"}) {
				t.Errorf("the scoped user lists %v", got)
			}
			if r := e.Do(t, "GET", acct+"/folders/"+offices, scopedToken, nil); r.Status != 404 {
				t.Errorf("an unseen folder read: %d", r.Status)
			}
			viewerToken := session(t, e, "viewer@example.com")
			if got := e.Must(t, 200, "GET", acct+"/folders", viewerToken, nil).Items(); len(got) != 4 {
				t.Errorf("an account-wide role sees every folder, got %d", len(got))
			}
			if r := e.Do(t, "POST", acct+"/folders/"+east+"/grants", scopedToken, map[string]any{"user_id": user, "role": "manager"}); r.Status != 403 {
				t.Errorf("a client user granted themself: %d", r.Status)
			}

			// Grants listed on their folder, then taken back.
			grants := e.Must(t, 200, "GET", acct+"/folders/"+east+"/grants", admin, nil).Items()
			if len(grants) != 1 || grants[0]["role"] != "editor" || grants[0]["user_id"] != user {
				t.Fatalf("grants on East %v", grants)
			}
			if r := e.Do(t, "DELETE", acct+"/folders/"+lyon+"/grants/"+grants[0]["id"].(string), admin, nil); r.Status != 404 {
				t.Errorf("a grant deleted through the wrong folder: %d", r.Status)
			}
			e.Must(t, 204, "DELETE", acct+"/folders/"+east+"/grants/"+grants[0]["id"].(string), admin, nil)
			if ask(user, ts.c1, "media.edit", lyon) {
				t.Errorf("allowed after the grant was taken back")
			}

			// Pending members hold nothing until they activate; removed ones
			// nothing at all.
			pending := e.Must(t, 201, "POST", acct+"/users", op, newUser("pending@example.com", "client_user"))
			e.Must(t, 201, "POST", acct+"/folders/"+stores+"/grants", admin, map[string]any{"user_id": pending.String("user_id"), "role": "manager"})
			if ask(pending.String("user_id"), ts.c1, "media.view", "") || ask(pending.String("user_id"), ts.c1, "folders.manage", stores) {
				t.Errorf("a pending member is allowed")
			}
			token := e.ActivationTokens(t, "pending@example.com")[0]
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": token, "password": goodPassword})
			if !ask(pending.String("user_id"), ts.c1, "folders.manage", lyon) {
				t.Errorf("grants made while pending do not work once active (R-M3)")
			}
			e.Must(t, 204, "DELETE", acct+"/users/"+pending.String("id"), admin, nil)
			if ask(pending.String("user_id"), ts.c1, "media.view", "") || ask(pending.String("user_id"), ts.c1, "folders.manage", lyon) {
				t.Errorf("a removed member is allowed")
			}
			// Coming back starts from nothing: the old grant is gone.
			e.Must(t, 201, "POST", acct+"/users", op, map[string]any{"username": "pending@example.com", "level": "client_user", "roles": []string{}})
			if ask(pending.String("user_id"), ts.c1, "folders.manage", lyon) {
				t.Errorf("a grant survived the membership")
			}

			// Integrator staff manage their clients, not elsewhere, and reach
			// a client's cameras and media only while it allows them (R-PV1).
			staff := addActive(t, e, ts.i1, "staff@example.com", "integrator_user", nil)
			if !ask(staff.String("user_id"), ts.c1, "folders.manage", lyon) || ask(staff.String("user_id"), ts.c1, "cameras.control", lyon) ||
				ask(staff.String("user_id"), ts.c2, "media.view", "") {
				t.Errorf("integrator staff checks")
			}
		})
	}
}

// The batch form answers many questions in order, and refuses bad ones by
// their position.
func TestCheckBatch(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			viewer := addActive(t, e, ts.c1, "viewer@example.com", "client_user", nil).String("user_id")
			q := func(user, account, permission string) map[string]string {
				return map[string]string{"user_id": user, "account_id": account, "permission": permission}
			}
			r := e.Must(t, 200, "POST", "/api/v1/check/batch", op, map[string]any{"checks": []any{
				q(viewer, ts.c1, "media.view"), q(viewer, ts.c1, "media.edit"), q(viewer, ts.c2, "media.view"), q(viewer, ts.c1, "media.view"),
			}})
			if got := fmt.Sprint(r.Body["results"]); got != "[map[allowed:true] map[allowed:false] map[allowed:false] map[allowed:true]]" {
				t.Errorf("results %s", got)
			}
			if r := e.Do(t, "POST", "/api/v1/check/batch", op, map[string]any{"checks": []any{q(viewer, ts.c1, "media.view"), q(viewer, ts.c1, "media.fly")}}); r.Status != 400 || r.Field() != "checks[1].permission" {
				t.Errorf("a bad question: %d %s", r.Status, r.Raw)
			}
			many := make([]any, 1001)
			for i := range many {
				many[i] = q(viewer, ts.c1, "media.view")
			}
			if r := e.Do(t, "POST", "/api/v1/check/batch", op, map[string]any{"checks": many}); r.Status != 400 || r.Field() != "checks" {
				t.Errorf("1,001 questions: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/check/batch", op, map[string]any{"checks": many[:1000]}); r.Status != 200 || len(r.Body["results"].([]any)) != 1000 {
				t.Errorf("1,000 questions: %d", r.Status)
			}
			if r := e.Do(t, "POST", "/api/v1/check/batch", ts.tokens["c1-admin"], map[string]any{"checks": many[:1]}); r.Status != 403 {
				t.Errorf("a batch by an account admin: %d", r.Status)
			}
		})
	}
}

// Check tokens ask checks and can do nothing else; revoked, they stop.
func TestCheckTokens(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			if r := e.Do(t, "POST", "/api/v1/check-tokens", ts.tokens["i1-admin"], map[string]any{"name": "video"}); r.Status != 403 {
				t.Errorf("a non-operator made a check token: %d", r.Status)
			}
			created := e.Must(t, 201, "POST", "/api/v1/check-tokens", op, map[string]any{"name": "video"})
			secret := created.String("token")
			if len(secret) < 40 || secret[:7] != "gh_chk_" {
				t.Fatalf("token %q", secret)
			}
			listed := e.Must(t, 200, "GET", "/api/v1/check-tokens", op, nil).Items()
			if len(listed) != 1 || listed[0]["token"] != nil || listed[0]["name"] != "video" {
				t.Errorf("list shows %v (never the secret)", listed)
			}
			viewer := addActive(t, e, ts.c1, "viewer@example.com", "client_user", nil).String("user_id")
			question := map[string]string{"user_id": viewer, "account_id": ts.c1, "permission": "media.view"}
			if r := e.Must(t, 200, "POST", "/api/v1/check", secret, question); r.Body["allowed"] != true {
				t.Errorf("check by token: %s", r.Raw)
			}
			e.Must(t, 200, "POST", "/api/v1/check/batch", secret, map[string]any{"checks": []any{question}})
			for _, path := range []string{"/api/v1/accounts", "/api/v1/accounts/" + ts.c1, "/api/v1/me", "/api/v1/check-tokens"} {
				if r := e.Do(t, "GET", path, secret, nil); r.Status != 403 {
					t.Errorf("GET %s with a check token: %d", path, r.Status)
				}
			}
			e.Must(t, 204, "DELETE", "/api/v1/check-tokens/"+created.String("id"), op, nil)
			if r := e.Do(t, "POST", "/api/v1/check", secret, question); r.Status != 401 {
				t.Errorf("a revoked check token: %d", r.Status)
			}
		})
	}
}

// A node trusts a check token it has seen live without reading it again,
// yet the next check after a revocation refuses it, on every node, whatever
// it asks: about a member, an unknown account or a subject token, alone or
// in a batch; it learns nothing more than that it is refused.
func TestARevokedCheckTokenIsRefusedByTheNextCheckOnEveryNode(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			nodes := nodesOf(t, b, e)
			created := e.Must(t, 201, "POST", "/api/v1/check-tokens", op, map[string]any{"name": "video"})
			secret := created.String("token")
			viewer := addActive(t, e, ts.c1, "viewer@example.com", "client_user", nil).String("user_id")
			questions := map[string]map[string]string{
				"a member":           {"user_id": viewer, "account_id": ts.c1, "permission": "media.view"},
				"an unknown account": {"user_id": viewer, "account_id": "no-such-account", "permission": "media.view"},
				"a subject token":    {"subject_token": "not-a-live-access-token", "permission": "media.view"},
			}
			for _, node := range nodes {
				for name, q := range questions {
					want := name == "a member"
					if r := node.Must(t, 200, "POST", "/api/v1/check", secret, q); r.Body["allowed"] != want {
						t.Errorf("before the revocation, %s: %s", name, r.Raw)
					}
				}
			}
			nodes[len(nodes)-1].Must(t, 204, "DELETE", "/api/v1/check-tokens/"+created.String("id"), op, nil)
			for i, node := range nodes {
				refused := func(what string, r apitest.Response) {
					t.Helper()
					if r.Status != 401 || r.Code() != gatehouse.EUNAUTHENTICATED || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
						t.Errorf("node %d, a revoked check token asking %s: %d %s %q", i, what, r.Status, r.Raw, r.Header.Get("WWW-Authenticate"))
					}
				}
				for name, q := range questions {
					refused(name, node.Do(t, "POST", "/api/v1/check", secret, q))
				}
				refused("a batch", node.Do(t, "POST", "/api/v1/check/batch", secret, map[string]any{"checks": []any{questions["a member"]}}))
			}
		})
	}
}

// R-A3: the home folder must be reachable when chosen; when access goes
// later, the member lands in the first folder they reach.
func TestHomeFolder(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e, acct, admin := ts.e, "/api/v1/accounts/"+ts.c1, ts.tokens["c1-admin"]
			stores := e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": "Stores"}).String("id")
			east := e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": "East", "parent_id": stores}).String("id")
			west := e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": "West", "parent_id": stores}).String("id")

			// Without roles a new user reaches nothing yet.
			body := newUser("scoped@example.com", "client_user")
			body["roles"], body["home_folder_id"] = []string{}, west
			if r := e.Do(t, "POST", acct+"/users", admin, body); r.Status != 400 || r.Field() != "home_folder_id" {
				t.Errorf("unreachable home at add: %d %s", r.Status, r.Raw)
			}
			body = newUser("viewer@example.com", "client_user")
			body["home_folder_id"] = west
			if m := e.Must(t, 201, "POST", acct+"/users", admin, body); m.String("home_folder_id") != west {
				t.Errorf("home with an account-wide role: %s", m.Raw)
			}
			body["username"], body["home_folder_id"] = "other@example.com", "0190d7a0-0000-7000-8000-000000000000"
			if r := e.Do(t, "POST", acct+"/users", admin, body); r.Status != 400 || r.Field() != "home_folder_id" {
				t.Errorf("unknown home folder: %d %s", r.Status, r.Raw)
			}

			scoped := e.Must(t, 201, "POST", acct+"/users", admin, map[string]any{"username": "scoped@example.com", "first_name": "S",
				"last_name": "C", "level": "client_user", "roles": []string{}})
			memberURL := acct + "/users/" + scoped.String("id")
			if r := e.Do(t, "PATCH", memberURL, admin, map[string]any{"home_folder_id": west}); r.Status != 400 {
				t.Errorf("PATCH to an unreachable home: %d", r.Status)
			}
			grantEast := e.Must(t, 201, "POST", acct+"/folders/"+east+"/grants", admin, map[string]any{"user_id": scoped.String("user_id"), "role": "viewer"})
			grantWest := e.Must(t, 201, "POST", acct+"/folders/"+west+"/grants", admin, map[string]any{"user_id": scoped.String("user_id"), "role": "viewer"})
			if m := e.Must(t, 200, "PATCH", memberURL, admin, map[string]any{"home_folder_id": west}); m.String("home_folder_id") != west {
				t.Errorf("home after PATCH: %s", m.Raw)
			}
			// Access to West goes: the documented fallback is East, the first
			// folder they still reach.
			e.Must(t, 204, "DELETE", acct+"/folders/"+west+"/grants/"+grantWest.String("id"), admin, nil)
			if got := e.Must(t, 200, "GET", memberURL, admin, nil).String("home_folder_id"); got != east {
				t.Errorf("home after losing West: %q, want East", got)
			}
			e.Must(t, 204, "DELETE", acct+"/folders/"+east+"/grants/"+grantEast.String("id"), admin, nil)
			if got := e.Must(t, 200, "GET", memberURL, admin, nil).Body["home_folder_id"]; got != nil {
				t.Errorf("home with no access: %v", got)
			}
			// Given West back, the choice returns.
			e.Must(t, 201, "POST", acct+"/folders/"+west+"/grants", admin, map[string]any{"user_id": scoped.String("user_id"), "role": "viewer"})
			if got := e.Must(t, 200, "GET", memberURL, admin, nil).String("home_folder_id"); got != west {
				t.Errorf("home once West is back: %q", got)
			}
			// Cleared with null.
			if m := e.Must(t, 200, "PATCH", memberURL, admin, map[string]any{"home_folder_id": nil}); m.Body["home_folder_id"] != nil {
				t.Errorf("cleared home: %s", m.Raw)
			}
		})
	}
}

// The portal's "effective permissions": every permission with where it
// comes from; readable by administrators and the member themself.
func TestEffectivePermissions(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e, acct, admin := ts.e, "/api/v1/accounts/"+ts.c1, ts.tokens["c1-admin"]
			stores := e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": "Stores"}).String("id")
			m := addActive(t, e, ts.c1, "ann@example.com", "client_user", []string{"viewer"})
			group := e.Must(t, 201, "POST", acct+"/groups", admin, map[string]any{"name": "Guards", "roles": []string{"editor"}}).String("id")
			e.Must(t, 204, "POST", acct+"/groups/"+group+"/members", admin, map[string]any{"user_id": m.String("user_id")})
			e.Must(t, 201, "POST", acct+"/folders/"+stores+"/grants", admin, map[string]any{"user_id": m.String("user_id"), "role": "manager"})

			url := acct + "/users/" + m.String("id") + "/permissions"
			r := e.Must(t, 200, "GET", url, admin, nil)
			if fmt.Sprint(r.Body["account_wide"]) != "[media.view media.edit]" || r.Body["effective"] != true {
				t.Errorf("account-wide %v effective %v", r.Body["account_wide"], r.Body["effective"])
			}
			var got []string
			for _, s := range r.Body["sources"].([]any) {
				src := s.(map[string]any)
				got = append(got, fmt.Sprintf("%s via %s %s %v %v", src["permission"], src["via"], src["role"], src["group"], src["folder_path"]))
			}
			want := []string{
				"media.view via role viewer <nil> <nil>",
				"media.view via group_role editor Guards <nil>",
				"media.edit via group_role editor Guards <nil>",
				"media.view via grant manager <nil> /Stores",
				"media.edit via grant manager <nil> /Stores",
				"folders.manage via grant manager <nil> /Stores",
			}
			if !slices.Equal(got, want) {
				t.Errorf("sources\n got %q\nwant %q", got, want)
			}
			self := session(t, e, "ann@example.com")
			e.Must(t, 200, "GET", url, self, nil)
			other := addActive(t, e, ts.c1, "bob@example.com", "client_user", nil)
			if r := e.Do(t, "GET", acct+"/users/"+other.String("id")+"/permissions", self, nil); r.Status != 403 {
				t.Errorf("a client user read another's permissions: %d", r.Status)
			}
			if r := e.Do(t, "GET", url, ts.tokens["i2-admin"], nil); r.Status != 404 {
				t.Errorf("another tenant read permissions: %d", r.Status)
			}
		})
	}
}

// Members holding folders.manage on a folder manage the tree under it, and
// nowhere else (docs/permissions.md).
func TestFolderManagers(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e, acct, admin := ts.e, "/api/v1/accounts/"+ts.c1, ts.tokens["c1-admin"]
			stores := e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": "Stores"}).String("id")
			offices := e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": "Offices"}).String("id")
			m := addActive(t, e, ts.c1, "manager@example.com", "client_user", []string{})
			e.Must(t, 201, "POST", acct+"/folders/"+stores+"/grants", admin, map[string]any{"user_id": m.String("user_id"), "role": "manager"})
			token := session(t, e, "manager@example.com")
			sub := e.Must(t, 201, "POST", acct+"/folders", token, map[string]any{"name": "North", "parent_id": stores}).String("id")
			e.Must(t, 200, "PATCH", acct+"/folders/"+sub, token, map[string]any{"name": "Nord"})
			if r := e.Do(t, "POST", acct+"/folders", token, map[string]any{"name": "Top"}); r.Status != 403 {
				t.Errorf("created at the top without folders.manage there: %d", r.Status)
			}
			if r := e.Do(t, "POST", acct+"/folders", token, map[string]any{"name": "X", "parent_id": offices}); r.Status != 404 {
				t.Errorf("created under an unseen folder: %d", r.Status)
			}
			if r := e.Do(t, "PATCH", acct+"/folders/"+sub, token, map[string]any{"parent_id": offices}); r.Status != 404 {
				t.Errorf("moved out of their subtree: %d", r.Status)
			}
			e.Must(t, 204, "DELETE", acct+"/folders/"+sub, token, nil)
		})
	}
}

// A change made through one node is seen by the next check on the other
// (R-A5 across nodes: each node caches models and follows the version).
func TestChecksSeeChangesOnEveryNode(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		if b.Name != "postgres" {
			continue // SQLite serves one node
		}
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			a := ts.e
			other := secondNode(t, a)
			acct, admin := "/api/v1/accounts/"+ts.c1, ts.tokens["c1-admin"]
			folder := a.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": "Stores"}).String("id")
			user := addActive(t, a, ts.c1, "ann@example.com", "client_user", []string{}).String("user_id")
			askA, askB := asker(t, a), asker(t, other)
			for round := range 5 {
				// Warm both caches, then change through one node and ask the other.
				askA(user, ts.c1, "media.view", folder)
				askB(user, ts.c1, "media.view", folder)
				grant := other.Must(t, 201, "POST", acct+"/folders/"+folder+"/grants", admin, map[string]any{"user_id": user, "role": "viewer"})
				if !askA(user, ts.c1, "media.view", folder) {
					t.Fatalf("round %d: node A missed a grant made on node B", round)
				}
				a.Must(t, 204, "DELETE", acct+"/folders/"+folder+"/grants/"+grant.String("id"), admin, nil)
				if askB(user, ts.c1, "media.view", folder) {
					t.Fatalf("round %d: node B missed a revocation made on node A", round)
				}
			}
		})
	}
}

// Two moves that would make a cycle together, sent at once over both nodes:
// at most one succeeds and the tree stays a tree. A role deleted while it is
// being granted is either deleted with no grant of it left, or kept with its
// grant (R-A1, R-A2 under concurrency).
func TestAccessRulesUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e, acct, admin := ts.e, "/api/v1/accounts/"+ts.c1, ts.tokens["c1-admin"]
			nodes := nodesOf(t, b, e)
			user := addActive(t, e, ts.c1, "ann@example.com", "client_user", []string{}).String("user_id")
			for round := range 8 {
				a := e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": fmt.Sprint("A", round)}).String("id")
				b := e.Must(t, 201, "POST", acct+"/folders", admin, map[string]any{"name": fmt.Sprint("B", round)}).String("id")
				moves := [][2]string{{a, b}, {b, a}}
				count := race(nodes, 2, func(node *apitest.Env, i int) int {
					return node.Do(t, "PATCH", acct+"/folders/"+moves[i][0], admin, map[string]any{"parent_id": moves[i][1]}).Status
				})
				if count[200] != 1 || count[400] != 1 {
					t.Fatalf("round %d: crossed moves answered %v, want one 200 and one 400", round, count)
				}
				for _, id := range []string{a, b} {
					path := e.Must(t, 200, "GET", acct+"/folders/"+id, admin, nil).String("path")
					if strings.Count(path, "/") > 2 {
						t.Fatalf("round %d: path %q after crossed moves", round, path)
					}
				}

				role := e.Must(t, 201, "POST", acct+"/roles", admin, map[string]any{"name": fmt.Sprint("R", round), "permissions": []string{"cameras.view"}}).String("id")
				count = race(nodes, 2, func(node *apitest.Env, i int) int {
					if i == 0 {
						return node.Do(t, "DELETE", acct+"/roles/"+role, admin, nil).Status
					}
					return node.Do(t, "POST", acct+"/folders/"+a+"/grants", admin, map[string]any{"user_id": user, "role": role}).Status
				})
				grants := e.Must(t, 200, "GET", acct+"/folders/"+a+"/grants", admin, nil).Items()
				roleGone := e.Do(t, "GET", acct+"/roles/"+role, admin, nil).Status == 404
				switch {
				case count[204] == 1 && count[400] == 1: // deleted first; the grant found no role
					if !roleGone || len(grants) != 0 {
						t.Fatalf("round %d: role gone %v, grants %v", round, roleGone, grants)
					}
				case count[201] == 1 && count[409] == 1: // granted first; the delete found it in use
					if roleGone || len(grants) != 1 {
						t.Fatalf("round %d: role gone %v, grants %v", round, roleGone, grants)
					}
				default:
					t.Fatalf("round %d: delete and grant answered %v", round, count)
				}

				// The same with a person added with the role: an add takes the
				// account's lock before it reads the role, which a delete takes too.
				role = e.Must(t, 201, "POST", acct+"/roles", admin, map[string]any{"name": fmt.Sprint("S", round), "permissions": []string{"cameras.view"}}).String("id")
				username := fmt.Sprintf("s%d@example.com", round)
				count = race(nodes, 2, func(node *apitest.Env, i int) int {
					if i == 0 {
						return node.Do(t, "DELETE", acct+"/roles/"+role, admin, nil).Status
					}
					return node.Do(t, "POST", acct+"/users", admin, map[string]any{"username": username, "first_name": "S", "last_name": "R",
						"level": "client_user", "roles": []string{role}}).Status
				})
				roleGone = e.Do(t, "GET", acct+"/roles/"+role, admin, nil).Status == 404
				var added []map[string]any
				for _, u := range e.Must(t, 200, "GET", acct+"/users?limit=100", admin, nil).Items() {
					if u["username"] == username {
						added = append(added, u)
					}
				}
				switch {
				case count[204] == 1 && count[400] == 1: // deleted first; the add found no role
					if !roleGone || len(added) != 0 {
						t.Fatalf("round %d: role gone %v, added %v", round, roleGone, added)
					}
				case count[201] == 1 && count[409] == 1: // added first; the delete found it in use
					if roleGone || len(added) != 1 {
						t.Fatalf("round %d: role gone %v, added %v", round, roleGone, added)
					}
				default:
					t.Fatalf("round %d: delete and add answered %v", round, count)
				}
			}
		})
	}
}
