package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A reference anywhere in the page, its script or its style sheet to
// another host: a URL with a scheme, a protocol-relative one, or a CSS
// import or url().
var elsewhere = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://|["'(=]\s*//[^/\s]|@import|url\(`)

// /api/docs is the API reference: one HTML page, its script and style
// sheet, all served by Gatehouse itself and naming no other host, under a
// Content-Security-Policy that allows this origin alone.
func TestAPIDocsPage(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	page := e.Do(t, "GET", "/api/docs", "", nil)
	if page.Status != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/api/docs: %d %s", page.Status, page.Header.Get("Content-Type"))
	}
	csp := page.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") ||
		regexp.MustCompile(`https?:|\*`).MatchString(csp) {
		t.Errorf("Content-Security-Policy %q allows more than this origin", csp)
	}
	html := string(page.Raw)
	if m := elsewhere.FindString(html); m != "" {
		t.Errorf("the page refers to another host: %q", m)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "<style") || strings.Contains(html, " style=") {
		t.Errorf("inline script or style, which the policy refuses")
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(html, -1)
	assets := map[string]string{}
	for _, ref := range refs {
		if !strings.HasPrefix(ref[1], "/") || strings.HasPrefix(ref[1], "//") {
			t.Errorf("%q is not on this server", ref[1])
		}
		if strings.HasPrefix(ref[1], "/api/docs?asset=") {
			assets[ref[1]] = ""
		}
	}
	if len(assets) != 2 {
		t.Fatalf("the page loads %d assets of its own, want its script and style sheet: %q", len(assets), refs)
	}
	for path := range assets {
		r := e.Do(t, "GET", path, "", nil)
		if r.Status != 200 || r.Header.Get("Content-Security-Policy") != csp || len(r.Raw) == 0 {
			t.Errorf("%s: %d, policy %q, %d bytes", path, r.Status, r.Header.Get("Content-Security-Policy"), len(r.Raw))
		}
		want := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(path, ".js")]
		if !strings.HasPrefix(r.Header.Get("Content-Type"), want) {
			t.Errorf("%s is %s, want %s", path, r.Header.Get("Content-Type"), want)
		}
		if m := elsewhere.FindString(string(r.Raw)); m != "" {
			t.Errorf("%s refers to another host: %q", path, m)
		}
	}
	if r := e.Do(t, "GET", "/api/docs?asset=../openapi.go", "", nil); r.Status != 404 {
		t.Errorf("an unknown asset answered %d", r.Status)
	}
}

// In a real browser, under its own policy, the page reads /openapi.json and
// shows every operation, grouped by path, with its parameters, body and
// answers.
func TestAPIDocsRendersInChromium(t *testing.T) {
	t.Parallel()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is missing at %s; .ci/run installs it", chromium)
		}
		t.Skipf("Chromium is missing at %s: install it (apt-get install -y chromium) to run this test", chromium)
	}
	e := sqliteEnv(t)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(e.Must(t, 200, "GET", "/openapi.json", "", nil).Raw, &doc); err != nil {
		t.Fatal(err)
	}
	operations := 0
	for _, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				operations++
			}
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTime := context.WithTimeout(ctx, time.Minute)
	defer func() { cancelTime(); cancelTab(); cancelAlloc() }()

	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/api/docs#post-api-v1-accounts-id-users"),
		waitFor(`document.body.dataset.rendered !== undefined`)); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("the page did not render: %v\n%.1000s", err, body)
	}
	got := evaluate[map[string]any](t, ctx, `(() => {
		const add = document.getElementById("post-api-v1-accounts-id-users");
		return {
			paths: document.querySelectorAll("section.path-group").length,
			operations: document.querySelectorAll("details.operation").length,
			styled: getComputedStyle(document.querySelector("details.operation")).borderLeftWidth,
			opened: !!add && add.open,
			addUser: add ? add.innerText : "",
		};
	})()`)
	if got["paths"] != float64(len(doc.Paths)) || got["operations"] != float64(operations) {
		t.Errorf("%v paths and %v operations shown, want %d and %d", got["paths"], got["operations"], len(doc.Paths), operations)
	}
	if got["styled"] != "4px" {
		t.Errorf("the style sheet did not apply (border %v)", got["styled"])
	}
	addUser, _ := got["addUser"].(string)
	for _, want := range []string{"POST", "/api/v1/accounts/{id}/users", "username", "required", "integrator_admin", "201", "Membership", "Needs a bearer token"} {
		if !strings.Contains(addUser, want) {
			t.Errorf("the add-user operation, opened from the address, lacks %q:\n%s", want, addUser)
		}
	}
	if got["opened"] != true {
		t.Errorf("the operation named in the address is not open")
	}
	// The filter keeps the operations that match.
	shown := evaluate[float64](t, ctx, `(() => {
		const f = document.getElementById("filter");
		f.value = "check-tokens";
		f.dispatchEvent(new Event("input"));
		return [...document.querySelectorAll("details.operation")].filter(d => !d.hidden && !d.closest("section").hidden).length;
	})()`)
	if shown != 3 {
		t.Errorf("the filter check-tokens shows %v operations, want 3", shown)
	}
}

func evaluate[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return v
}

// waitFor waits until the expression is true in the page.
func waitFor(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			if ok, err := chromedp.Evaluate[bool](js)(ctx, t); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w", js, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}
