package httpapi_test

import (
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// activeUser adds a username to the account with level and activates it.
func activeUser(t *testing.T, e *apitest.Env, accountID, username, level string) string {
	t.Helper()
	return addActive(t, e, accountID, username, level, nil).String("id")
}

func code(t *testing.T, e *apitest.Env, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func signIn(e *apitest.Env, t *testing.T, username, password string) apitest.Response {
	return e.Do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": username, "password": password})
}

// Password sign-in for a client user; the session reaches their account and
// /me lists their accounts; sign-out ends it (R-S1, R-S4, R-M6).
func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site1 := e.CreateAccount(t, "client", "Lyon Store", in)
			site2 := e.CreateAccount(t, "client", "Paris Store", in)
			activeUser(t, e, site1, "viewer@example.com", "client_user")
			e.Must(t, 201, "POST", "/api/v1/accounts/"+site2+"/users", op, newUser("viewer@example.com", "client_user"))

			s := signIn(e, t, "Viewer@Example.com", goodPassword)
			if s.Status != 201 || s.String("token") == "" || s.String("expires_at") == "" {
				t.Fatalf("sign-in: %d %s", s.Status, s.Raw)
			}
			token := s.String("token")
			me := e.Must(t, 200, "GET", "/api/v1/me", token, nil)
			user, _ := me.Body["user"].(map[string]any)
			memberships, _ := me.Body["memberships"].([]any)
			if user["username"] != "viewer@example.com" || user["mfa_enabled"] != false || len(memberships) != 2 {
				t.Fatalf("/me: %s", me.Raw)
			}
			first := memberships[0].(map[string]any)
			if first["account_name"] != "Lyon Store" || first["account_kind"] != "client" || first["level"] != "client_user" || first["status"] != "active" {
				t.Errorf("account switcher entry %v", first)
			}
			e.Must(t, 200, "GET", "/api/v1/accounts/"+site1, token, nil)
			e.Must(t, 404, "GET", "/api/v1/accounts/"+in, token, nil)

			e.Must(t, 204, "DELETE", "/api/v1/sessions/current", token, nil)
			if r := e.Do(t, "GET", "/api/v1/me", token, nil); r.Status != 401 {
				t.Errorf("after sign-out: %d", r.Status)
			}
		})
	}
}

// Wrong password, unknown username and a never-activated identity get the
// same answer (R-S3: no user enumeration).
func TestSignInRefusalsLookAlike(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Site", in)
	activeUser(t, e, site, "known@example.com", "client_user")
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("pending@example.com", "client_user"))
	var bodies []string
	for _, c := range [][2]string{{"known@example.com", "wrong password here"}, {"nobody@example.com", goodPassword}, {"pending@example.com", goodPassword}} {
		r := signIn(e, t, c[0], c[1])
		if r.Status != 401 || r.Code() != "unauthenticated" {
			t.Errorf("%s: %d %s", c[0], r.Status, r.Raw)
		}
		bodies = append(bodies, string(r.Raw))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Errorf("refusals differ:\n%s", bodies)
	}
}

// Administrators enroll an authenticator at their first sign-in and use it
// from then on; a code works once; a wrong code ends the challenge
// (R-P4, R-S2, the API reference at /api/docs).
func TestAdministratorMFA(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Site", in)
			activeUser(t, e, site, "boss@example.com", "client_admin")

			enroll := signIn(e, t, "boss@example.com", goodPassword)
			if enroll.Status != 200 || enroll.Body["mfa_enrollment_required"] != true || enroll.String("totp_secret") == "" {
				t.Fatalf("first admin sign-in: %d %s", enroll.Status, enroll.Raw)
			}
			if uri := enroll.String("otpauth_uri"); len(uri) < 15 || uri[:15] != "otpauth://totp/" {
				t.Errorf("otpauth URI %q", uri)
			}
			secret := enroll.String("totp_secret")
			if r := e.Do(t, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": enroll.String("challenge"), "code": "000000"}); r.Status != 401 {
				t.Errorf("wrong enrollment code: %d", r.Status)
			}
			// The wrong code used up that challenge; sign in again.
			enroll = signIn(e, t, "boss@example.com", goodPassword)
			if enroll.Body["mfa_enrollment_required"] != true {
				t.Fatalf("enrollment not required again after a failed one: %s", enroll.Raw)
			}
			secret = enroll.String("totp_secret")
			now := e.Clock.Now()
			c := code(t, e, secret, now)
			s := e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": enroll.String("challenge"), "code": c})
			me := e.Must(t, 200, "GET", "/api/v1/me", s.String("token"), nil)
			if me.Body["user"].(map[string]any)["mfa_enabled"] != true {
				t.Errorf("mfa_enabled false after enrollment")
			}

			// From now on: a challenge, not an enrollment; the same code is refused.
			again := signIn(e, t, "boss@example.com", goodPassword)
			if again.Status != 200 || again.Body["mfa_required"] != true || again.String("totp_secret") != "" {
				t.Fatalf("second sign-in: %s", again.Raw)
			}
			if methods, _ := again.Body["methods"].([]any); len(methods) != 1 || methods[0] != "totp" {
				t.Errorf("methods %v", again.Body["methods"])
			}
			if r := e.Do(t, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": again.String("challenge"), "code": c}); r.Status != 401 {
				t.Errorf("replayed code: %d %s", r.Status, r.Raw)
			}
			e.Clock.Advance(30 * time.Second)
			again = signIn(e, t, "boss@example.com", goodPassword)
			ok := e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": again.String("challenge"), "code": code(t, e, secret, e.Clock.Now())})
			if ok.String("token") == "" {
				t.Errorf("no session after the next code")
			}
			// A challenge is good for five minutes.
			late := signIn(e, t, "boss@example.com", goodPassword)
			e.Clock.Advance(6 * time.Minute)
			if r := e.Do(t, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": late.String("challenge"), "code": code(t, e, secret, e.Clock.Now())}); r.Status != 401 {
				t.Errorf("expired challenge: %d", r.Status)
			}
		})
	}
}

