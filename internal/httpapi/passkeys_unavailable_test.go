package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A server whose public URL is an IP address (the default,
// http://127.0.0.1:8080) cannot be a passkeys' relying party: its sign-in
// page offers no passkey, and a passkey ceremony answers 503 unavailable
// saying what to set, not an internal error.
func TestPasskeysNeedAHostName(t *testing.T) {
	t.Parallel()
	b := storetest.Backends(t)[0]
	e := apitest.StartWith(t, b, func(o *service.Options) { o.PublicURL = "http://127.0.0.1:8080" })
	r := e.Do(t, "POST", "/api/v1/sessions/passkey/options", "", nil)
	if r.Status != 503 || r.Code() != "unavailable" || !strings.Contains(string(r.Raw), "public URL") {
		t.Errorf("a passkey sign-in on an IP address: %d %s", r.Status, r.Raw)
	}
	resp, err := http.Get(e.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.Contains(string(page), `id="passkey-sign-in"`) || !strings.Contains(string(page), `name="password"`) {
		t.Errorf("the sign-in page on an IP address: %d, passkey offered: %v", resp.StatusCode, strings.Contains(string(page), `id="passkey-sign-in"`))
	}
}
