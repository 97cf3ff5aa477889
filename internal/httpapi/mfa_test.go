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

var smsCode = regexp.MustCompile(`\b(\d{6})\b`)

// texts delivers the queue and returns the codes texted to phone, oldest
// first.
func texts(t *testing.T, e *apitest.Env, phone string) []string {
	t.Helper()
	var codes []string
	for _, m := range e.Mail(t) {
		if m.Channel != gatehouse.ChannelSMS || m.To != phone {
			continue
		}
		match := smsCode.FindStringSubmatch(m.Body)
		if match == nil {
			t.Fatalf("an SMS without a 6-digit code: %q", m.Body)
		}
		codes = append(codes, match[1])
	}
	return codes
}

func lastText(t *testing.T, e *apitest.Env, phone string) string {
	t.Helper()
	codes := texts(t, e, phone)
	if len(codes) == 0 {
		t.Fatalf("no SMS to %s", phone)
	}
	return codes[len(codes)-1]
}

func answer(t *testing.T, e *apitest.Env, challenge, code string) apitest.Response {
	t.Helper()
	return e.Do(t, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": challenge, "code": code})
}

// R-S2, R-N2: a person chooses SMS as their second factor by confirming a
// code texted to their profile phone; from then on every sign-in texts a
// 6-digit code that works once, for five minutes; a wrong answer uses up
// the challenge; resends are throttled and the old code dies with them.
func TestSMSSecondFactor(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			phone := "+33612345678"
			ann := addActive(t, e, ts.c1, "ann@example.com", "client_user", nil).String("user_id")
			self := session(t, e, "ann@example.com")
			if r := e.Do(t, "POST", "/api/v1/me/mfa/sms", self, nil); r.Status != 400 || r.Field() != "phone" {
				t.Errorf("SMS without a phone: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 200, "PATCH", "/api/v1/users/"+ann, self, map[string]string{"phone": "+33 6 12 34 56 78"})

			start := e.Must(t, 200, "POST", "/api/v1/me/mfa/sms", self, nil)
			if start.String("phone") != phone {
				t.Errorf("enrollment texted %q", start.String("phone"))
			}
			code := lastText(t, e, phone)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			confirm := func(challenge, c string) int {
				return e.Do(t, "POST", "/api/v1/me/mfa/sms/confirm", self, map[string]string{"challenge": challenge, "code": c}).Status
			}
			if s := confirm(start.String("challenge"), wrong); s != 401 {
				t.Errorf("wrong enrollment code: %d", s)
			}
			if s := confirm(start.String("challenge"), code); s != 401 {
				t.Errorf("the right code after a wrong one on the same challenge: %d, want 401", s)
			}
			start = e.Must(t, 200, "POST", "/api/v1/me/mfa/sms", self, nil)
			if s := confirm(start.String("challenge"), lastText(t, e, phone)); s != 204 {
				t.Fatalf("confirming SMS: %d", s)
			}
			me := e.Must(t, 200, "GET", "/api/v1/me", self, nil).Body["user"].(map[string]any)
			if me["mfa_method"] != "sms" || me["mfa_enabled"] != true {
				t.Errorf("after choosing SMS: %v", me)
			}

			in := signIn(e, t, "ann@example.com", goodPassword)
			if in.Status != 200 || in.Body["mfa_required"] != true || in.Body["sms_sent"] != true {
				t.Fatalf("sign-in with SMS: %d %s", in.Status, in.Raw)
			}
			if methods, _ := in.Body["methods"].([]any); len(methods) != 1 || methods[0] != "sms" {
				t.Errorf("methods %v", in.Body["methods"])
			}
			first := lastText(t, e, phone)
			resend := func(challenge string) apitest.Response {
				return e.Do(t, "POST", "/api/v1/sessions/mfa/resend", "", map[string]string{"challenge": challenge})
			}
			if r := resend(in.String("challenge")); r.Status != 429 || r.Code() != "rate_limited" {
				t.Errorf("resend at once: %d %s", r.Status, r.Raw)
			}
			e.Clock.Advance(31 * time.Second)
			e.Must(t, 200, "POST", "/api/v1/sessions/mfa/resend", "", map[string]string{"challenge": in.String("challenge")})
			second := lastText(t, e, phone)
			if first != second {
				if r := answer(t, e, in.String("challenge"), first); r.Status != 401 {
					t.Errorf("the code a resend replaced: %d", r.Status)
				}
				in = signIn(e, t, "ann@example.com", goodPassword)
				second = lastText(t, e, phone)
			}
			s := answer(t, e, in.String("challenge"), second)
			if s.Status != 201 || s.String("token") == "" {
				t.Fatalf("the texted code: %d %s", s.Status, s.Raw)
			}
			if r := answer(t, e, in.String("challenge"), second); r.Status != 401 {
				t.Errorf("the code used twice: %d", r.Status)
			}

			// Five texts per challenge, 30 seconds apart.
			in = signIn(e, t, "ann@example.com", goodPassword)
			for i := 2; i <= 5; i++ {
				e.Clock.Advance(31 * time.Second)
				e.Must(t, 200, "POST", "/api/v1/sessions/mfa/resend", "", map[string]string{"challenge": in.String("challenge")})
			}
			e.Clock.Advance(31 * time.Second)
			if r := resend(in.String("challenge")); r.Status != 429 {
				t.Errorf("a sixth text: %d %s", r.Status, r.Raw)
			}
			if n := len(texts(t, e, phone)); n != 5 {
				t.Errorf("%d texts for one challenge, want 5", n)
			}
			// A code is good for five minutes.
			in = signIn(e, t, "ann@example.com", goodPassword)
			late := lastText(t, e, phone)
			e.Clock.Advance(5*time.Minute + time.Second)
			if r := answer(t, e, in.String("challenge"), late); r.Status != 401 {
				t.Errorf("a code after five minutes: %d", r.Status)
			}

			// Changing the profile's phone does not move the codes,
			// whoever changes it; only a code typed back from the new number
			// does.
			other := "+33698765432"
			e.Must(t, 200, "PATCH", "/api/v1/users/"+ann, op, map[string]string{"phone": other})
			in = signIn(e, t, "ann@example.com", goodPassword)
			if n := len(texts(t, e, other)); n != 0 {
				t.Errorf("%d codes went to a number nobody proved", n)
			}
			self = signInWithText(t, e, "ann@example.com", phone)
			start = e.Must(t, 200, "POST", "/api/v1/me/mfa/sms", self, nil)
			if start.String("phone") != other {
				t.Errorf("choosing SMS again texted %q", start.String("phone"))
			}
			e.Must(t, 204, "POST", "/api/v1/me/mfa/sms/confirm", self, map[string]string{"challenge": start.String("challenge"), "code": lastText(t, e, other)})
			self = signInWithText(t, e, "ann@example.com", other)
			e.Must(t, 204, "DELETE", "/api/v1/me/mfa", self, nil)
			if r := signIn(e, t, "ann@example.com", goodPassword); r.Status != 201 {
				t.Errorf("sign-in after turning MFA off: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func signInWithText(t *testing.T, e *apitest.Env, username, phone string) string {
	t.Helper()
	in := signIn(e, t, username, goodPassword)
	return e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": in.String("challenge"),
		"code": lastText(t, e, phone)}).String("token")
}

// R-P4, R-S2: administrators may switch between authenticator and SMS but
// never turn the second factor off; ten recovery codes, shown once, each
// answer one challenge once, typed with or without the dash.
func TestAdministratorsKeepASecondFactorAndRecoveryCodes(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			boss := addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil).String("user_id")
			self := adminSession(t, e, "boss@example.com")
			if r := e.Do(t, "DELETE", "/api/v1/me/mfa", self, nil); r.Status != 409 || r.Code() != "mfa_required" {
				t.Errorf("an administrator turning MFA off: %d %s", r.Status, r.Raw)
			}

			codes := e.Must(t, 201, "POST", "/api/v1/me/mfa/recovery-codes", self, nil)
			list, _ := codes.Body["codes"].([]any)
			seen := map[string]bool{}
			shape := regexp.MustCompile(`^[a-z2-9]{5}-[a-z2-9]{5}$`)
			for _, c := range list {
				s, _ := c.(string)
				if !shape.MatchString(s) || seen[s] {
					t.Errorf("recovery code %q", s)
				}
				seen[s] = true
			}
			if len(list) != 10 {
				t.Fatalf("%d recovery codes, want 10", len(list))
			}
			in := signIn(e, t, "boss@example.com", goodPassword)
			if methods, _ := in.Body["methods"].([]any); len(methods) != 2 || methods[0] != "totp" || methods[1] != "recovery_code" {
				t.Errorf("methods with recovery codes: %v", in.Body["methods"])
			}
			e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": in.String("challenge"), "code": list[0].(string)})
			in = signIn(e, t, "boss@example.com", goodPassword)
			if r := answer(t, e, in.String("challenge"), list[0].(string)); r.Status != 401 {
				t.Errorf("a recovery code used twice: %d", r.Status)
			}
			in = signIn(e, t, "boss@example.com", goodPassword)
			typed := strings.ToUpper(strings.ReplaceAll(list[1].(string), "-", ""))
			e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": in.String("challenge"), "code": typed})
			me := e.Must(t, 200, "GET", "/api/v1/me", self, nil).Body["user"].(map[string]any)
			if me["recovery_codes_left"] != float64(8) {
				t.Errorf("recovery codes left: %v", me["recovery_codes_left"])
			}
			// New codes replace the old ones.
			e.Must(t, 201, "POST", "/api/v1/me/mfa/recovery-codes", self, nil)
			in = signIn(e, t, "boss@example.com", goodPassword)
			if r := answer(t, e, in.String("challenge"), list[2].(string)); r.Status != 401 {
				t.Errorf("an old recovery code after new ones were made: %d", r.Status)
			}

			// Switching to SMS: the authenticator stops being asked for.
			phone := "+14155550123"
			e.Must(t, 200, "PATCH", "/api/v1/users/"+boss, self, map[string]string{"phone": phone})
			start := e.Must(t, 200, "POST", "/api/v1/me/mfa/sms", self, nil)
			e.Must(t, 204, "POST", "/api/v1/me/mfa/sms/confirm", self, map[string]string{"challenge": start.String("challenge"), "code": lastText(t, e, phone)})
			in = signIn(e, t, "boss@example.com", goodPassword)
			if methods, _ := in.Body["methods"].([]any); len(methods) == 0 || methods[0] != "sms" {
				t.Errorf("methods after switching to SMS: %v", in.Body["methods"])
			}
			e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": in.String("challenge"), "code": lastText(t, e, phone)})
			if r := e.Do(t, "DELETE", "/api/v1/me/mfa", self, nil); r.Status != 409 {
				t.Errorf("an administrator with SMS turning MFA off: %d", r.Status)
			}
			for _, action := range []string{"mfa.sms_enrolled", "mfa.recovery_codes_created", "mfa.recovery_code_used", "session.code_refused"} {
				if auditCount(t, e, action) == 0 {
					t.Errorf("no %s audit event", action)
				}
			}
		})
	}
}

