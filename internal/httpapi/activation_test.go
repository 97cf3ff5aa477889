package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

const goodPassword = "tramway olive canyon"

// Activation through the e-mailed link: the password is set, every pending
// membership with a valid invitation becomes active, and the link works once
// (R-M3, R-S1, the API reference at /api/docs).
func TestActivation(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site1 := e.CreateAccount(t, "client", "Site 1", in)
			site2 := e.CreateAccount(t, "client", "Site 2", in)
			m1 := e.Must(t, 201, "POST", "/api/v1/accounts/"+site1+"/users", op, newUser("zoe@example.com", "client_user"))
			m2 := e.Must(t, 201, "POST", "/api/v1/accounts/"+site2+"/users", op, newUser("zoe@example.com", "client_user"))
			tokens := e.ActivationTokens(t, "zoe@example.com")
			if len(tokens) != 2 {
				t.Fatalf("%d activation mails, want one per site", len(tokens))
			}

			weak := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[0], "password": "password1234"})
			if weak.Status != 400 || weak.Field() != "password" {
				t.Errorf("weak password: %d %s", weak.Status, weak.Raw)
			}
			ok := e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[0], "password": goodPassword})
			if ok.String("status") != "active" || ok.String("user_id") != m1.String("user_id") {
				t.Errorf("activation answered %s", ok.Raw)
			}
			for _, m := range []apitest.Response{m1, m2} {
				got := e.Must(t, 200, "GET", "/api/v1/accounts/"+m.String("account_id")+"/users/"+m.String("id"), op, nil)
				if got.String("status") != "active" {
					t.Errorf("membership in %s is %s after activation, want active", m.String("account_id"), got.String("status"))
				}
			}
			for i, tok := range tokens {
				r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": tok, "password": goodPassword + "!"})
				if r.Status != 410 || r.Code() != "invitation_invalid" {
					t.Errorf("link %d used again: %d %s", i, r.Status, r.Raw)
				}
			}
			var actions []string
			for _, ev := range e.Must(t, 200, "GET", "/api/v1/accounts/"+site2+"/audit-events", op, nil).Items() {
				actions = append(actions, ev["action"].(string))
			}
			if !strings.Contains(strings.Join(actions, " "), "invitation.accepted") {
				t.Errorf("site 2 audit %v lacks the accepted invitation", actions)
			}
			// Active now: a third site registers her at once, with a notice (R-M2).
			site3 := e.CreateAccount(t, "client", "Site 3", in)
			m3 := e.Must(t, 201, "POST", "/api/v1/accounts/"+site3+"/users", op, newUser("ZOE@example.com", "client_user"))
			if m3.String("status") != "active" {
				t.Errorf("membership of an active identity is %s", m3.String("status"))
			}
			if mail := e.Mail(t); len(mail) != 1 || !strings.Contains(mail[0].Subject, "Site 3") || strings.Contains(mail[0].Body, "token=") {
				t.Errorf("mail after adding an active identity: %+v", mail)
			}
		})
	}
}

// Removing a pending user kills their activation link (R-M5, R-M7).
func TestRemovedUserLinkIsDead(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Site", in)
	m := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("gone@example.com", "client_user"))
	token := e.ActivationTokens(t, "gone@example.com")[0]
	e.Must(t, 204, "DELETE", "/api/v1/accounts/"+site+"/users/"+m.String("id"), op, nil)
	if r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": token, "password": goodPassword}); r.Code() != "invitation_invalid" {
		t.Errorf("the link of a removed user: %d %s", r.Status, r.Raw)
	}
	if n := len(e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/invitations?status=pending", op, nil).Items()); n != 0 {
		t.Errorf("%d pending invitations after the removal", n)
	}
}

