package httpapi_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var scimPageSecret = regexp.MustCompile(`id="scim-token">(gh_scim_[^<]+)<`)

// An integrator's administrator connects a client's directory on its SCIM
// tab: the base URL to give it, a token shown on that answer alone and
// then working, a group mapped to the administrators' level, the
// directory's calls with their outcome, and the token revoked after a
// confirmation. The client's administrator sees the tab but may map no
// group to their own level; a client user and another integrator's
// administrator do not reach it.
func TestAccountSCIMPages(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	acme := e.CreateAccount(t, "integrator", "Acme", "")
	beta := e.CreateAccount(t, "integrator", "Beta", "")
	site := e.CreateAccount(t, "client", "Store 12", acme)
	activeUser(t, e, acme, "ia@acme.example", "integrator_admin")
	activeUser(t, e, beta, "ia@beta.example", "integrator_admin")
	activeUser(t, e, site, "boss@store12.example", "client_admin")
	activeUser(t, e, site, "viewer@store12.example", "client_user")
	admin := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "ia@acme.example")}}
	other := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "ia@beta.example")}}
	boss := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "boss@store12.example")}}
	viewer := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: session(t, e, "viewer@store12.example")}}
	base := "/accounts/" + site + "/scim"

	resp, page := admin.do(t, "GET", "/accounts/"+site, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `href="`+base+`"`) {
		t.Fatalf("the account's tabs lack SCIM: %d", resp.StatusCode)
	}
	resp, page = admin.do(t, "GET", base, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="scim-base">https://gatehouse.example.com/scim/v2/accounts/`+site+`<`) {
		t.Fatalf("the tab lacks the base URL: %d %s", resp.StatusCode, page)
	}
	if resp, page = admin.do(t, "POST", base+"/tokens", url.Values{"name": {""}}); resp.StatusCode != 400 || !strings.Contains(page, `id="name-error"`) {
		t.Errorf("a token without a name: %d", resp.StatusCode)
	}
	resp, page = admin.do(t, "POST", base+"/tokens", url.Values{"name": {"Entra ID"}})
	match := scimPageSecret.FindStringSubmatch(page)
	if resp.StatusCode != 201 || match == nil {
		t.Fatalf("making a token: %d %s", resp.StatusCode, page)
	}
	dir := directory{e: e, base: "/scim/v2/accounts/" + site, token: html.UnescapeString(match[1])}
	if _, page = admin.do(t, "GET", base, nil); strings.Contains(page, match[1]) || !strings.Contains(page, "Entra ID") {
		t.Errorf("the list shows the secret again, or lacks the token")
	}

	resp, _ = admin.do(t, "POST", base+"/mappings", url.Values{"group": {"Store managers"}, "gives": {"level:client_admin"}})
	if resp.StatusCode != 303 {
		t.Fatalf("mapping a group: %d", resp.StatusCode)
	}
	if _, page = boss.do(t, "GET", base, nil); strings.Contains(page, `value="level:client_admin"`) || !strings.Contains(page, "Store managers") {
		t.Errorf("the client's administrator is offered their own level, or does not see the mapping")
	}
	if resp, page = boss.do(t, "POST", base+"/mappings", url.Values{"group": {"Owners"}, "gives": {"level:client_admin"}}); resp.StatusCode != 403 {
		t.Errorf("the client's administrator mapped a group to their own level: %d", resp.StatusCode)
	}

	ann := dir.must(t, 201, "POST", "/Users", scimUser("ann@store12.example", "Ann", "Lee", "e-ann")).str("id")
	dir.must(t, 200, "PATCH", "/Users/"+ann, patchOp(map[string]any{"op": "replace", "path": "active", "value": false}))
	for _, path := range []string{"/accounts/" + site, "/accounts/" + site + "/users/" + ann} {
		if _, page := admin.do(t, "GET", path, nil); !strings.Contains(page, "Suspended by the directory") {
			t.Errorf("%s does not say the directory suspended Ann", path)
		}
	}
	if resp, _ := viewer.do(t, "POST", "/accounts/"+site+"/users/"+ann+"/restore", url.Values{}); resp.StatusCode != 403 {
		t.Errorf("a client user restored someone: %d", resp.StatusCode)
	}
	if resp, _ := admin.do(t, "POST", "/accounts/"+site+"/users/"+ann+"/restore", url.Values{}); resp.StatusCode != 303 {
		t.Errorf("restoring Ann: %d", resp.StatusCode)
	}
	if restored := dir.must(t, 200, "GET", "/Users/"+ann, nil); restored.Body["active"] != true {
		t.Errorf("the directory still sees Ann suspended: %s", restored.Raw)
	}
	dir.do(t, "POST", "/Users", scimUser("ann@store12.example", "Ann", "Lee", "e-ann"))
	_, page = admin.do(t, "GET", base, nil)
	if !strings.Contains(page, "POST /Users") || !strings.Contains(page, "added ann@store12.example") ||
		!strings.Contains(page, "Refused 409") || !strings.Contains(page, "Done 201") {
		t.Errorf("the calls are not shown with their outcome: %s", page)
	}

	tokens := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/scim-tokens", op, nil).Items()
	revoke := base + "/tokens/" + tokens[0]["id"].(string) + "/revoke"
	for _, probe := range []struct {
		b      *browser
		method string
		path   string
		want   int
	}{{other, "GET", base, 404}, {other, "GET", revoke, 404}, {other, "POST", revoke, 404}, {viewer, "GET", base, 403},
		{viewer, "POST", base + "/tokens", 403}} {
		var form url.Values
		if probe.method == "POST" {
			form = url.Values{"name": {"x"}}
		}
		if resp, _ := probe.b.do(t, probe.method, probe.path, form); resp.StatusCode != probe.want {
			t.Errorf("%s %s: %d, want %d", probe.method, probe.path, resp.StatusCode, probe.want)
		}
	}
	resp, page = admin.do(t, "GET", revoke, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="confirm"`) || !strings.Contains(page, "Revoke this SCIM token: Entra ID") {
		t.Fatalf("the confirmation: %d %s", resp.StatusCode, page)
	}
	if resp, _ = admin.do(t, "POST", revoke, url.Values{}); resp.StatusCode != 303 {
		t.Fatalf("revoking: %d", resp.StatusCode)
	}
	dir.do(t, "GET", "/Users", nil).refused(t, 401, "")
}
