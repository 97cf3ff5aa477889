package httpapi_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// refused checks a 400 validation_failed naming field, the contract's
// error answer.
func refused(t *testing.T, r apitest.Response, field, what string) {
	t.Helper()
	if r.Status != 400 || r.Code() != "validation_failed" || r.Field() != field {
		t.Errorf("%s: %d %s, want 400 validation_failed on %s", what, r.Status, r.Raw, field)
	}
}

// One person, whatever the spelling of their address: full-width letters
// (a phone keyboard in Japanese mode), another case, name the identity
// made first, on another account too; the person signs in with either.
func TestLookAlikeUsernamesAreOneIdentity(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site1 := e.CreateAccount(t, "client", "Store 1", in)
			site2 := e.CreateAccount(t, "client", "Store 2", in)
			first := addActive(t, e, site1, "zoe@example.com", "client_user", nil)
			again := e.Must(t, 201, "POST", "/api/v1/accounts/"+site2+"/users", op, newUser("ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "client_user"))
			if again.String("user_id") != first.String("user_id") {
				t.Errorf("a full-width spelling made a second identity: %s", again.Raw)
			}
			dup := e.Do(t, "POST", "/api/v1/accounts/"+site1+"/users", op, newUser("ＺＯＥ@Example.COM", "client_user"))
			if dup.Status != 409 || dup.Code() != "already_member" {
				t.Errorf("the same person added twice to one account: %d %s", dup.Status, dup.Raw)
			}
			if s := signIn(e, t, "ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", goodPassword); s.Status != 201 {
				t.Errorf("sign-in with the full-width spelling: %d %s", s.Status, s.Raw)
			}
		})
	}
}

// Usernames that show as less than they hold (zero-width characters, a
// soft hyphen in the domain), that mix alphabets to pass for another
// address ("pаypal" with a Cyrillic а), or that hold bidirectional
// controls are refused when a person is added and when a username
// changes, and nothing is made; names with bidirectional controls too.
func TestDeceptiveUsernamesAndNamesAreRefused(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Store", in)
			for _, u := range []string{"ann\u200b@example.com", "ann@exam\u00adple.com", "\ufeffann@example.com",
				"p\u0430ypal@example.com", "ann\u202e@example.com", "ann\u2066@example.com"} {
				refused(t, e.Do(t, "POST", "/api/v1/accounts/"+site+"/users", op, newUser(u, "client_user")), "username", "adding "+u)
			}
			for _, field := range []string{"first_name", "last_name"} {
				body := newUser("bob@example.com", "client_user")
				body[field] = "Bob\u202eLee"
				refused(t, e.Do(t, "POST", "/api/v1/accounts/"+site+"/users", op, body), field, "a "+field+" with a bidi control")
			}
			if items := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/users", op, nil).Items(); len(items) != 0 {
				t.Errorf("refused additions made %d users", len(items))
			}
			ann := addActive(t, e, site, "ann@example.com", "client_user", nil).String("user_id")
			for _, u := range []string{"ann\u200d@example.com", "\u0430nn@example.com"} {
				refused(t, e.Do(t, "PATCH", "/api/v1/users/"+ann, op, map[string]string{"username": u}), "username", "renaming to "+u)
			}
			refused(t, e.Do(t, "PATCH", "/api/v1/users/"+ann, op, map[string]string{"last_name": "Lee\u200f"}), "last_name", "a last name with a bidi mark")
		})
	}
}
