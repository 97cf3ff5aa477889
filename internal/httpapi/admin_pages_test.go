package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
)

// adminWorld is the operating company's integrator account with its
// operator, two integrators each with an administrator, and a client of the
// first with its administrator, each signed in to the portal.
type adminWorld struct {
	e                                   *apitest.Env
	ops, i1, i2, c1                     string
	opsUser                             string
	operator, i1Admin, i2Admin, c1Admin *browser
}

func newAdminWorld(t *testing.T) *adminWorld {
	t.Helper()
	e := sqliteEnv(t)
	w := &adminWorld{e: e}
	w.ops = e.CreateAccount(t, "integrator", "Platform operators", "")
	w.i1 = e.CreateAccount(t, "integrator", "Integrator One", "")
	w.i2 = e.CreateAccount(t, "integrator", "Integrator Two", "")
	w.c1 = e.CreateAccount(t, "client", "Client One", w.i1)
	w.opsUser = addActive(t, e, w.ops, "ops@example.com", "integrator_admin", nil).String("user_id")
	e.Must(t, 200, "PUT", "/api/v1/operators/"+w.opsUser, op, nil)
	addActive(t, e, w.i1, "one@example.com", "integrator_admin", nil)
	addActive(t, e, w.i2, "two@example.com", "integrator_admin", nil)
	addActive(t, e, w.c1, "site@example.com", "client_admin", nil)
	w.operator = pageOf(e, adminSession(t, e, "ops@example.com"))
	w.i1Admin = pageOf(e, adminSession(t, e, "one@example.com"))
	w.i2Admin = pageOf(e, adminSession(t, e, "two@example.com"))
	w.c1Admin = pageOf(e, adminSession(t, e, "site@example.com"))
	return w
}

func pageOf(e *apitest.Env, session string) *browser {
	return &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: session}}
}

// refusedPage asks for a page that must be refused with one of the
// statuses, as a page that says so (never a 500, never the page itself).
func refusedPage(t *testing.T, who string, b *browser, method, path string, form url.Values, want ...int) {
	t.Helper()
	resp, body := b.do(t, method, path, form)
	if !slices.Contains(want, resp.StatusCode) || !strings.Contains(body, `id="form-error"`) || strings.Contains(body, `id="confirm"`) {
		t.Errorf("%s %s as %s: %d, want a refusal %v\n%.600s", method, path, who, resp.StatusCode, want, body)
	}
}

// askedFirst checks that the GET of a destructive address is a question
// naming what it acts on, posting to that same address.
func askedFirst(t *testing.T, b *browser, path, names string) {
	t.Helper()
	resp, body := b.do(t, "GET", path, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm"`) || !strings.Contains(body, `action="`+path+`"`) || !strings.Contains(body, names) {
		t.Errorf("GET %s: %d, no confirmation naming %q and posting to itself\n%.800s", path, resp.StatusCode, names, body)
	}
}

func providerNames(t *testing.T, e *apitest.Env) []string {
	t.Helper()
	return names(e.Must(t, 200, "GET", "/api/v1/identity-providers", op, nil).Items(), "name")
}