// Sessions end after an hour unused or twelve hours in all, and a removed
// membership stops working at once for every session (R-S4, R-M7).
func TestSessionLimitsAndRemoval(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Site", in)
	membership := activeUser(t, e, site, "worker@example.com", "client_user")
	token := signIn(e, t, "worker@example.com", goodPassword).String("token")

	for range 14 { // 14 × 55 min > 12 h
		e.Clock.Advance(55 * time.Minute)
		if e.Do(t, "GET", "/api/v1/accounts/"+site, token, nil).Status != 200 {
			break
		}
	}
	if r := e.Do(t, "GET", "/api/v1/me", token, nil); r.Status != 401 {
		t.Errorf("a session used every 55 minutes still works after 12 hours: %d", r.Status)
	}
	idle := signIn(e, t, "worker@example.com", goodPassword).String("token")
	e.Clock.Advance(61 * time.Minute)
	if r := e.Do(t, "GET", "/api/v1/me", idle, nil); r.Status != 401 {
		t.Errorf("a session idle for 61 minutes: %d", r.Status)
	}

	fresh := signIn(e, t, "worker@example.com", goodPassword).String("token")
	e.Must(t, 200, "GET", "/api/v1/accounts/"+site, fresh, nil)
	e.Must(t, 204, "DELETE", "/api/v1/accounts/"+site+"/users/"+membership, op, nil)
	if r := e.Do(t, "GET", "/api/v1/accounts/"+site, fresh, nil); r.Status != 404 {
		t.Errorf("the session still reaches the account after removal: %d", r.Status)
	}
}

// Users who are not administrators may enroll an authenticator of their own
// accord; from then on their sign-in asks for a code (R-S2).
func TestOptionalMFAForUsers(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Site", in)
			activeUser(t, e, site, "careful@example.com", "client_user")
			token := signIn(e, t, "careful@example.com", goodPassword).String("token")

			start := e.Must(t, 200, "POST", "/api/v1/me/mfa/totp", token, nil)
			secret := start.String("totp_secret")
			if r := e.Do(t, "POST", "/api/v1/me/mfa/totp/confirm", token, map[string]string{"challenge": start.String("challenge"), "code": "12345"}); r.Status != 401 {
				t.Errorf("malformed code: %d", r.Status)
			}
			if r := signIn(e, t, "careful@example.com", goodPassword); r.Status != 201 {
				t.Errorf("a failed enrollment changed sign-in: %d %s", r.Status, r.Raw)
			}
			start = e.Must(t, 200, "POST", "/api/v1/me/mfa/totp", token, nil)
			secret = start.String("totp_secret")
			// Another person's session cannot confirm this challenge.
			activeUser(t, e, site, "other@example.com", "client_user")
			other := signIn(e, t, "other@example.com", goodPassword).String("token")
			if r := e.Do(t, "POST", "/api/v1/me/mfa/totp/confirm", other, map[string]string{"challenge": start.String("challenge"), "code": code(t, e, secret, e.Clock.Now())}); r.Status != 401 {
				t.Errorf("someone else's challenge: %d", r.Status)
			}
			start = e.Must(t, 200, "POST", "/api/v1/me/mfa/totp", token, nil)
			secret = start.String("totp_secret")
			e.Must(t, 204, "POST", "/api/v1/me/mfa/totp/confirm", token, map[string]string{"challenge": start.String("challenge"), "code": code(t, e, secret, e.Clock.Now())})
			if r := signIn(e, t, "careful@example.com", goodPassword); r.Status != 200 || r.Body["mfa_required"] != true {
				t.Errorf("sign-in after enrolling: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/me/mfa/totp", apitest.OperatorToken, nil); r.Status != 403 {
				t.Errorf("enrollment with a non-session token: %d", r.Status)
			}
		})
	}
}
