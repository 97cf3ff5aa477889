package httpapi_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var pageSecret = regexp.MustCompile(`id="webhook-secret">(whsec_[^<]+)<`)

// An integrator's administrator subscribes an endpoint on the account's
// webhooks tab: a refused address comes back at its field with nothing
// stored; the secret is shown on the answer and never on the list again.
// On the subscription's page a test event is sent (its delivery is listed
// there), a delivery is sent again, the secret is rotated, a period is
// sent again, and the subscription is removed after a confirmation.
// Another integrator's administrator gets 404 on every one of these pages.
func TestAccountWebhooksPages(t *testing.T) {
	t.Parallel()
	e := apitest.StartWith(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite}, loopbackAllowed)
	rec := newHookReceiver(t)
	acme := e.CreateAccount(t, "integrator", "Acme", "")
	beta := e.CreateAccount(t, "integrator", "Beta", "")
	activeUser(t, e, acme, "ia@acme.example", "integrator_admin")
	activeUser(t, e, beta, "ia@beta.example", "integrator_admin")
	admin := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "ia@acme.example")}}
	other := &browser{e: e, cookie: &http.Cookie{Name: "gatehouse_session", Value: adminSession(t, e, "ia@beta.example")}}
	base := "/accounts/" + acme + "/webhooks"
	api := "/api/v1/accounts/" + acme + "/webhooks"

	resp, page := admin.do(t, "GET", "/accounts/"+acme, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `href="`+base+`"`) {
		t.Fatalf("the account's tabs lack its webhooks: %d", resp.StatusCode)
	}
	for _, bad := range []struct{ url, types, field string }{
		{"http://10.0.0.1/", "member.*", "url"}, {rec.URL + "/hook", "nothing.here", "event_types"}} {
		resp, page = admin.do(t, "POST", base, url.Values{"url": {bad.url}, "event_types": {bad.types}})
		if resp.StatusCode != 400 || !strings.Contains(page, `id="`+bad.field+`-error"`) || strings.Contains(page, "webhook-secret") {
			t.Errorf("%s %s: %d, no error at %s", bad.url, bad.types, resp.StatusCode, bad.field)
		}
	}
	if items := e.Must(t, 200, "GET", api, apitest.OperatorToken, nil).Items(); len(items) != 0 {
		t.Fatalf("a refused form subscribed %v", items)
	}

	resp, page = admin.do(t, "POST", base, url.Values{"url": {rec.URL + "/hook"}, "event_types": {"member.*, role.deleted"},
		"description": {"Directory sync"}})
	match := pageSecret.FindStringSubmatch(page)
	if resp.StatusCode != 201 || match == nil {
		t.Fatalf("subscribing: %d %s", resp.StatusCode, page)
	}
	secret := html.UnescapeString(match[1])
	items := e.Must(t, 200, "GET", api, apitest.OperatorToken, nil).Items()
	if len(items) != 1 || items[0]["url"] != rec.URL+"/hook" || len(items[0]["event_types"].([]any)) != 2 {
		t.Fatalf("subscribed: %v", items)
	}
	hook := base + "/" + items[0]["id"].(string)
	if _, page = admin.do(t, "GET", base, nil); !strings.Contains(page, rec.URL+"/hook") || !strings.Contains(page, `href="`+hook+`"`) ||
		strings.Contains(page, match[1]) || strings.Contains(page, "webhook-secret") {
		t.Errorf("the list shows the secret again, or lacks the subscription")
	}

	for _, probe := range []struct{ method, path string }{{"GET", base}, {"GET", hook}, {"GET", hook + "/delete"},
		{"POST", hook + "/ping"}, {"POST", hook + "/rotate-secret"}, {"POST", hook + "/enable"}, {"POST", hook + "/delete"},
		{"GET", "/accounts/" + beta + "/webhooks/" + items[0]["id"].(string)}} {
		var form url.Values
		if probe.method == "POST" {
			form = url.Values{}
		}
		if resp, _ := other.do(t, probe.method, probe.path, form); resp.StatusCode != 404 {
			t.Errorf("another integrator's administrator: %s %s: %d", probe.method, probe.path, resp.StatusCode)
		}
	}

	resp, _ = admin.do(t, "POST", hook+"/ping", url.Values{})
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), hook+"?") {
		t.Fatalf("ping: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	deliverHooks(t, e)
	got := rec.take()
	if len(got) != 1 || got[0].event.Type != "webhook.ping" || !verifies(got[0], secret) {
		t.Fatalf("the ping received: %+v", got)
	}
	resp, page = admin.do(t, "GET", hook, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "<code>webhook.ping</code>") || !strings.Contains(page, "Delivered") ||
		!strings.Contains(page, "answer 200") || strings.Contains(page, match[1]) {
		t.Fatalf("the subscription's page after the ping: %d %s", resp.StatusCode, page)
	}
	deliveries := e.Must(t, 200, "GET", api+"/"+items[0]["id"].(string)+"/deliveries", apitest.OperatorToken, nil).Items()
	if len(deliveries) != 1 || !strings.Contains(page, hook+"/deliveries/"+deliveries[0]["id"].(string)+"/replay") {
		t.Fatalf("the delivery lacks its button: %v", deliveries)
	}
	resp, _ = admin.do(t, "POST", hook+"/deliveries/"+deliveries[0]["id"].(string)+"/replay", url.Values{})
	deliverHooks(t, e)
	if got = rec.take(); resp.StatusCode != 303 || len(got) != 1 || got[0].id != deliveries[0]["event_id"] {
		t.Fatalf("sent again: %d %+v", resp.StatusCode, got)
	}

	resp, page = admin.do(t, "POST", hook+"/rotate-secret", url.Values{})
	match = pageSecret.FindStringSubmatch(page)
	if resp.StatusCode != 200 || match == nil || html.UnescapeString(match[1]) == secret || !strings.Contains(page, `id="previous-secret-until"`) {
		t.Fatalf("rotating: %d %s", resp.StatusCode, page)
	}
	rotated := html.UnescapeString(match[1])
	if _, page = admin.do(t, "GET", hook, nil); strings.Contains(page, match[1]) {
		t.Errorf("the new secret is shown again")
	}

	resp, page = admin.do(t, "POST", hook+"/replay", url.Values{"since": {""}, "until": {""}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="since-error"`) {
		t.Errorf("a period without a start: %d", resp.StatusCode)
	}
	from := e.Clock.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04")
	resp, page = admin.do(t, "POST", hook+"/replay", url.Values{"since": {from}, "until": {e.Clock.Now().Add(-2 * time.Hour).UTC().Format("2006-01-02T15:04")}})
	if resp.StatusCode != 400 || !strings.Contains(page, `id="until-error"`) {
		t.Errorf("a period ending before its start: %d", resp.StatusCode)
	}
	resp, _ = admin.do(t, "POST", hook+"/replay", url.Values{"since": {from}, "until": {""}})
	deliverHooks(t, e)
	if got = rec.take(); resp.StatusCode != 303 || len(got) == 0 || got[0].event.Type != "webhook.ping" || !verifies(got[0], rotated) || !verifies(got[0], secret) {
		t.Fatalf("a period sent again: %d %+v", resp.StatusCode, got)
	}

	// A webhook disabled after a day of failures says so, and is enabled
	// again from its page.
	err := e.Store.Write(context.Background(), func(tx *store.WriteTx) error {
		return tx.DisableWebhookSubscription(context.Background(), items[0]["id"].(string), "", e.Clock.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, page = admin.do(t, "GET", hook, nil)
	if !strings.Contains(page, `id="webhook-disabled-note"`) || !strings.Contains(page, `id="enable-webhook"`) || strings.Contains(page, `id="ping-webhook"`) {
		t.Fatalf("a disabled webhook's page: %d %s", resp.StatusCode, page)
	}
	resp, page = admin.do(t, "POST", hook+"/enable", url.Values{})
	if resp.StatusCode != 200 || !strings.Contains(page, "The webhook is enabled again") || !strings.Contains(page, `id="ping-webhook"`) ||
		strings.Contains(page, `id="enable-webhook"`) {
		t.Fatalf("enabling: %d %s", resp.StatusCode, page)
	}

	resp, page = admin.do(t, "GET", hook+"/delete", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="confirm"`) || !strings.Contains(page, "Remove this webhook: "+rec.URL+"/hook") {
		t.Fatalf("the confirmation: %d %s", resp.StatusCode, page)
	}
	resp, _ = admin.do(t, "POST", hook+"/delete", url.Values{})
	if resp.StatusCode != 303 || len(e.Must(t, 200, "GET", api, apitest.OperatorToken, nil).Items()) != 0 {
		t.Errorf("removing: %d", resp.StatusCode)
	}
	if resp, _ := admin.do(t, "GET", hook, nil); resp.StatusCode != 404 {
		t.Errorf("a removed subscription's page: %d", resp.StatusCode)
	}
}
