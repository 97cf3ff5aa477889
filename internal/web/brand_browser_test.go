package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// startBrowserMapping starts Chromium as startBrowser does, with host
// names mapped to the test server: a brand's own host reaches it.
func startBrowserMapping(t *testing.T, rules string) context.Context {
	t.Helper()
	return startBrowserWith(t, chromedp.Flag("host-resolver-rules", rules))
}

// signedInAt makes the browser signed in as the session on a host name.
func signedInAt(t *testing.T, ctx context.Context, host, token string) {
	t.Helper()
	step(t, ctx, "session cookie on "+host, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: "gatehouse_session", Domain: host}); err != nil || token == "" {
			return err
		}
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "gatehouse_session", Value: token,
			Domain: host, Path: "/", SameSite: network.CookieSameSiteLax})
		return err
	}))
}

func solidPNG(t *testing.T, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 40))
	for y := range 40 {
		for x := range 160 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// putLogo uploads a logo with its content type through the API.
func putLogo(t *testing.T, e *apitest.Env, path, token, contentType string, data []byte) apitest.Response {
	t.Helper()
	req, err := http.NewRequest("PUT", e.URL+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := apitest.Response{Status: resp.StatusCode, Header: resp.Header}
	out.Raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(out.Raw, &out.Body)
	return out
}

var brandedLink = regexp.MustCompile(`https?://[a-z0-9.:-]+/activate\?token=(gh_inv_[A-Za-z0-9_-]+)`)

// mailTo delivers the queue and returns the last message to an address.
func mailTo(t *testing.T, e *apitest.Env, to string) gatehouse.Message {
	t.Helper()
	var found *gatehouse.Message
	for _, m := range e.Mail(t) {
		if m.To == to {
			found = &m
		}
	}
	if found == nil {
		t.Fatalf("no mail to %s", to)
	}
	return *found
}

// setField sets a form field's value, as typing over it would.
func setField(id, value string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`(() => { document.getElementById(%q).value = %q; return true; })()`, id, value), "set "+id)
}

// look is what the test reads of a page's brand in the browser.
type look struct {
	Title      string `json:"title"`
	Logo       string `json:"logo"`
	LogoLoaded bool   `json:"logoLoaded"`
	Band       string `json:"band"`
	Primary    string `json:"primary"`
	HTML       string `json:"html"`
}

const lookJS = `(() => {
	const logo = document.getElementById("brand-logo");
	const band = document.querySelector(".bar") || document.getElementById("brand") || document.getElementById("brand-header");
	const button = document.querySelector("button[type=submit]");
	return {
		title: document.title,
		logo: logo ? logo.getAttribute("src") : "",
		logoLoaded: !!logo && logo.complete && logo.naturalWidth > 0,
		band: band ? getComputedStyle(band).backgroundColor : "",
		primary: button ? getComputedStyle(button).backgroundColor : "",
		html: document.documentElement.outerHTML,
	};
})()`

func lookAt(t *testing.T, ctx context.Context, where, address string) look {
	t.Helper()
	step(t, ctx, where, chromedp.Navigate(address), chromedp.WaitReady(chromedp.CSS("body")),
		waitJS(`(() => { const l = document.getElementById("brand-logo"); return !l || l.complete; })()`, "the logo loaded"))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[look](lookJS))
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return got
}