// An administrator adding a user may require a second factor of
// them; the user then enrolls one at the next sign-in and cannot turn it
// off, like administrators (R-P4). It only adds protection, so it holds for
// an identity added again elsewhere too.
func TestRequiredSecondFactor(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "guard@example.com", "client_user", nil)
			if r := signIn(e, t, "guard@example.com", goodPassword); r.Status != 201 {
				t.Fatalf("a user without the requirement: %d %s", r.Status, r.Raw)
			}
			again := newUser("guard@example.com", "client_user")
			again["mfa_required"] = true
			e.Must(t, 201, "POST", "/api/v1/accounts/"+ts.c1b+"/users", ts.tokens["i1-user"], again)
			self := adminSession(t, e, "guard@example.com") // enrollment is asked now
			if r := e.Do(t, "DELETE", "/api/v1/me/mfa", self, nil); r.Status != 409 || r.Code() != "mfa_required" {
				t.Errorf("turning a required factor off: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// A text's code names the product as the person's brand does: a client
// user of an integrator with a brand reads its product's name, in their
// language, and a person of another integrator the platform's.
func TestSMSCodeNamesTheBrand(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			e.Must(t, 200, "PUT", "/api/v1/accounts/"+ts.i1+"/brand", apitest.OperatorToken, acmeBrand)
			for _, tc := range []struct{ account, username, phone, lang, want string }{
				{ts.c1, "zed.sms@example.com", "+33612345678", "fr", "Votre code Acme Vision est "},
				{ts.c2, "yan.sms@example.com", "+33612345679", "en", "Your Gatehouse code is "},
			} {
				id := addActive(t, e, tc.account, tc.username, "client_user", nil).String("user_id")
				self := session(t, e, tc.username)
				e.Must(t, 200, "PATCH", "/api/v1/users/"+id, self, map[string]string{"phone": tc.phone, "language": tc.lang})
				e.Must(t, 200, "POST", "/api/v1/me/mfa/sms", self, nil)
				var body string
				for _, m := range e.Mail(t) {
					if m.Channel == gatehouse.ChannelSMS && m.To == tc.phone {
						body = m.Body
					}
				}
				if !strings.HasPrefix(body, tc.want) {
					t.Errorf("the text to %s: %q, want it to begin %q", tc.username, body, tc.want)
				}
			}
		})
	}
}
