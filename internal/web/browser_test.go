package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

const chromiumPath = "/usr/bin/chromium"

// startBrowser starts headless Chromium for one test. Without Chromium the
// test is skipped, except in CI, where it fails: CI installs it.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	return startBrowserWith(t)
}

// startBrowserWith starts Chromium as startBrowser does, with more flags.
func startBrowserWith(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is missing at %s; .ci/run installs it (apt-get install -y chromium)", chromiumPath)
		}
		t.Skipf("Chromium is missing at %s: install it (apt-get install -y chromium) to run the browser tests", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// unlabelled lists the page's form controls that have no label: a screen
// reader would announce them as nothing.
const unlabelled = `[...document.querySelectorAll("input:not([type=hidden]):not([type=submit]), select, textarea")]
	.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")).map(e => e.name || e.id)`

// screenshot checks that every form control of the page has a label and,
// when GATEHOUSE_SCREENSHOTS=1, saves the page as
// docs/screenshots/<name>.png for the README. Only when asked: a test run
// must leave the working tree as it found it.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if missing, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](unlabelled)); err != nil || len(missing) > 0 {
		t.Errorf("%s: form controls without a label: %v %v", name, missing, err)
	}
	if name == "" || os.Getenv("GATEHOUSE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func step(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx, steps...); err != nil {
		// What the page shows, if the browser still answers soon.
		look, cancelLook := context.WithTimeout(ctx, 5*time.Second)
		defer cancelLook()
		location, _ := chromedp.Run(look, chromedp.Location())
		body, _ := chromedp.Run(look, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v\nat %s\n%.1500s", what, err, location, body)
	}
}

// waitText waits until the element's text contains want: after a click
// that loads a new page, the old page's element may still be there.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
	return waitJS(js, fmt.Sprintf("%q in %s", want, sel))
}

// waitJS waits until the expression is true in the page.
func waitJS(js, what string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			// A page being replaced loses its script context: ask again.
			if ok, err := chromedp.Evaluate[bool](js)(ctx, t); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// waitLocation waits until the page's address contains want.
func waitLocation(want string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`location.href.includes(%q)`, want), "the address to contain "+want)
}

