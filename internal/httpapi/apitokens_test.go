package httpapi_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// adminSession signs an administrator in, enrolling their authenticator.
func adminSession(t *testing.T, e *apitest.Env, username string) string {
	t.Helper()
	enroll := signIn(e, t, username, goodPassword)
	if enroll.Body["mfa_enrollment_required"] != true {
		t.Fatalf("sign-in of %s: %s", username, enroll.Raw)
	}
	c := code(t, e, enroll.String("totp_secret"), e.Clock.Now())
	return e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": enroll.String("challenge"), "code": c}).String("token")
}

// R-S4: personal API tokens for one account, limited to the scopes
// chosen, shown once and stored as a hash, listed with their last use,
// revoked at once, and dead with the membership (R-M7).
func TestPersonalAPITokens(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			c1, c2 := "/api/v1/accounts/"+ts.c1, "/api/v1/accounts/"+ts.c2
			boss := addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil)
			viewer := addActive(t, e, ts.c1, "viewer@example.com", "client_user", nil).String("user_id")
			bossSession := adminSession(t, e, "boss@example.com")

			for _, bad := range []map[string]any{
				{"name": "x", "scopes": []string{}},
				{"name": "x", "scopes": []string{"users:delete"}},
				{"name": "", "scopes": []string{"users:read"}},
			} {
				if r := e.Do(t, "POST", c1+"/api-tokens", bossSession, bad); r.Status != 400 {
					t.Errorf("token %v: %d %s", bad, r.Status, r.Raw)
				}
			}
			if r := e.Do(t, "POST", c2+"/api-tokens", bossSession, map[string]any{"name": "x", "scopes": []string{"users:read"}}); r.Status != 404 {
				t.Errorf("a token for another tenant's account: %d", r.Status)
			}
			// Integrator staff make tokens for the integrator, which reach its
			// clients; not for a client they are no user of.
			addActive(t, e, ts.i1, "staff@example.com", "integrator_user", nil)
			staff := session(t, e, "staff@example.com")
			if r := e.Do(t, "POST", c1+"/api-tokens", staff, map[string]any{"name": "x", "scopes": []string{"users:read"}}); r.Status != 403 {
				t.Errorf("a staff token for a client: %d %s", r.Status, r.Raw)
			}
			staffToken := e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.i1+"/api-tokens", staff, map[string]any{"name": "x", "scopes": []string{"users:read"}}).String("token")
			e.Must(t, 200, "GET", c1+"/users", staffToken, nil)
			reader := e.Must(t, 201, "POST", c1+"/api-tokens", bossSession, map[string]any{"name": "HR sync", "scopes": []string{"users:read"}})
			secret := reader.String("token")
			if len(secret) < 40 || secret[:7] != "gh_api_" {
				t.Fatalf("token %q", secret)
			}
			// What the scope allows, and nothing more than it or than its owner.
			e.Must(t, 200, "GET", c1+"/users", secret, nil)
			// Reading a photo needs users:read; setting one users:write.
			photo := "/api/v1/users/" + viewer + "/photo"
			if r := e.Do(t, "GET", photo, secret, nil); r.Status != 404 || r.Code() != "not_found" {
				t.Errorf("a users:read token reading a photo there is none of: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "PUT", photo, secret, "not an image"); r.Status != 403 {
				t.Errorf("a users:read token setting a photo: %d", r.Status)
			}
			for _, r := range []struct{ method, path string }{
				{"POST", c1 + "/users"}, {"GET", c1 + "/audit-events"}, {"GET", "/api/v1/accounts"},
				{"PATCH", c1}, {"POST", c1 + "/api-tokens"},
			} {
				if got := e.Do(t, r.method, r.path, secret, map[string]any{"name": "x", "scopes": []string{"check"}, "username": "new@example.com",
					"first_name": "N", "last_name": "U", "level": "client_user"}); got.Status != 403 {
					t.Errorf("%s %s with a users:read token: %d", r.method, r.path, got.Status)
				}
			}
			if r := e.Do(t, "GET", c2+"/users", secret, nil); r.Status != 404 {
				t.Errorf("another account through the token: %d", r.Status)
			}

			// A check token of one's own: questions about the account only.
			checker := e.Must(t, 201, "POST", c1+"/api-tokens", bossSession, map[string]any{"name": "signage", "scopes": []string{"check"}}).String("token")
			ask := func(account string) any {
				return e.Must(t, 200, "POST", "/api/v1/check", checker, map[string]string{"user_id": viewer, "account_id": account, "permission": "media.view"}).Body["allowed"]
			}
			if ask(ts.c1) != true || ask(ts.c2) != false {
				t.Errorf("checks by a check-scoped token: %v %v", ask(ts.c1), ask(ts.c2))
			}
			if r := e.Do(t, "POST", "/api/v1/check", secret, map[string]string{"user_id": viewer, "account_id": ts.c1, "permission": "media.view"}); r.Status != 403 {
				t.Errorf("a check by a token without the check scope: %d", r.Status)
			}

			listed := e.Must(t, 200, "GET", c1+"/api-tokens", bossSession, nil).Items()
			if len(listed) != 2 || listed[0]["token"] != nil || listed[1]["name"] != "HR sync" || listed[1]["last_used_at"] == nil {
				t.Errorf("listed %v", listed)
			}
			e.Must(t, 204, "DELETE", c1+"/api-tokens/"+reader.String("id"), bossSession, nil)
			if r := e.Do(t, "GET", c1+"/users", secret, nil); r.Status != 401 {
				t.Errorf("a revoked token: %d", r.Status)
			}
			// The membership ends, and the token with it.
			if r := e.Do(t, "GET", c1, checker, nil); r.Status != 403 {
				t.Errorf("a check-scoped token read its account: %d", r.Status)
			}
			e.Must(t, 204, "DELETE", c1+"/users/"+boss.String("id"), op, nil)
			if r := e.Do(t, "GET", c1, checker, nil); r.Status != 401 {
				t.Errorf("the token of a removed member still authenticates: %d", r.Status)
			}
			if r := e.Do(t, "POST", "/api/v1/check", checker, map[string]string{"user_id": viewer, "account_id": ts.c1, "permission": "media.view"}); r.Status != 401 {
				t.Errorf("the token of a removed member still asks checks: %d", r.Status)
			}
		})
	}
}