// A client user of integrator A sees A's logo and colours on the sign-in
// page of A's host, in the portal, and in the HTML of the activation
// e-mail as Chromium renders it; a client user of integrator B sees B's
// brand and nothing of A's, anywhere; and an SVG logo with a script is
// refused at the field of the brand page.
func TestIntegratorBrandInTheBrowser(t *testing.T) {
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	server, _ := url.Parse(e.URL)
	ctx := startBrowserMapping(t, "MAP portal.acme.example "+server.Host)
	op := apitest.OperatorToken
	const password = "tramway olive canyon"

	a := e.CreateAccount(t, "integrator", "Acme", "")
	b := e.CreateAccount(t, "integrator", "Beta", "")
	aSite := e.CreateAccount(t, "client", "Lyon", a)
	bSite := e.CreateAccount(t, "client", "Nice", b)
	e.Must(t, 200, "PUT", "/api/v1/accounts/"+a+"/brand", op, map[string]any{"product_name": "Acme Vision", "primary_colour": "#7a1f5c",
		"accent_colour": "#1d3b2a", "support_email": "help@acme.example", "support_phone": "+33 1 23 45 67 89",
		"sender_name": "Acme Vision", "sender_address": "no-reply@acme.example", "host": "portal.acme.example"})
	aLogo := putLogo(t, e, "/api/v1/accounts/"+a+"/brand/logo", op, "image/png", solidPNG(t, color.RGBA{0xe0, 0x9b, 0x1a, 0xff}))
	if aLogo.Status != 200 {
		t.Fatalf("A's logo: %d %s", aLogo.Status, aLogo.Raw)
	}
	aLogoFile := aLogo.String("logo_url")[strings.LastIndex(aLogo.String("logo_url"), "/")+1:]
	e.Must(t, 200, "PUT", "/api/v1/accounts/"+b+"/brand", op, map[string]any{"product_name": "Beta Watch", "primary_colour": "#0f4c81",
		"accent_colour": "#333333"})

	// Invitations: each client user's activation e-mail wears their
	// integrator's brand.
	invite := func(site, username string) gatehouse.Message {
		e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, map[string]any{"username": username, "first_name": "Zoé",
			"last_name": "Martin", "level": "client_user", "language": "fr"})
		return mailTo(t, e, username)
	}
	zoeMail := invite(aSite, "zoe@example.com")
	bobMail := invite(bSite, "bob@example.com")
	zoeHTML, bobHTML := htmlPartOf(t, zoeMail), htmlPartOf(t, bobMail)
	if zoeMail.FromAddress != "no-reply@acme.example" || !strings.Contains(zoeHTML, aLogoFile) ||
		!strings.Contains(zoeMail.Body, "https://portal.acme.example/activate?token=") {
		t.Errorf("A's activation mail: from %q, HTML has the logo: %v\n%s", zoeMail.FromAddress, strings.Contains(zoeHTML, aLogoFile), zoeMail.Body)
	}
	if strings.Contains(bobHTML+bobMail.Body+bobMail.Subject+bobMail.FromName, "Acme") || strings.Contains(bobHTML, aLogoFile) ||
		!strings.Contains(bobHTML, "Beta Watch") {
		t.Errorf("B's client's mail shows A's brand, or not B's:\n%s", bobHTML)
	}
	for to, m := range map[string]gatehouse.Message{"zoe@example.com": zoeMail, "bob@example.com": bobMail} {
		match := brandedLink.FindStringSubmatch(m.Body)
		if match == nil {
			t.Fatalf("no activation link for %s:\n%s", to, m.Body)
		}
		e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": match[1], "password": password})
	}

	// The activation e-mail's HTML in Chromium. The test server speaks
	// http, so its links are read over http on the same host names.
	mailFile := filepath.Join(t.TempDir(), "activation.html")
	if err := os.WriteFile(mailFile, []byte(strings.ReplaceAll(zoeHTML, "https://portal.acme.example/", "http://portal.acme.example/")), 0o600); err != nil {
		t.Fatal(err)
	}
	inMail := lookAt(t, ctx, "A's activation mail", "file://"+mailFile)
	if !inMail.LogoLoaded || !strings.HasSuffix(inMail.Logo, aLogoFile) || inMail.Band != "rgb(122, 31, 92)" {
		t.Errorf("A's activation mail in Chromium: logo %q loaded %v, header %s", inMail.Logo, inMail.LogoLoaded, inMail.Band)
	}
	screenshot(t, ctx, "branding-activation-mail")

	// The sign-in page of A's host wears A's brand; the platform's own
	// host, the default.
	signIn := lookAt(t, ctx, "sign-in on A's host", "http://portal.acme.example/login")
	if !signIn.LogoLoaded || !strings.HasSuffix(signIn.Logo, aLogoFile) || signIn.Band != "rgb(122, 31, 92)" ||
		signIn.Primary != "rgb(122, 31, 92)" || !strings.Contains(signIn.Title, "Acme Vision") || !strings.Contains(signIn.HTML, "help@acme.example") {
		t.Errorf("sign-in on A's host: %+v", signIn.Title)
	}
	screenshot(t, ctx, "branding-sign-in")
	plain := lookAt(t, ctx, "sign-in on the platform's host", e.URL+"/login")
	if plain.Logo != "" || strings.Contains(plain.HTML, "Acme") || plain.Title != "Sign in · Gatehouse" {
		t.Errorf("sign-in on the platform's host shows a brand: %q %q", plain.Title, plain.Logo)
	}

	// Zoé, signed in, sees A's brand in the portal there. (The form's
	// cross-origin check needs a secure context's Sec-Fetch-Site, which
	// Chromium does not send to a plain http host other than 127.0.0.1:
	// her session is set as the sign-in would.)
	signedInAt(t, ctx, "portal.acme.example", apiSession(t, e, "zoe@example.com", password))
	portal := lookAt(t, ctx, "Zoé's account in the portal", "http://portal.acme.example/accounts/"+aSite)
	if !portal.LogoLoaded || !strings.HasSuffix(portal.Logo, aLogoFile) || portal.Band != "rgb(29, 59, 42)" ||
		portal.Title != "Lyon · Acme Vision" || !strings.Contains(portal.HTML, "help@acme.example") {
		t.Errorf("Zoé's portal: title %q logo %q (%v) bar %s", portal.Title, portal.Logo, portal.LogoLoaded, portal.Band)
	}
	screenshot(t, ctx, "branding-portal")

	// Bob, B's client user, on the platform's host: B's brand, nothing of A.
	bob := apiSession(t, e, "bob@example.com", password)
	signedInAt(t, ctx, server.Hostname(), bob)
	for _, path := range []string{"/accounts", "/accounts/" + bSite, "/profile"} {
		got := lookAt(t, ctx, "Bob at "+path, e.URL+path)
		if strings.Contains(got.HTML, "Acme") || strings.Contains(got.HTML, aLogoFile) || strings.Contains(got.HTML, "7a1f5c") ||
			!strings.HasSuffix(got.Title, " · Beta Watch") || strings.HasPrefix(got.Title, " ·") || got.Band != "rgb(51, 51, 51)" {
			t.Errorf("Bob at %s: title %q, bar %s, A's brand shown: %v", path, got.Title, got.Band, strings.Contains(got.HTML, "Acme"))
		}
	}
	// Nor may he open A's brand page.
	if got := lookAt(t, ctx, "Bob at A's brand page", e.URL+"/accounts/"+a+"/brand"); strings.Contains(got.HTML, "Acme Vision") {
		t.Errorf("Bob reads A's brand page")
	}

	// A's administrator tries an SVG with a script: refused at the field,
	// the logo unchanged.
	e.Must(t, 201, "POST", "/api/v1/accounts/"+a+"/users", op, map[string]any{"username": "iris@example.com", "first_name": "Iris",
		"last_name": "Moreau", "level": "integrator_admin"})
	for _, m := range e.Mail(t) {
		if match := brandedLink.FindStringSubmatch(m.Body); m.To == "iris@example.com" && match != nil {
			e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": match[1], "password": password})
		}
	}
	signedInAt(t, ctx, server.Hostname(), apiSession(t, e, "iris@example.com", password))
	evil := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(evil, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script><rect width="10" height="10"/></svg>`), 0o600); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "upload an SVG with a script", chromedp.Navigate(e.URL+"/accounts/"+a+"/brand"), chromedp.WaitVisible(chromedp.ID("logo")),
		chromedp.SetUploadFiles(chromedp.ID("logo"), []string{evil}), chromedp.Click(chromedp.ID("upload-logo")),
		chromedp.WaitVisible(chromedp.ID("logo-error")))
	screenshot(t, ctx, "branding-svg-refused")
	if got := e.Must(t, 200, "GET", "/api/v1/accounts/"+a+"/brand", op, nil); !strings.HasSuffix(got.String("logo_url"), aLogoFile) {
		t.Errorf("the refused SVG replaced the logo: %s", got.Raw)
	}
	// The brand page itself, its preview following the colour typed.
	step(t, ctx, "type a colour", chromedp.Navigate(e.URL+"/accounts/"+a+"/brand"), chromedp.WaitVisible(chromedp.ID("primary_colour")),
		setField("primary_colour", ""), chromedp.SendKeys(chromedp.ID("primary_colour"), "#204080"),
		waitJS(`getComputedStyle(document.querySelector(".preview-top")).backgroundColor === "rgb(32, 64, 128)"`, "the preview follows"))
	screenshot(t, ctx, "branding-edit")
	step(t, ctx, "a colour white text cannot be read on", setField("primary_colour", "#ffee00"),
		chromedp.Click(chromedp.ID("save-brand")), chromedp.WaitVisible(chromedp.ID("primary_colour-error")))
	if got := e.Must(t, 200, "GET", "/api/v1/accounts/"+a+"/brand", op, nil); got.String("primary_colour") != "#7a1f5c" {
		t.Errorf("a refused colour was saved: %s", got.Raw)
	}
}

// htmlPartOf is the HTML part of a queued e-mail as it is sent.
func htmlPartOf(t *testing.T, m gatehouse.Message) string {
	t.Helper()
	html, err := messages.HTMLPart(m.Subject, m.Body, m.HTMLLayout)
	if err != nil || html == "" {
		t.Fatalf("the HTML part of %q: %v", m.Subject, err)
	}
	return html
}
