package web_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

// The client's privacy in a browser (R-PV3): an integrator user asks a site
// for access to its cameras from the portal; the site's administrator, in
// French, follows the link of the e-mail, signs in on the way, sees the
// request, and approves it with one click; the integrator user's check
// for cameras.view turns yes, and no at the next midnight.
func TestProviderAccessInABrowser(t *testing.T) {
	ctx := startBrowser(t)
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	op := apitest.OperatorToken
	const password = "tramway olive canyon"
	in := e.CreateAccount(t, "integrator", "Acme Security", "")
	site := e.CreateAccount(t, "client", "Magasin 12", in)
	iris := activated(t, e, in, map[string]any{"username": "iris@example.com", "first_name": "Iris", "last_name": "Moreau", "level": "integrator_user"}, password)
	activated(t, e, site, map[string]any{"username": "zoe@example.com", "first_name": "Zoé", "last_name": "Martin", "level": "client_admin", "language": "fr"}, password)
	check := func() bool {
		t.Helper()
		r := e.Must(t, 200, "POST", "/api/v1/check", op, map[string]string{"user_id": iris, "account_id": site, "permission": "cameras.view"})
		return r.Body["allowed"] == true
	}
	if check() {
		t.Fatal("the integrator user sees the site's cameras before anyone allowed it")
	}
	en, fr := web.PageTexts["en"], web.PageTexts["fr"]

	// Iris asks, with a reason.
	setSession(t, ctx, e, apiSession(t, e, "iris@example.com", password))
	step(t, ctx, "ask", chromedp.Navigate(e.URL+"/accounts/"+site+"/provider-access"), chromedp.WaitVisible(chromedp.ID("ask-form")),
		chromedp.SendKeys(chromedp.ID("reason"), "Camera 3 is offline"), chromedp.Click(chromedp.ID("ask-access")),
		waitText("#flash", en["provider_access_asked"]), chromedp.WaitVisible(chromedp.ID("request-waits")))
	screenshot(t, ctx, "")

	// Zoé reads the e-mail, in French, and follows its link.
	var link string
	for _, m := range e.Mail(t) {
		if m.To == "zoe@example.com" && strings.Contains(m.Subject, "demande l'accès aux caméras") {
			link = regexp.MustCompile(`https://\S+/provider-access/requests/\S+`).FindString(m.Body)
		}
	}
	if link == "" {
		t.Fatal("no e-mail with a link to the request for Zoé")
	}
	setSession(t, ctx, e, "")
	step(t, ctx, "follow the link", chromedp.Navigate(strings.Replace(link, "https://gatehouse.example.com", e.URL, 1)),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "zoe@example.com"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("totp-qr")))
	code, err := totp.GenerateCodeCustom(text(t, ctx, "#totp-secret"), e.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "enroll and land on the request", chromedp.SendKeys(chromedp.ID("code"), code), chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("approve")))
	screenshot(t, ctx, "")
	if got := text(t, ctx, "#provider-request"); !strings.Contains(got, "Iris Moreau (iris@example.com)") || !strings.Contains(got, "Camera 3 is offline") {
		t.Errorf("the request as Zoé reads it: %q", got)
	}
	// The users tab says a request waits.
	step(t, ctx, "users tab", chromedp.Navigate(e.URL+"/accounts/"+site), waitText("#provider-request-notice", fr["provider_request_notice"]),
		chromedp.Click(chromedp.CSS("#provider-request-notice a")), chromedp.WaitVisible(chromedp.ID("approve")))

	// One click: until the next midnight of the site (UTC here).
	end := gatehouse.NextMidnight(e.Clock.Now(), time.UTC)
	step(t, ctx, "approve", chromedp.Click(chromedp.ID("approve")), waitText("#flash", fr["provider_request_approved"]),
		waitText("#provider-access-until", end.Format("2006-01-02 15:04")), chromedp.WaitVisible(chromedp.ID("end-access")))
	if !check() {
		t.Errorf("approved, the integrator user's check for cameras.view is still no")
	}
	e.Clock.Advance(end.Sub(e.Clock.Now()) - time.Second)
	if !check() {
		t.Errorf("a second before midnight, the check is no")
	}
	e.Clock.Advance(time.Second)
	if check() {
		t.Errorf("at midnight, the check is still yes")
	}
}
