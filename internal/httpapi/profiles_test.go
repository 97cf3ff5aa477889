package httpapi_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The username of an identity changes only once it is activated, and only
// to a free one (R-U4, R-U1); the person or an administrator over them may
// change it, others may not (R-P2), and client users, who see no other
// users, get the answer of an unknown id (R-X2).
func TestUsernameChange(t *testing.T) {
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
			got := e.Must(t, 200, "PATCH", "/api/v1/users/"+ann.ID, self, map[string]string{"username": "Ann.Lee@example.com", "language": "fr"})
			if got.String("username") != "Ann.Lee@example.com" || got.String("language") != "fr" {
				t.Errorf("self rename: %s", got.Raw)
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
			if r := e.Do(t, "PATCH", "/api/v1/users/"+ann.ID, self, map[string]any{"username": []string{"a@example.com"}}); r.Status != 400 || r.Field() != "username" {
				t.Errorf("an array for the username: %d %s", r.Status, r.Raw)
			}
		})
	}
}