// Identity providers from the portal (R-U5): an operator registers and
// deletes platform-wide ones on the platform's page, an integrator's
// administrator their integrator's on its tab, each seeing only what they
// manage; everyone else is refused, and deleting asks first.
func TestPortalIdentityProviders(t *testing.T) {
	t.Parallel()
	w := newAdminWorld(t)
	e := w.e
	issuer := startProvider(t, map[string]string{"sub-ann": "ann@idp.example"})
	form := func(name string) url.Values {
		return url.Values{"name": {name}, "issuer": {issuer}, "client_id": {"gatehouse"}, "client_secret": {"provider client secret"}}
	}

	_, body := w.operator.do(t, "GET", "/accounts", nil)
	for _, link := range []string{"/platform/identity-providers", "/platform/check-tokens", "/platform/operators"} {
		if !strings.Contains(body, `href="`+link+`"`) {
			t.Errorf("the operator's accounts page has no link to %s", link)
		}
	}

	// A wrong issuer is refused at its field; the secret is not written back.
	bad := form("Acme SSO")
	bad.Set("issuer", issuer+"/nothing-here")
	resp, body := w.operator.do(t, "POST", "/platform/identity-providers", bad)
	if resp.StatusCode != 400 || !strings.Contains(body, `id="issuer-error"`) || !strings.Contains(body, `value="Acme SSO"`) ||
		strings.Contains(body, "provider client secret") {
		t.Errorf("a wrong issuer: %d\n%.2000s", resp.StatusCode, body)
	}
	resp, _ = w.operator.do(t, "POST", "/platform/identity-providers", form("Acme SSO"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/platform/identity-providers?") {
		t.Fatalf("registering a platform-wide provider: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if items := e.Must(t, 200, "GET", "/api/v1/identity-providers", op, nil).Items(); len(items) != 1 || items[0]["account_id"] != nil {
		t.Fatalf("after the form, the providers are %v", items)
	}
	_, body = w.operator.do(t, "GET", "/platform/identity-providers", nil)
	if !strings.Contains(body, "Acme SSO") || !strings.Contains(body, issuer) || strings.Contains(body, "provider client secret") {
		t.Errorf("the list does not show the provider, or shows its secret\n%.2000s", body)
	}
	id := regexp.MustCompile(`/platform/identity-providers/([0-9a-f-]+)/delete`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no delete link")
	}
	askedFirst(t, w.operator, "/platform/identity-providers/"+id[1]+"/delete", "Acme SSO")
	if got := providerNames(t, e); len(got) != 1 {
		t.Fatalf("asking deleted the provider: %v", got)
	}
	if resp, _ := w.operator.do(t, "POST", "/platform/identity-providers/"+id[1]+"/delete", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("deleting: %d", resp.StatusCode)
	}
	if got := providerNames(t, e); len(got) != 0 {
		t.Errorf("after deleting, the providers are %v", got)
	}

	// An integrator's administrator, on the integrator's tab.
	tab := "/accounts/" + w.i1 + "/identity-providers"
	if _, body := w.i1Admin.do(t, "GET", "/accounts/"+w.i1, nil); !strings.Contains(body, `href="`+tab+`"`) {
		t.Errorf("the integrator's administrator has no identity providers tab")
	}
	if resp, _ := w.i1Admin.do(t, "POST", tab, form("One SSO")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("registering the integrator's provider: %d", resp.StatusCode)
	}
	e.Must(t, 201, "POST", "/api/v1/identity-providers", op, map[string]any{"account_id": w.i2, "name": "Two SSO", "issuer": issuer,
		"client_id": "gatehouse", "client_secret": "provider client secret"})
	everyone := e.Must(t, 201, "POST", "/api/v1/identity-providers", op, map[string]any{"name": "Everyone SSO", "issuer": issuer,
		"client_id": "gatehouse", "client_secret": "provider client secret"}).String("id")
	_, body = w.i1Admin.do(t, "GET", tab, nil)
	if !strings.Contains(body, "One SSO") || strings.Contains(body, "Two SSO") || strings.Contains(body, "Everyone SSO") {
		t.Errorf("the integrator's tab lists other providers than its own\n%.2000s", body)
	}
	one := regexp.MustCompile(`/identity-providers/([0-9a-f-]+)/delete`).FindStringSubmatch(body)
	if one == nil {
		t.Fatal("no delete link on the integrator's tab")
	}
	_, body = w.operator.do(t, "GET", "/platform/identity-providers", nil)
	if !strings.Contains(body, "One SSO") || !strings.Contains(body, "Two SSO") || !strings.Contains(body, "Everyone SSO") ||
		!strings.Contains(body, `href="`+tab+`">Integrator One</a>`) {
		t.Errorf("the operator does not see every provider and whose it is\n%.3000s", body)
	}

	// Everyone else is refused: another integrator's administrator knows
	// nothing of this integrator; a client's administrator and an
	// integrator's may not manage the platform's providers.
	oneDelete := tab + "/" + one[1] + "/delete"
	refusedPage(t, "i2-admin", w.i2Admin, "GET", tab, nil, 404)
	refusedPage(t, "i2-admin", w.i2Admin, "GET", oneDelete, nil, 404)
	refusedPage(t, "i2-admin", w.i2Admin, "POST", oneDelete, url.Values{}, 404)
	refusedPage(t, "i2-admin", w.i2Admin, "GET", "/accounts/"+w.i2+"/identity-providers/"+one[1]+"/delete", nil, 404)
	refusedPage(t, "i2-admin", w.i2Admin, "POST", "/accounts/"+w.i2+"/identity-providers/"+one[1]+"/delete", url.Values{}, 404)
	for who, b := range map[string]*browser{"i1-admin": w.i1Admin, "i2-admin": w.i2Admin, "c1-admin": w.c1Admin} {
		refusedPage(t, who, b, "GET", "/platform/identity-providers", nil, 403)
		refusedPage(t, who, b, "POST", "/platform/identity-providers", form("Mine SSO"), 403)
		refusedPage(t, who, b, "GET", "/platform/identity-providers/"+everyone+"/delete", nil, 403)
		refusedPage(t, who, b, "POST", "/platform/identity-providers/"+everyone+"/delete", url.Values{}, 403)
	}
	if _, body := w.c1Admin.do(t, "GET", "/accounts/"+w.c1, nil); strings.Contains(body, "/identity-providers") {
		t.Errorf("a client's administrator is offered identity providers")
	}
	refusedPage(t, "c1-admin", w.c1Admin, "GET", "/accounts/"+w.c1+"/identity-providers", nil, 403)
	refusedPage(t, "c1-admin", w.c1Admin, "POST", "/accounts/"+w.c1+"/identity-providers", form("Site SSO"), 403)
	refusedPage(t, "c1-admin", w.c1Admin, "GET", tab, nil, 404)
	refusedPage(t, "c1-admin", w.c1Admin, "GET", oneDelete, nil, 404)
	if got := providerNames(t, e); len(got) != 3 {
		t.Errorf("the refusals changed the providers: %v", got)
	}

	// The integrator's administrator deletes their own, after the question.
	askedFirst(t, w.i1Admin, oneDelete, "One SSO")
	if resp, _ := w.i1Admin.do(t, "POST", oneDelete, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the integrator's administrator deleting their provider: %d", resp.StatusCode)
	}
	if got := providerNames(t, e); slices.Contains(got, "One SSO") || len(got) != 2 {
		t.Errorf("after the integrator's delete, the providers are %v", got)
	}
}

// Check tokens from the portal: an operator makes one, whose secret is
// shown once and works at the check route; the list never shows it again;
// revoking asks first, then ends it. Nobody else may.
func TestPortalCheckTokens(t *testing.T) {
	t.Parallel()
	w := newAdminWorld(t)
	e := w.e
	viewer := addActive(t, e, w.c1, "viewer@example.com", "client_user", nil).String("user_id")
	question := map[string]string{"user_id": viewer, "account_id": w.c1, "permission": "media.view"}

	if resp, body := w.operator.do(t, "POST", "/platform/check-tokens", url.Values{"name": {""}}); resp.StatusCode != 400 || !strings.Contains(body, `id="name-error"`) {
		t.Errorf("a token without a name: %d", resp.StatusCode)
	}
	resp, body := w.operator.do(t, "POST", "/platform/check-tokens", url.Values{"name": {"Recorder"}})
	secret := regexp.MustCompile(`<code class="address">(gh_chk_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(body)
	if resp.StatusCode != 201 || secret == nil || !strings.Contains(body, `id="check-token-secret"`) {
		t.Fatalf("a check token made on the page: %d\n%.2000s", resp.StatusCode, body)
	}
	e.Must(t, 200, "POST", "/api/v1/check", secret[1], question)
	_, body = w.operator.do(t, "GET", "/platform/check-tokens", nil)
	if strings.Contains(body, secret[1]) || !strings.Contains(body, "Recorder") {
		t.Errorf("the list shows the secret again, or not the token\n%.2000s", body)
	}
	id := regexp.MustCompile(`/platform/check-tokens/([0-9a-f-]+)/revoke`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no revoke link")
	}
	revoke := "/platform/check-tokens/" + id[1] + "/revoke"

	for who, b := range map[string]*browser{"i1-admin": w.i1Admin, "i2-admin": w.i2Admin, "c1-admin": w.c1Admin} {
		refusedPage(t, who, b, "GET", "/platform/check-tokens", nil, 403)
		refusedPage(t, who, b, "POST", "/platform/check-tokens", url.Values{"name": {"Mine"}}, 403)
		refusedPage(t, who, b, "GET", revoke, nil, 403)
		refusedPage(t, who, b, "POST", revoke, url.Values{}, 403)
	}
	askedFirst(t, w.operator, revoke, "Recorder")
	e.Must(t, 200, "POST", "/api/v1/check", secret[1], question)
	if resp, _ := w.operator.do(t, "POST", revoke, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("revoking: %d", resp.StatusCode)
	}
	if r := e.Do(t, "POST", "/api/v1/check", secret[1], question); r.Status != 401 {
		t.Errorf("a revoked check token: %d", r.Status)
	}
	if _, body := w.operator.do(t, "GET", "/platform/check-tokens", nil); strings.Contains(body, "Recorder") {
		t.Errorf("a revoked token is still listed")
	}
}

// Operators from the portal (R-P4): an operator makes a person of the
// operating company's account an operator, and takes the power away after
// a question, which ends their sessions; nobody takes their own, and only
// operators may do any of it.
func TestPortalOperators(t *testing.T) {
	t.Parallel()
	w := newAdminWorld(t)
	e := w.e
	sam := addActive(t, e, w.ops, "sam@example.com", "integrator_user", nil).String("user_id")
	e.Must(t, 201, "POST", "/api/v1/accounts/"+w.ops+"/users", op, newUser("pending@example.com", "integrator_user"))

	_, body := w.operator.do(t, "GET", "/platform/operators", nil)
	if !strings.Contains(body, "ops@example.com") || !strings.Contains(body, `<option value="`+sam+`"`) ||
		strings.Contains(body, `<option value="`+w.opsUser+`"`) || strings.Contains(body, "pending@example.com") {
		t.Errorf("the operators page does not list the operator and offer exactly the active people\n%.3000s", body)
	}
	resp, _ := w.operator.do(t, "POST", "/platform/operators", url.Values{"user_id": {sam}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("making an operator: %d", resp.StatusCode)
	}
	if got := names(e.Must(t, 200, "GET", "/api/v1/operators", op, nil).Items(), "username"); !slices.Contains(got, "sam@example.com") {
		t.Fatalf("operators after the form: %v", got)
	}
	samSession := adminSession(t, e, "sam@example.com")
	e.Must(t, 200, "GET", "/api/v1/accounts/"+w.i2, samSession, nil)

	for who, b := range map[string]*browser{"i1-admin": w.i1Admin, "i2-admin": w.i2Admin, "c1-admin": w.c1Admin} {
		refusedPage(t, who, b, "GET", "/platform/operators", nil, 403)
		refusedPage(t, who, b, "POST", "/platform/operators", url.Values{"user_id": {sam}}, 403)
		refusedPage(t, who, b, "GET", "/platform/operators/"+sam+"/remove", nil, 403)
		refusedPage(t, who, b, "POST", "/platform/operators/"+sam+"/remove", url.Values{}, 403)
	}

	remove := "/platform/operators/" + sam + "/remove"
	askedFirst(t, w.operator, remove, "sam@example.com")
	e.Must(t, 200, "GET", "/api/v1/me", samSession, nil)
	if resp, _ := w.operator.do(t, "POST", remove, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("taking the power away: %d", resp.StatusCode)
	}
	if r := e.Do(t, "GET", "/api/v1/me", samSession, nil); r.Status != 401 {
		t.Errorf("the former operator's session: %d", r.Status)
	}

	// Nobody takes their own power: asked, then refused with the reason.
	self := "/platform/operators/" + w.opsUser + "/remove"
	askedFirst(t, w.operator, self, "ops@example.com")
	resp, body = w.operator.do(t, "POST", self, url.Values{})
	if resp.StatusCode != 403 || !strings.Contains(body, "ask another operator") {
		t.Errorf("an operator removing themself: %d\n%.1500s", resp.StatusCode, body)
	}
	if got := names(e.Must(t, 200, "GET", "/api/v1/operators", op, nil).Items(), "username"); !slices.Equal(got, []string{"ops@example.com"}) {
		t.Errorf("operators at the end: %v", got)
	}

	// In French, the page and the refusal are in French.
	e.Must(t, 200, "PATCH", "/api/v1/users/"+w.opsUser, op, map[string]any{"language": "fr"})
	resp, body = w.operator.do(t, "POST", self, url.Values{})
	if resp.StatusCode != 403 || !strings.Contains(body, "Nommer un opérateur") || !strings.Contains(body, "demandez à un autre opérateur") ||
		strings.Contains(body, "Make an operator") || strings.Contains(body, "ask another operator") {
		t.Errorf("the French operators page:\n%.3000s", body)
	}
}
