package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// An administrator without an authenticator app sets up codes by text at
// their first sign-in: the number may be typed without its +code beside a
// country; a wrong number is refused at its field without using up the
// enrollment; the switch uses up the authenticator challenge and cannot be
// repeated to send more texts than a resend would (R-S2, R-P4).
func TestEnrollBySMSAtSignIn(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ts := newTenants(t, b)
			e := ts.e
			addActive(t, e, ts.c1, "boss@example.com", "client_admin", nil)
			enroll := signIn(e, t, "boss@example.com", goodPassword)
			challenge := enroll.String("challenge")
			if enroll.Body["mfa_enrollment_required"] != true {
				t.Fatalf("sign-in: %s", enroll.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/sessions/mfa/sms", "", map[string]string{"challenge": challenge, "phone": "06 12 34 56 78"}); r.Status != 400 || r.Field() != "phone" {
				t.Errorf("a national number without its country: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/sessions/mfa/sms", "", map[string]string{"challenge": "gh_mfa_forged", "phone": "+33612345678"}); r.Status != 401 {
				t.Errorf("a forged challenge: %d %s", r.Status, r.Raw)
			}
			sms := e.Must(t, 200, "POST", "/api/v1/sessions/mfa/sms", "", map[string]string{"challenge": challenge, "phone": "06 12 34 56 78", "country": "FR"})
			if r := e.Do(t, "POST", "/api/v1/sessions/mfa/sms", "", map[string]string{"challenge": challenge, "phone": "+33612345679"}); r.Status != 401 {
				t.Errorf("the authenticator challenge switched twice: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/sessions/mfa/sms", "", map[string]string{"challenge": sms.String("challenge"), "phone": "+33612345679"}); r.Status != 429 {
				t.Errorf("a second text at once through the switch: %d %s", r.Status, r.Raw)
			}
			code := lastText(t, e, "+33612345678")
			if r := answer(t, e, sms.String("challenge"), code); r.Status != 201 {
				t.Fatalf("the texted code: %d %s", r.Status, r.Raw)
			}
			// From now on every sign-in texts a code.
			next := signIn(e, t, "boss@example.com", goodPassword)
			if next.Body["sms_sent"] != true {
				t.Fatalf("the next sign-in: %s", next.Raw)
			}
			// A sign-in's challenge is no enrollment: it cannot move the codes
			// to another phone.
			if r := e.Do(t, "POST", "/api/v1/sessions/mfa/sms", "", map[string]string{"challenge": next.String("challenge"), "phone": "+33612345679"}); r.Status != 401 {
				t.Errorf("a sign-in challenge switched to another phone: %d %s", r.Status, r.Raw)
			}
			e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": next.String("challenge"), "code": lastText(t, e, "+33612345678")})
		})
	}
}

// The enrollment page offers codes by text beside the authenticator key,
// with a country picker; a wrong number shows the same key again.
func TestEnrollmentPageOffersSMS(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	addActive(t, e, site, "boss@example.com", "client_admin", nil)

	b := &browser{e: e}
	_, page := b.do(t, "POST", "/login", url.Values{"username": {"boss@example.com"}, "password": {goodPassword}})
	match := challengeField.FindStringSubmatch(page)
	secret := secretField.FindStringSubmatch(page)
	if match == nil || secret == nil || !strings.Contains(page, `action="/login/mfa/sms"`) || !strings.Contains(page, `<option value="FR">France (`) {
		t.Fatalf("the enrollment page offers no codes by text:\n%s", page)
	}
	resp, page := b.do(t, "POST", "/login/mfa/sms", url.Values{"challenge": {match[1]}, "secret": {secret[1]}, "phone": {"12"}, "phone_country": {"FR"}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="phone-error"`) || !strings.Contains(page, secret[1]) || !strings.Contains(page, match[1]) {
		t.Errorf("a wrong number: %d, no error at the field or another key\n%s", resp.StatusCode, page)
	}
	resp, page = b.do(t, "POST", "/login/mfa/sms", url.Values{"challenge": {match[1]}, "phone": {"06 12 34 56 78"}, "phone_country": {"FR"}})
	sms := challengeField.FindStringSubmatch(page)
	if resp.StatusCode != 200 || sms == nil || !strings.Contains(page, `action="/login/mfa/resend"`) {
		t.Fatalf("after the number: %d\n%s", resp.StatusCode, page)
	}
	e.Clock.Advance(time.Second)
	resp, _ = b.do(t, "POST", "/login/mfa", url.Values{"challenge": {sms[1]}, "code": {lastText(t, e, "+33612345678")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the texted code: %d", resp.StatusCode)
	}
}

var secretField = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)