// text reads the text of the first element sel finds. The address changes
// as a navigation begins, so a page just waited for by its address may
// still replace its document while the element is read: then it is read
// again from the new document.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil {
			return s
		}
		if attempt == 20 || !strings.Contains(err.Error(), "No node with given id") {
			t.Fatalf("text of %s: %v", sel, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A person's whole first day in the portal, in a real browser:
// activation → sign-in with authenticator enrollment → add a user → bulk
// invite preview and confirm → resend and cancel an invitation → create
// the remote monitoring user and download its connection details → switch
// account; at a desktop's width and a phone's, in English and in French
// (what the test looks for on the pages is read from the catalogue of the
// page's language). With GATEHOUSE_SCREENSHOTS=1, screenshots of the main
// pages in English at 1280 px go to docs/screenshots/.
func TestPortalInABrowser(t *testing.T) {
	for _, v := range []struct {
		lang  string
		width int64
	}{{"en", 1280}, {"fr", 1280}, {"en", 390}, {"fr", 390}} {
		t.Run(fmt.Sprintf("%s-%dpx", v.lang, v.width), func(t *testing.T) { portalJourney(t, v.lang, v.width) })
	}
}

func portalJourney(t *testing.T, lang string, width int64) {
	ctx := startBrowser(t)
	tr := func(key string) string {
		text, ok := web.PageTexts[lang][key]
		if !ok {
			t.Fatalf("no text %q", key)
		}
		return text
	}
	// Screenshots are of the English pages at a desktop's width.
	shot := func(name string) string {
		if lang == "en" && width == 1280 {
			return name
		}
		return ""
	}
	step(t, ctx, "window and language", chromedp.EmulateViewport(width, 900), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}})
		return err
	}))
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	op := apitest.OperatorToken
	in := e.CreateAccount(t, "integrator", "Acme Security", "")
	store := e.Must(t, 201, "POST", "/api/v1/accounts", op, map[string]any{"kind": "client", "name": "Store 12",
		"integrator_id": in, "address": "12 Rue de la Paix, Paris"}).String("id")
	other := e.CreateAccount(t, "client", "Store 14", in)
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+store+"/settings", op, map[string]any{"client_admins_can_add_remote_monitoring": true})
	zoe := map[string]any{"username": "zoe@example.com", "first_name": "Zoé", "last_name": "Martin", "level": "client_admin", "language": lang}
	e.Must(t, 201, "POST", "/api/v1/accounts/"+store+"/users", op, zoe)
	e.Must(t, 201, "POST", "/api/v1/accounts/"+other+"/users", op, zoe)
	tokens := e.ActivationTokens(t, "zoe@example.com")
	if len(tokens) == 0 {
		t.Fatal("no activation link")
	}
	const password = "tramway olive canyon"

	// Activation.
	step(t, ctx, "activation page",
		chromedp.Navigate(e.URL+"/activate?token="+tokens[len(tokens)-1]),
		chromedp.WaitVisible(chromedp.ID("password")))
	screenshot(t, ctx, shot("activate"))
	step(t, ctx, "activate", chromedp.SendKeys(chromedp.ID("password"), password), chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`p[role=status]`)))

	// Sign-in: administrators enroll an authenticator on the way (R-P4).
	step(t, ctx, "sign-in page", chromedp.Navigate(e.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")))
	screenshot(t, ctx, shot("login"))
	signInEnrolling(t, ctx, e, "zoe@example.com", password, "accounts", shot("mfa-enrollment"))
	if list := text(t, ctx, "#accounts"); !strings.Contains(list, "Store 12") || !strings.Contains(list, "Store 14") {
		t.Errorf("accounts page lists %q", list)
	}
	screenshot(t, ctx, shot("accounts"))

	// Add a user.
	step(t, ctx, "open Store 12", chromedp.Click(chromedp.CSS(`#accounts a[href="/accounts/`+store+`"]`)),
		chromedp.WaitVisible(chromedp.ID("members")))
	step(t, ctx, "add-user form", chromedp.Click(chromedp.ID("add-user")), chromedp.WaitVisible(chromedp.ID("first_name")))
	step(t, ctx, "fill the form", chromedp.SendKeys(chromedp.ID("first_name"), "Ann"), chromedp.SendKeys(chromedp.ID("last_name"), "Lee"),
		chromedp.SendKeys(chromedp.ID("username"), "ann@example.com"), chromedp.SendKeys(chromedp.ID("phone"), "+33 6 12 34 56 78"))
	screenshot(t, ctx, shot("add-user"))
	step(t, ctx, "save the user", chromedp.Click(chromedp.ID("save-user")), waitText("#flash", "ann@example.com"))
	if members := text(t, ctx, "#members"); !strings.Contains(members, "ann@example.com") || !strings.Contains(members, tr("status_activation_required")) {
		t.Errorf("members after adding Ann: %q", members)
	}
	if recent := text(t, ctx, "#recent"); !strings.Contains(recent, tr("audit_user.added")+": Ann Lee (ann@example.com)") {
		t.Errorf("the overview's recent changes: %q", recent)
	}
	if limit := text(t, ctx, "#user-limit"); !strings.HasPrefix(limit, "1 / 9") {
		t.Errorf("limit shown %q, want 1 / 9", limit)
	}
	screenshot(t, ctx, shot("users"))

	// An error comes back at its field.
	step(t, ctx, "add-user form again", chromedp.Click(chromedp.ID("add-user")), chromedp.WaitVisible(chromedp.ID("first_name")),
		chromedp.SendKeys(chromedp.ID("first_name"), "Bad"), chromedp.SendKeys(chromedp.ID("last_name"), "Phone"),
		chromedp.SendKeys(chromedp.ID("username"), "bad@example.com"), chromedp.SendKeys(chromedp.ID("phone"), "12"),
		chromedp.Click(chromedp.ID("save-user")), chromedp.WaitVisible(chromedp.ID("phone-error")))

	ann, err := e.Store.UserByUsername(t.Context(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}

	// Ann's page: her roles change there, and removing her asks first.
	step(t, ctx, "Ann's page", chromedp.Navigate(e.URL+"/accounts/"+store), chromedp.WaitVisible(chromedp.ID("members")),
		chromedp.Click(chromedp.Search(`//table[@id="members"]//a[contains(., "Ann")]`)), chromedp.WaitVisible(chromedp.ID("member")))
	if details := text(t, ctx, "#member"); !strings.Contains(details, "ann@example.com") || !strings.Contains(details, tr("status_activation_required")) {
		t.Errorf("Ann's page: %q", details)
	}
	step(t, ctx, "give Ann the editor role", chromedp.Click(chromedp.CSS(`#member-form input[value="editor"]`)),
		chromedp.Click(chromedp.CSS(`#member-form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("flash")))
	screenshot(t, ctx, shot("member"))
	annMember, _ := e.Store.MemberByUser(t.Context(), store, ann.ID)
	annMembership := annMember.ID
	if m, _ := e.Store.MemberByUser(t.Context(), store, ann.ID); !slices.Contains(m.Roles, "editor") {
		t.Errorf("Ann's roles after the change: %v", m.Roles)
	}
	step(t, ctx, "remove Ann?", chromedp.Click(chromedp.ID("remove-member")), chromedp.WaitVisible(chromedp.ID("confirm")))
	step(t, ctx, "no, go back", chromedp.Click(chromedp.ID("confirm-back")), chromedp.WaitVisible(chromedp.ID("member")))
	if _, err := e.Store.MemberByUser(t.Context(), store, ann.ID); err != nil {
		t.Errorf("going back from the confirmation removed Ann: %v", err)
	}

	// Bulk invite: upload, preview, confirm.
	csvFile := filepath.Join(t.TempDir(), "people.csv")
	csv := "email,first_name,last_name,role\nben@example.com,Ben,Moreau,viewer\ncleo@example.com,,,editor\nnot an address,,,viewer\nann@example.com,Ann,,viewer\n"
	if err := os.WriteFile(csvFile, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "bulk page", chromedp.Navigate(e.URL+"/accounts/"+store+"/bulk"), chromedp.WaitVisible(chromedp.ID("file")))
	template, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.getElementById("bulk-template").href).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(template, "email,first_name,last_name,role,home_folder\r\n") {
		t.Errorf("the CSV template: %v %q", err, template)
	}
	step(t, ctx, "bulk upload",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{csvFile}), chromedp.Click(chromedp.ID("preview")),
		chromedp.WaitVisible(chromedp.ID("totals")))
	if totals := text(t, ctx, "#totals"); !strings.Contains(totals, tr("outcome_invite")+": 2") || !strings.Contains(totals, tr("outcome_invalid_email")+": 1") ||
		!strings.Contains(totals, tr("outcome_already_member")+": 1") {
		t.Errorf("bulk totals %q", totals)
	}
	// The names are a column a phone leaves out.
	if rows := text(t, ctx, "#bulk-rows"); width > 390 && !strings.Contains(rows, "Ben Moreau") {
		t.Errorf("the preview shows no names: %q", rows)
	}
	screenshot(t, ctx, shot("bulk-preview"))
	step(t, ctx, "confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("bulk-done")))
	if done := text(t, ctx, "#bulk-done"); !strings.HasSuffix(strings.TrimSpace(done), "2") {
		t.Errorf("bulk done: %q", done)
	}
	result, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.getElementById("download-result").href).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(result, "ben@example.com,Ben,Moreau,viewer,,invite,invited") ||
		!strings.Contains(result, "not an address,,,viewer,,invalid_email,,") {
		t.Errorf("the result file: %v\n%s", err, result)
	}

	// A change of a long value without spaces, made and undone: the audit
	// log shows both, and must wrap them rather than widen a phone's page.
	long := strings.Repeat("Zone-industrielle-des-Grandes-Terres-", 5)
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+store, op, map[string]string{"address": long})
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+store, op, map[string]string{"address": "12 Rue de la Paix, Paris"})

	// On a phone.
	step(t, ctx, "phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.URL+"/accounts/"+store), chromedp.WaitVisible(chromedp.ID("members")))
	screenshot(t, ctx, shot("phone-users"))
	// No page is wider than a phone.
	for _, path := range []string{"/invitations", "/bulk", "/users/new", "/roles", "/folders", "/groups", "/audit", "/remote-monitoring", "/api-tokens", "/users/" + annMembership} {
		step(t, ctx, "phone "+path, chromedp.Navigate(e.URL+"/accounts/"+store+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if width > 390 {
			t.Errorf("%s is %d px wide on a 390 px phone", "/accounts/…"+path, width)
		}
		switch path {
		case "/api-tokens":
			screenshot(t, ctx, shot("phone-api-tokens"))
		case "/audit":
			if changes := text(t, ctx, "#audit"); !strings.Contains(changes, long) {
				t.Errorf("the audit log on a phone does not show the long address changed: %q", changes)
			}
			screenshot(t, ctx, shot("phone-audit"))
		case "/users/" + annMembership:
			screenshot(t, ctx, shot("phone-member"))
		}
	}
	step(t, ctx, "desktop", chromedp.EmulateViewport(width, 900))

	// Pending invitations: resend one, cancel another.
	step(t, ctx, "invitations", chromedp.Navigate(e.URL+"/accounts/"+store+"/invitations"), chromedp.WaitVisible(chromedp.ID("invitations")))
	screenshot(t, ctx, shot("invitations"))
	e.Mail(t)
	step(t, ctx, "resend", chromedp.Click(chromedp.CSS(`tr[data-email="ben@example.com"] button.resend`)), waitText("#flash", tr("invitation_resent")))
	if flash := text(t, ctx, "#flash"); !strings.Contains(flash, "ben@example.com") {
		t.Errorf("after resending: %q", flash)
	}
	if links := e.ActivationTokens(t, "ben@example.com"); len(links) != 1 {
		t.Errorf("%d new links mailed to Ben after the resend, want 1", len(links))
	}
	step(t, ctx, "invitation details", chromedp.Click(chromedp.CSS(`tr[data-email="cleo@example.com"] a`)), chromedp.WaitVisible(chromedp.ID("invitation")))
	if details := text(t, ctx, "#invitation"); !strings.Contains(details, "zoe@example.com") || !strings.Contains(details, tr("invitation_pending")) ||
		!strings.Contains(details, "editor") || !strings.Contains(details, tr("level_client_user")) {
		t.Errorf("invitation details: %q", details)
	}
	step(t, ctx, "back to the list", chromedp.Navigate(e.URL+"/accounts/"+store+"/invitations"), chromedp.WaitVisible(chromedp.ID("invitations")))
	// Cancelling asks first, saying what is lost.
	step(t, ctx, "cancel", chromedp.Click(chromedp.CSS(`tr[data-email="cleo@example.com"] a.cancel`)), chromedp.WaitVisible(chromedp.ID("confirm")))
	if question := text(t, ctx, "#confirm"); !strings.Contains(question, tr("confirm_cancel_invitation_loses")) {
		t.Errorf("the cancel confirmation says %q", question)
	}
	screenshot(t, ctx, shot("confirm"))
	step(t, ctx, "confirm the cancel", chromedp.Click(chromedp.ID("confirm-button")), waitText("#flash", tr("invitation_cancelled_flash")))
	if list := text(t, ctx, "#invitations"); strings.Contains(list, "cleo@example.com") || !strings.Contains(list, "ben@example.com") {
		t.Errorf("pending invitations after cancelling Cleo's: %q", list)
	}

	// The remote monitoring user, and its connection details downloaded.
	downloads := t.TempDir()
	step(t, ctx, "remote monitoring", chromedp.Navigate(e.URL+"/accounts/"+store+"/remote-monitoring"),
		chromedp.WaitVisible(chromedp.ID("description")), chromedp.SendKeys(chromedp.ID("description"), "Central station Lyon"),
		chromedp.Click(chromedp.ID("create-remote")), chromedp.WaitVisible(chromedp.ID("download-details")),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
			return err
		}))
	screenshot(t, ctx, shot("remote-monitoring"))
	if steps := text(t, ctx, "#federation"); !strings.Contains(steps, tr("federation_step2")) {
		t.Errorf("the remote monitoring page does not say how to connect the station: %q", steps)
	}
	step(t, ctx, "download", chromedp.Click(chromedp.ID("download-details")))
	details := waitForFile(t, downloads)
	for _, line := range []string{"Username: rm_", "Password: ", "Server: "} {
		if !strings.Contains(details, line) {
			t.Errorf("connection details lack %q:\n%s", line, details)
		}
	}

	// Who may do what, where: a custom role, a folder tree, a grant, a group
	// (R-A1…R-A4), and the audit log filtered (R-X1).
	base := e.URL + "/accounts/" + store
	step(t, ctx, "roles", chromedp.Navigate(base+"/roles"), chromedp.WaitVisible(chromedp.ID("role-name")),
		chromedp.SendKeys(chromedp.ID("role-name"), "Guard"),
		chromedp.Click(chromedp.CSS(`input[name=permissions][value="cameras.view"]`)),
		chromedp.Click(chromedp.CSS(`input[name=permissions][value="cameras.control"]`)),
		chromedp.Click(chromedp.ID("save-role")), waitText("#flash", "Guard"))
	if roles := text(t, ctx, `#roles tr[data-role="Guard"]`); !strings.Contains(roles, "cameras.control") || strings.Contains(roles, "media") {
		t.Errorf("the Guard role as listed: %q", roles)
	}
	screenshot(t, ctx, shot("roles"))
	step(t, ctx, "folders", chromedp.Navigate(base+"/folders"), chromedp.WaitVisible(chromedp.ID("folder-name")),
		chromedp.SendKeys(chromedp.ID("folder-name"), "Stores"), chromedp.Click(chromedp.ID("create-folder")), waitText("#flash", "Stores"),
		chromedp.SendKeys(chromedp.ID("folder-name"), "East"), chromedp.SetValue(chromedp.ID("folder-parent"), ""),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("folder-parent"); s.value = s.options[1].value; })()`),
		chromedp.Click(chromedp.ID("create-folder")), waitText("#folder-tree", "/Stores/East"))
	screenshot(t, ctx, shot("folders"))
	step(t, ctx, "a grant", chromedp.Click(chromedp.CSS(`#folder-tree a`)), chromedp.WaitVisible(chromedp.ID("grantee")),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("grant-role"); s.value = "Guard"; })()`),
		chromedp.Click(chromedp.ID("add-grant")), waitText("#grants", "Guard"))
	if grants := text(t, ctx, "#grants"); !strings.Contains(grants, "ann@example.com") {
		t.Errorf("grants on /Stores: %q", grants)
	}
	screenshot(t, ctx, shot("folder-grants"))
	step(t, ctx, "groups", chromedp.Navigate(base+"/groups"), chromedp.WaitVisible(chromedp.ID("group-name-input")),
		chromedp.SendKeys(chromedp.ID("group-name-input"), "Night shift"),
		chromedp.Click(chromedp.CSS(`input[name=roles][value="viewer"]`)), chromedp.Click(chromedp.ID("create-group")),
		waitText("#groups", "Night shift"), chromedp.Click(chromedp.CSS(`#groups a`)), chromedp.WaitVisible(chromedp.ID("group-member")),
		chromedp.Click(chromedp.ID("add-member")), waitText("#group-members", "@example.com"))
	screenshot(t, ctx, shot("groups"))
	step(t, ctx, "audit", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(chromedp.ID("audit")),
		chromedp.Evaluate[chromedp.Void](`(() => { document.getElementById("action").value = "role."; })()`),
		chromedp.Click(chromedp.ID("filter")), waitLocation("action=role."), chromedp.WaitVisible(chromedp.ID("audit")))
	if audit := text(t, ctx, "#audit"); strings.Contains(audit, "folder.created") || !strings.Contains(audit, "zoe@example.com") {
		t.Errorf("the audit log filtered on roles: %q", audit)
	}
	screenshot(t, ctx, shot("audit"))
	// Ann's grant counts once she activates (R-M3).
	for _, inv := range e.Must(t, 200, "GET", "/api/v1/accounts/"+store+"/invitations?status=pending", op, nil).Items() {
		if inv["email"] == "ann@example.com" {
			e.Must(t, 200, "POST", "/api/v1/invitations/"+inv["id"].(string)+"/resend", op, nil)
		}
	}
	annLinks := e.ActivationTokens(t, "ann@example.com")
	if len(annLinks) == 0 {
		t.Fatal("no new link for Ann")
	}
	e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": annLinks[0], "password": "ann's own passphrase"})
	check := e.Must(t, 200, "POST", "/api/v1/check", op, map[string]string{"user_id": ann.ID, "account_id": store,
		"permission": "cameras.control", "folder_id": firstFolder(t, e, store)})
	if check.Body["allowed"] != true {
		t.Errorf("the grant made in the browser does not answer checks: %s", check.Raw)
	}

	// Switch account.
	step(t, ctx, "switch account", chromedp.SetValue(chromedp.ID("switch-account"), other), chromedp.Submit(chromedp.ID("switch-account")),
		waitText("#account-name", "Store 14"), chromedp.WaitVisible(chromedp.ID("members")))
	if name := text(t, ctx, "#account-name"); name != "Store 14" {
		t.Errorf("after switching: %q", name)
	}

	// The profile: a phone, then SMS as the second factor, then recovery codes.
	step(t, ctx, "profile", chromedp.Navigate(e.URL+"/profile"), chromedp.WaitVisible(chromedp.ID("save-profile")),
		chromedp.SetValue(chromedp.ID("phone"), "+33 6 98 76 54 32"), chromedp.Click(chromedp.ID("save-profile")),
		waitText("#flash", strings.TrimRight(tr("saved_flash"), " :")), chromedp.Click(chromedp.ID("use-sms")), chromedp.WaitVisible(chromedp.ID("confirm-factor")))
	var smsCode string
	for _, m := range e.Mail(t) {
		if m.Channel == gatehouse.ChannelSMS && m.To == "+33698765432" {
			smsCode = sixDigits.FindString(m.Body)
		}
	}
	step(t, ctx, "confirm SMS", chromedp.SendKeys(chromedp.ID("code"), smsCode), chromedp.Click(chromedp.ID("confirm-factor")),
		waitText("#mfa-method", tr("mfa_method_sms")), chromedp.Click(chromedp.ID("new-recovery-codes")), chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	if codes := text(t, ctx, "#recovery-codes"); len(recoveryCode.FindAllString(codes, -1)) != 10 {
		t.Errorf("recovery codes shown: %q", codes)
	}
	// The page that shows the new codes counts them among those left.
	if method := text(t, ctx, "#mfa-method"); !strings.Contains(method, tr("mfa_method_sms")) || !strings.HasSuffix(method, " 10") {
		t.Errorf("second factor shown with the new codes: %q", method)
	}
	screenshot(t, ctx, shot("profile"))

	// What the browser did is what the server recorded.
	if ann.Phone != "+33612345678" {
		t.Errorf("Ann as stored: %+v", ann)
	}
	if cleo, _ := e.Store.UsersByUsername(t.Context(), []string{"cleo@example.com"}); len(cleo) != 1 {
		t.Errorf("Cleo's identity: %v", cleo)
	}
	var cancelled int
	for _, inv := range e.Must(t, 200, "GET", "/api/v1/accounts/"+store+"/invitations?status=pending", op, nil).Items() {
		if inv["email"] == "cleo@example.com" {
			cancelled++
		}
	}
	if cancelled != 0 {
		t.Errorf("Cleo's invitation is still listed as pending")
	}
}

var (
	sixDigits    = regexp.MustCompile(`\b[0-9]{6}\b`)
	recoveryCode = regexp.MustCompile(`\b[a-z2-9]{5}-[a-z2-9]{5}\b`)
)

// waitForFile returns the content of the first file downloaded into dir.
func waitForFile(t *testing.T, dir string) string {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
		for _, f := range files {
			if raw, err := os.ReadFile(f); err == nil && len(raw) > 0 {
				return string(raw)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	t.Fatalf("nothing downloaded into %s: %v", dir, fmt.Sprint(entries))
	return ""
}

// firstFolder returns the id of the account's first folder by path.
func firstFolder(t *testing.T, e *apitest.Env, account string) string {
	t.Helper()
	items := e.Must(t, 200, "GET", "/api/v1/accounts/"+account+"/folders", apitest.OperatorToken, nil).Items()
	if len(items) == 0 {
		t.Fatal("no folders")
	}
	return items[0]["id"].(string)
}

// signInEnrolling signs in on the sign-in page as someone who must enroll
// an authenticator, enrolls with the QR page's key, and waits for the
// element with the given id on the page that follows.
func signInEnrolling(t *testing.T, ctx context.Context, e *apitest.Env, username, password, landing, shot string) {
	t.Helper()
	step(t, ctx, "open the sign-in page", chromedp.Navigate(e.URL+"/login"))
	enrollAtSignIn(t, ctx, e, username, password, landing, shot)
}

// enrollAtSignIn is signInEnrolling on the sign-in page the browser is on
// (an application sent it there, with the address to return to).
func enrollAtSignIn(t *testing.T, ctx context.Context, e *apitest.Env, username, password, landing, shot string) {
	t.Helper()
	step(t, ctx, "sign in", chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password), chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("totp-qr")))
	if shot != "" {
		screenshot(t, ctx, shot)
	}
	secret := text(t, ctx, "#totp-secret")
	if username == "zoe@example.com" {
		// A mistyped code keeps the key the app was just given.
		// The refusal's page has the alert the first page lacks: waiting for
		// it, not for the QR code both pages show, is waiting for the new page.
		step(t, ctx, "a wrong code", chromedp.SendKeys(chromedp.ID("code"), "000000"), chromedp.Submit(chromedp.ID("code")),
			chromedp.WaitVisible(chromedp.CSS(`p[role=alert]`)), chromedp.WaitVisible(chromedp.ID("totp-qr")))
		if again := text(t, ctx, "#totp-secret"); again != secret {
			t.Errorf("a wrong enrollment code changed the key from %q to %q", secret, again)
		}
	}
	code, err := totp.GenerateCodeCustom(secret, e.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "enroll", chromedp.SendKeys(chromedp.ID("code"), code), chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID(landing)))
}

// Operators as people in the portal: an operator signs in (with a
// second factor), finds and creates integrators, creates a client account
// under one, and changes the settings only support may change (R-L1).
func TestOperatorPortalInABrowser(t *testing.T) {
	ctx := startBrowser(t)
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	op := apitest.OperatorToken
	support := e.CreateAccount(t, "integrator", "Platform Support", "")
	e.CreateAccount(t, "integrator", "Acme Security", "")
	sam := e.Must(t, 201, "POST", "/api/v1/accounts/"+support+"/users", op, map[string]any{"username": "sam@example.com",
		"first_name": "Sam", "last_name": "Support", "level": "integrator_user"}).String("user_id")
	const password = "lantern marble orchard"
	e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": e.ActivationTokens(t, "sam@example.com")[0], "password": password})
	e.Must(t, 200, "PUT", "/api/v1/operators/"+sam, op, nil)

	signInEnrolling(t, ctx, e, "sam@example.com", password, "integrators", "")
	if list := text(t, ctx, "#integrators"); !strings.Contains(list, "Acme Security") || !strings.Contains(list, "Platform Support") {
		t.Errorf("integrators an operator sees: %q", list)
	}
	step(t, ctx, "search", chromedp.SendKeys(chromedp.ID("q"), "acme"), chromedp.Submit(chromedp.ID("q")), waitLocation("q=acme"))
	if list := text(t, ctx, "#integrators"); strings.Contains(list, "Platform Support") {
		t.Errorf("search for acme: %q", list)
	}
	step(t, ctx, "new integrator", chromedp.SendKeys(chromedp.ID("integrator-name"), "Beta Systems"), chromedp.Click(chromedp.ID("create-integrator")),
		waitText("#account-name", "Beta Systems"), chromedp.WaitVisible(chromedp.ID("client-name")))
	step(t, ctx, "new client", chromedp.SendKeys(chromedp.ID("client-name"), "Depot 3"), chromedp.SendKeys(chromedp.ID("client-address"), "3 Quai Est, Lyon"),
		chromedp.Click(chromedp.ID("create-client")), waitText("#account-name", "Depot 3"))
	screenshot(t, ctx, "operator-client")
	step(t, ctx, "settings", chromedp.Click(chromedp.CSS(`nav.tabs a[href$="/settings"]`)), chromedp.WaitVisible(chromedp.ID("max_client_users")),
		chromedp.SetValue(chromedp.ID("max_client_users"), "abc"), chromedp.Click(chromedp.ID("save-settings")), chromedp.WaitVisible(chromedp.ID("max-error")),
		chromedp.SetValue(chromedp.ID("max_client_users"), "12"), chromedp.Click(chromedp.ID("remote_switch")),
		chromedp.Click(chromedp.ID("save-settings")), waitText("#flash", "Saved"))
	screenshot(t, ctx, "settings")
	var depot map[string]any
	for _, a := range e.Must(t, 200, "GET", "/api/v1/accounts?q=depot", op, nil).Items() {
		depot = a
	}
	settings, _ := depot["settings"].(map[string]any)
	if depot["address"] != "3 Quai Est, Lyon" || settings["max_client_users"] != float64(12) || settings["client_admins_can_add_remote_monitoring"] != true {
		t.Errorf("the client account as stored: %v", depot)
	}
}