// Bad and stale links: expired, malformed, of another kind (R-M4).
func TestActivationLinksThatDoNotWork(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Site", in)
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("late@example.com", "client_user"))
	token := e.ActivationTokens(t, "late@example.com")[0]

	e.Clock.Advance(7*24*time.Hour - time.Minute)
	page := e.Do(t, "GET", "/activate?token="+url.QueryEscape(token), "", nil)
	if page.Status != 200 {
		t.Errorf("a link one minute before expiry: page %d", page.Status)
	}
	e.Clock.Advance(2 * time.Minute)
	for name, c := range map[string]struct {
		token, code string
	}{
		"expired":      {token, "invitation_expired"},
		"unknown":      {"gh_inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invitation_invalid"},
		"another kind": {"gh_api_" + token[len("gh_inv_"):], "invitation_invalid"},
		"empty":        {"", "invitation_invalid"},
	} {
		r := e.Do(t, "POST", "/api/v1/activate", "", map[string]string{"token": c.token, "password": goodPassword})
		if r.Status != 410 || r.Code() != c.code {
			t.Errorf("%s link: %d %s, want 410 %s", name, r.Status, r.Raw, c.code)
		}
	}
	if page := e.Do(t, "GET", "/activate?token="+url.QueryEscape(token), "", nil); page.Status != 410 || !strings.Contains(string(page.Raw), "expired") {
		t.Errorf("expired link page: %d %s", page.Status, page.Raw)
	}
}

// One link, ten simultaneous uses: exactly one succeeds (single use, held by
// the database).
func TestActivationIsSingleUseUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			nodes := nodesOf(t, b, e)
			in := e.CreateAccount(t, "integrator", "Acme", "")
			site := e.CreateAccount(t, "client", "Site", in)
			e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, newUser("race@example.com", "client_user"))
			token := e.ActivationTokens(t, "race@example.com")[0]
			count := race(nodes, 10, func(node *apitest.Env, i int) int {
				return node.Do(t, "POST", "/api/v1/activate", "",
					map[string]string{"token": token, "password": goodPassword + strings.Repeat("!", i)}).Status
			})
			if count[200] != 1 || count[410] != 9 {
				t.Errorf("statuses %v, want one activation (200) and nine 410", count)
			}
		})
	}
}

// The web page: GET shows a form with a password input and consumes
// nothing (mail scanners follow links); the form activates; a cross-site
// post is refused (docs/portal.md).
func TestActivationPage(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	in := e.CreateAccount(t, "integrator", "Acme", "")
	site := e.CreateAccount(t, "client", "Site", in)
	user := newUser("page@example.com", "client_user")
	user["language"] = "fr"
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, user)
	token := e.ActivationTokens(t, "page@example.com")[0]

	for range 2 {
		page := e.Do(t, "GET", "/activate?token="+url.QueryEscape(token), "", nil)
		body := string(page.Raw)
		if page.Status != 200 || !strings.Contains(body, `name="password"`) || !strings.Contains(body, "Activez votre compte") {
			t.Fatalf("activation page: %d\n%s", page.Status, body)
		}
		// Scripts only from the server's own files: no inline script, no eval.
		if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") ||
			strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Errorf("CSP %q", csp)
		}
	}
	post := func(headers map[string]string, password string) (int, string) {
		form := url.Values{"token": {token}, "password": {password}}
		req, _ := http.NewRequest("POST", e.URL+"/activate", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if status, _ := post(map[string]string{"Sec-Fetch-Site": "cross-site"}, goodPassword); status != 403 {
		t.Errorf("cross-site form post: %d, want 403", status)
	}
	if status, body := post(nil, "short"); status != 400 || !strings.Contains(body, `name="password"`) {
		t.Errorf("weak password on the page: %d", status)
	}
	if status, body := post(map[string]string{"Sec-Fetch-Site": "same-origin"}, goodPassword); status != 200 || !strings.Contains(body, "Votre compte est actif") {
		t.Errorf("activation by the page: %d\n%s", status, body)
	}
	u, err := e.Store.UserByUsername(context.Background(), "page@example.com")
	if err != nil || u.Status != gatehouse.UserActive {
		t.Errorf("identity after the page: %+v %v", u, err)
	}
}
