package httpapi_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// browser posts forms as a same-origin page would and keeps the session
// cookie by hand (it is Secure, and the test server speaks plain HTTP).
type browser struct {
	e      *apitest.Env
	cookie *http.Cookie
}

func (b *browser) do(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_session" {
			b.cookie = c
		}
	}
	// A page that sends the browser on at once (finishing a sign-in to an
	// application) is followed like a redirect, as a browser does.
	if m := metaRefresh.FindStringSubmatch(string(raw)); resp.StatusCode == 200 && m != nil {
		resp.StatusCode = http.StatusSeeOther
		resp.Header.Set("Location", html.UnescapeString(m[1]))
	}
	return resp, string(raw)
}

var metaRefresh = regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]+)">`)

// The sign-in page (docs/portal.md): a form with username and password
// that leads a person with accounts to a page naming them; administrators
// pass their second step on the way.
func TestLoginPage(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	lyon := e.CreateAccount(t, "client", "Lyon Store", in)
	paris := e.CreateAccount(t, "client", "Paris Store", in)
	activeUser(t, e, lyon, "viewer@example.com", "client_user")
	e.Must(t, 201, "POST", "/api/v1/accounts/"+paris+"/users", op, newUser("viewer@example.com", "client_user"))

	b := &browser{e: e}
	resp, page := b.do(t, "GET", "/login", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `name="username"`) || !strings.Contains(page, `name="password"`) {
		t.Fatalf("login page: %d\n%s", resp.StatusCode, page)
	}
	resp, page = b.do(t, "POST", "/login", url.Values{"username": {"viewer@example.com"}, "password": {"not the password!"}})
	if resp.StatusCode != 401 || !strings.Contains(page, `role="alert"`) || b.cookie != nil {
		t.Errorf("wrong password: %d, cookie %v", resp.StatusCode, b.cookie)
	}
	resp, _ = b.do(t, "POST", "/login", url.Values{"username": {"viewer@example.com"}, "password": {goodPassword}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/accounts" || b.cookie == nil {
		t.Fatalf("sign-in: %d %q cookie %v", resp.StatusCode, resp.Header.Get("Location"), b.cookie)
	}
	if !b.cookie.HttpOnly || b.cookie.SameSite != http.SameSiteLaxMode || !b.cookie.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Secure (public URL is https)", b.cookie)
	}
	resp, page = b.do(t, "GET", "/accounts", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Lyon Store") || !strings.Contains(page, "Paris Store") {
		t.Errorf("accounts page: %d\n%s", resp.StatusCode, page)
	}
	// The page cookie is no API credential.
	req, _ := http.NewRequest("GET", e.URL+"/api/v1/me", nil)
	req.AddCookie(b.cookie)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 401 {
		t.Errorf("API with the page cookie: %v %v", r.StatusCode, err)
	}
	resp, _ = b.do(t, "POST", "/logout", url.Values{})
	if resp.StatusCode != 303 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ = b.do(t, "GET", "/accounts", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != "/login?next=%2Faccounts" {
		t.Errorf("accounts after logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A client administrator enrolls an authenticator on the way in.
	activeUser(t, e, lyon, "boss@example.com", "client_admin")
	admin := &browser{e: e}
	resp, page = admin.do(t, "POST", "/login", url.Values{"username": {"boss@example.com"}, "password": {goodPassword}})
	secret := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page)
	challenge := regexp.MustCompile(`name="challenge" value="(gh_mfa_[^"]+)"`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || secret == nil || challenge == nil || admin.cookie != nil {
		t.Fatalf("admin sign-in page: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = admin.do(t, "POST", "/login/mfa", url.Values{"challenge": {challenge[1]}, "code": {code(t, e, secret[1], e.Clock.Now())}})
	if resp.StatusCode != 303 || admin.cookie == nil {
		t.Fatalf("second step: %d", resp.StatusCode)
	}
	if _, page = admin.do(t, "GET", "/accounts?all=1", nil); !strings.Contains(page, "Lyon Store") {
		t.Errorf("admin accounts page:\n%s", page)
	}
	cross, _ := http.NewRequest("POST", e.URL+"/login", strings.NewReader("username=boss%40example.com&password=x"))
	cross.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	if r, err := http.DefaultClient.Do(cross); err != nil || r.StatusCode != 403 {
		t.Errorf("cross-site sign-in post: %v %v", r.StatusCode, err)
	}
}

var challengeField = regexp.MustCompile(`name="challenge" value="(gh_mfa_[A-Za-z0-9_-]+)"`)

// The sign-in page with SMS as the second factor (R-S2): the code page says
// a text was sent, offers a new code (too soon: the page says so), and the
// latest texted code signs in.
func TestLoginPageWithSMS(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Lyon Store", in)
	phone := "+33612345678"
	user := addActive(t, e, site, "sms@example.com", "client_user", nil).String("user_id")
	self := session(t, e, "sms@example.com")
	e.Must(t, 200, "PATCH", "/api/v1/users/"+user, self, map[string]string{"phone": phone})
	start := e.Must(t, 200, "POST", "/api/v1/me/mfa/sms", self, nil)
	e.Must(t, 204, "POST", "/api/v1/me/mfa/sms/confirm", self, map[string]string{"challenge": start.String("challenge"), "code": lastText(t, e, phone)})

	b := &browser{e: e}
	resp, page := b.do(t, "POST", "/login", url.Values{"username": {"sms@example.com"}, "password": {goodPassword}})
	match := challengeField.FindStringSubmatch(page)
	if resp.StatusCode != 200 || match == nil || !strings.Contains(page, "SMS") || !strings.Contains(page, `action="/login/mfa/resend"`) {
		t.Fatalf("code page: %d\n%s", resp.StatusCode, page)
	}
	first := lastText(t, e, phone)
	resp, page = b.do(t, "POST", "/login/mfa/resend", url.Values{"challenge": {match[1]}})
	if resp.StatusCode != 429 || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, match[1]) {
		t.Errorf("a new code at once: %d\n%s", resp.StatusCode, page)
	}
	e.Clock.Advance(31 * time.Second)
	if resp, _ = b.do(t, "POST", "/login/mfa/resend", url.Values{"challenge": {match[1]}}); resp.StatusCode != 200 {
		t.Errorf("a new code after 31 s: %d", resp.StatusCode)
	}
	second := lastText(t, e, phone)
	if second == first {
		t.Logf("the new code happens to equal the old one")
	}
	resp, _ = b.do(t, "POST", "/login/mfa", url.Values{"challenge": {match[1]}, "code": {second}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/accounts" {
		t.Errorf("the texted code: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Dead ends are gone: a page asked for before signing in is where the
// sign-in leads (never to another site), a person of one account lands in
// it, and the activation page leads to the sign-in page.
func TestSignInLeadsWhereThePersonWasGoing(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	lyon := e.CreateAccount(t, "client", "Lyon Store", in)
	activeUser(t, e, lyon, "viewer@example.com", "client_user")
	b := &browser{e: e}

	resp, _ := b.do(t, "GET", "/accounts/"+lyon+"/folders", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "/login?next=%2Faccounts%2F"+lyon+"%2Ffolders" {
		t.Fatalf("a page before signing in: %d %q", resp.StatusCode, loc)
	}
	_, page := b.do(t, "GET", resp.Header.Get("Location"), nil)
	if !strings.Contains(page, `name="next" value="/accounts/`+lyon+`/folders"`) {
		t.Errorf("the sign-in page forgets where the person was going:\n%.600s", page)
	}
	for next, want := range map[string]string{
		"/accounts/" + lyon + "/folders": "/accounts/" + lyon + "/folders",
		"//evil.example/":                "/accounts",
		"https://evil.example/":          "/accounts",
		"/\\evil.example":                "/accounts",
	} {
		b.cookie = nil
		resp, _ := b.do(t, "POST", "/login", url.Values{"username": {"viewer@example.com"}, "password": {goodPassword}, "next": {next}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != want {
			t.Errorf("sign-in with next %q led to %q, want %q", next, loc, want)
		}
	}
	resp, _ = b.do(t, "GET", "/accounts", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "/accounts/"+lyon {
		t.Errorf("a person of one account: %d %q, want their account", resp.StatusCode, loc)
	}

	// Finishing an application's sign-in goes on by a fresh navigation, not
	// by a redirect answering the form: browsers would hold that redirect,
	// which ends at the application, to the form's form-action 'self'.
	form := url.Values{"username": {"viewer@example.com"}, "password": {goodPassword}, "next": {"/oauth2/continue?id=x"}}
	req, _ := http.NewRequest("POST", e.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	raw, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	if raw.StatusCode != 200 || !strings.Contains(string(body), `<meta http-equiv="refresh" content="0;url=/oauth2/continue?id=x">`) ||
		!strings.Contains(string(body), `<a href="/oauth2/continue?id=x">Continue to the application</a>`) {
		t.Errorf("signing in for an application answered %d %s", raw.StatusCode, body)
	}
	// Already signed in, the sign-in page sends the person on at once.
	resp, _ = b.do(t, "GET", "/login?next=%2Foauth2%2Fcontinue%3Fid%3Dx", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "/oauth2/continue?id=x" {
		t.Errorf("the sign-in page, signed in already: %d %q", resp.StatusCode, loc)
	}
}
