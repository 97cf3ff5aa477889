package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/passkeytest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"
)

// pageChecks is what the walk asks of every page, in the browser: its
// status, its width, its form controls without a label, its destructive
// forms outside a confirmation, the addresses of its destructive links,
// and every word it shows (text, options, placeholders, labels for screen
// readers).
const pageChecks = `(() => {
	const nav = performance.getEntriesByType("navigation")[0];
	const destructive = /\/(delete|remove|revoke|cancel|credentials|reset-mfa|off|end|end-sessions|suspend)$/;
	// Literal code (a CSV column's name, a permission's) and words marked
	// as another language (a language's own name) are left out.
	const page = document.body.cloneNode(true);
	page.querySelectorAll("code, script, [lang]:not([lang=" + document.documentElement.lang + "])").forEach(e => e.remove());
	const walker = document.createTreeWalker(page, NodeFilter.SHOW_TEXT);
	const words = [];
	while (walker.nextNode()) { words.push(walker.currentNode.textContent); }
	document.querySelectorAll("option, [placeholder], [aria-label], [alt], [title]").forEach(e => {
		if (e.closest("code") || (e.closest("[lang]") && e.closest("[lang]").lang !== document.documentElement.lang)) { return; }
		words.push(e.tagName === "OPTION" ? e.textContent : "", e.getAttribute("placeholder") || "",
			e.getAttribute("aria-label") || "", e.getAttribute("alt") || "", e.getAttribute("title") || "");
	});
	return {
		status: nav ? nav.responseStatus : 0,
		width: document.documentElement.scrollWidth,
		unlabelled: [...document.querySelectorAll("input:not([type=hidden]):not([type=submit]), select, textarea")]
			.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")).map(e => e.name || e.id),
		unconfirmed: [...document.forms].filter(f => !f.closest("#confirm") &&
			(f.querySelector("button.danger") || destructive.test(new URL(f.action, location.href).pathname))).map(f => f.action),
		dangerLinks: [...document.querySelectorAll("a[href]")].filter(a => a.classList.contains("danger") ||
			(a.origin === location.origin && destructive.test(a.pathname))).map(a => a.href),
		text: words.join("\n"),
	};
})()`

type pageReport struct {
	Status      int      `json:"status"`
	Width       int      `json:"width"`
	Unlabelled  []string `json:"unlabelled"`
	Unconfirmed []string `json:"unconfirmed"`
	DangerLinks []string `json:"dangerLinks"`
	Text        string   `json:"text"`
}

var (
	letters   = regexp.MustCompile(`\p{L}+`)
	addresses = regexp.MustCompile(`\S+@\S+|https?://\S+`)
)

// englishOnly is every word of the English catalogue that the French one
// never uses: such a word on a French page is English left untranslated.
// Words of three letters or fewer are left out (names of codes, "SMS").
func englishOnly() map[string]bool {
	french := map[string]bool{}
	for _, text := range web.PageTexts["fr"] {
		for _, w := range letters.FindAllString(strings.ToLower(text), -1) {
			french[w] = true
		}
	}
	out := map[string]bool{}
	for _, text := range web.PageTexts["en"] {
		for _, w := range letters.FindAllString(strings.ToLower(text), -1) {
			if len([]rune(w)) > 3 && !french[w] {
				out[w] = true
			}
		}
	}
	return out
}

// apiSession signs a person in through the API, enrolling an authenticator
// when their level requires one, and returns the session's secret.
func apiSession(t *testing.T, e *apitest.Env, username, password string) string {
	t.Helper()
	r := e.Do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": username, "password": password})
	if token := r.String("token"); token != "" {
		return token
	}
	code, err := totp.GenerateCodeCustom(r.String("totp_secret"), e.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return e.Must(t, 201, "POST", "/api/v1/sessions/mfa", "", map[string]string{"challenge": r.String("challenge"), "code": code}).String("token")
}

// activated adds a person to an account as the operator and activates them.
func activated(t *testing.T, e *apitest.Env, account string, person map[string]any, password string) string {
	t.Helper()
	m := e.Must(t, 201, "POST", "/api/v1/accounts/"+account+"/users", apitest.OperatorToken, person)
	if tokens := e.ActivationTokens(t, person["username"].(string)); len(tokens) > 0 {
		e.Must(t, 200, "POST", "/api/v1/activate", "", map[string]string{"token": tokens[len(tokens)-1], "password": password})
	}
	return m.String("user_id")
}

// Every page of the portal, at a desktop's and a phone's width, in English
// and in French, as an integrator's administrator, a client's
// administrator and an operator see it: no page answers 5xx, none is wider
// than the window, every form control has a label, every destructive form
// is a confirmation (its button elsewhere is a link to the confirmation,
// which the walk follows), and a French page shows no English word of the
// catalogue. With GATEHOUSE_SCREENSHOTS=1 the English pages are saved to
// docs/screenshots/pages/ at both widths, for docs/portal.md.
func TestEveryPageAtBothWidthsInBothLanguages(t *testing.T) {
	ctx := startBrowser(t)
	e := apitest.Start(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite})
	op := apitest.OperatorToken
	const password = "tramway olive canyon"

	in := e.CreateAccount(t, "integrator", "Acme Sécurité", "")
	site := e.Must(t, 201, "POST", "/api/v1/accounts", op, map[string]any{"kind": "client", "name": "Magasin 12",
		"integrator_id": in, "address": "12 Rue de la Paix, Paris"}).String("id")
	e.CreateAccount(t, "client", "Magasin 14", in)
	closed := e.CreateAccount(t, "client", "Magasin 20", in)
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"client_admins_can_add_remote_monitoring": true})
	iris := activated(t, e, in, map[string]any{"username": "iris@example.com", "first_name": "Iris", "last_name": "Moreau", "level": "integrator_admin"}, password)
	zoe := activated(t, e, site, map[string]any{"username": "zoe@example.com", "first_name": "Zoé", "last_name": "Martin", "level": "client_admin"}, password)
	olga := activated(t, e, in, map[string]any{"username": "olga@example.com", "first_name": "Olga", "last_name": "Petit", "level": "integrator_user"}, password)
	e.Must(t, 200, "PUT", "/api/v1/operators/"+olga, op, nil)
	max := activated(t, e, closed, map[string]any{"username": "max@example.com", "first_name": "Max", "last_name": "Girard", "level": "client_user"}, password)
	e.Must(t, 200, "POST", "/api/v1/accounts/"+closed+"/suspend", op, nil)
	// Anne is a temporary member, so that the pages show the time left.
	until := e.Clock.Now().Add(5*time.Hour + 30*time.Minute).Format(time.RFC3339)
	ann := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, map[string]any{"username": "ann@example.com", "first_name": "Anne",
		"last_name": "Leroy", "level": "client_user", "phone": "+33 6 12 34 56 78", "user_type": "Gardien", "expires_at": until}).String("id")
	ben := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/users", op, map[string]any{"username": "ben@example.com", "first_name": "Benoît",
		"last_name": "Roux", "level": "client_user"}).String("user_id")
	role := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/roles", op, map[string]any{"name": "Gardiens", "permissions": []string{"cameras.view", "cameras.control"}}).String("id")
	folder := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders", op, map[string]string{"name": "Entrepôts"}).String("id")
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/folders/"+folder+"/grants", op, map[string]any{"user_id": zoe, "role": "Gardiens", "expires_at": until})
	group := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/groups", op, map[string]any{"name": "Équipe de nuit", "roles": []string{"viewer"}}).String("id")
	e.Must(t, 204, "POST", "/api/v1/accounts/"+site+"/groups/"+group+"/members", op, map[string]any{"user_id": zoe})
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/remote-monitoring-user", op, map[string]any{"description": "Poste central Lyon"})
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/settings", op, map[string]any{"max_client_users": 12})
	invitation := e.Must(t, 200, "GET", "/api/v1/accounts/"+site+"/invitations?status=pending", op, nil).Items()[0]["id"].(string)
	e.Must(t, 201, "POST", "/api/v1/check-tokens", op, map[string]any{"name": "Service vidéo"})
	// Iris is signed in to one of the platform's applications.
	wall := e.Must(t, 201, "POST", "/api/v1/oidc-clients", op, map[string]any{"name": "Mur d'images", "type": "public",
		"redirect_uris": []string{"https://mur.example.com/callback", "com.example.mur:/callback"}}).String("client_id")
	if err := e.Store.Write(context.Background(), func(tx *store.WriteTx) error {
		now := e.Clock.Now()
		return tx.InsertOIDCToken(context.Background(), gatehouse.OIDCToken{ID: "tok-walk", Kind: gatehouse.OIDCRefreshToken, FamilyID: "fam-walk",
			ClientID: wall, UserID: iris, Hash: []byte("walk"), Scopes: []string{"openid"}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}

	sessions := map[string]string{"iris": apiSession(t, e, "iris@example.com", password), "zoe": apiSession(t, e, "zoe@example.com", password),
		"olga": apiSession(t, e, "olga@example.com", password), "max": apiSession(t, e, "max@example.com", password)}
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/api-tokens", sessions["zoe"], map[string]any{"name": "Synchro RH", "scopes": []string{"users:read"}})
	// Iris has a passkey, listed on her profile with its removal.
	passkey := e.Must(t, 200, "POST", "/api/v1/me/passkeys/options", sessions["iris"], nil)
	options, _ := json.Marshal(passkey.Body["options"])
	created, err := passkeytest.New("gatehouse.example.com", "https://gatehouse.example.com").Create(options)
	if err != nil {
		t.Fatal(err)
	}
	e.Must(t, 201, "POST", "/api/v1/me/passkeys", sessions["iris"], map[string]any{"ceremony": passkey.String("ceremony"),
		"name": "Téléphone d'Iris", "credential": json.RawMessage(created)})
	benLink := e.ActivationTokens(t, "ben@example.com")
	// A webhook of the site, with one delivery that went through and one
	// that will be tried again.
	hook := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/webhooks", sessions["iris"], map[string]any{
		"url": "https://hooks.example.com/gatehouse/events", "event_types": []string{"member.*", "role.deleted"},
		"description": "Synchro de l'annuaire"}).String("id")
	if err := e.Store.Write(context.Background(), func(tx *store.WriteTx) error {
		at := e.Clock.Now()
		for _, d := range []gatehouse.WebhookDelivery{
			{ID: "dlv-walk-1", EventType: "member.added", Attempt: 1, Status: gatehouse.WebhookDelivered, ResponseCode: 200,
				Latency: 84 * time.Millisecond, ResponseExcerpt: `{"received":true,"id":"01a23353-c836-7420-8e01-028fcaa77505"}`, At: at.Add(-time.Hour)},
			{ID: "dlv-walk-2", EventType: "role.deleted", Attempt: 2, Status: gatehouse.WebhookPending, ResponseCode: 503,
				Latency: 10 * time.Second, ResponseExcerpt: "Service Unavailable", Error: "status 503", At: at},
		} {
			d.SubscriptionID, d.MessageID, d.EventID = hook, "msg-"+d.ID, "evt-"+d.ID
			if err := tx.InsertWebhookDelivery(context.Background(), d); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The site's directory: a SCIM token, a group mapped to the
	// administrators' level, and the calls it made (one refused).
	scimToken := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/scim-tokens", sessions["iris"], map[string]string{"name": "Entra ID"}).String("token")
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/scim-group-mappings", sessions["iris"], map[string]string{"group": "Responsables", "level": "client_admin"})
	e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/scim-group-mappings", sessions["iris"], map[string]string{"group": "Équipe de nuit", "role": "Gardiens"})
	var lea struct{ ID string }
	for _, body := range []string{`{"userName":"lea@example.com","name":{"givenName":"Léa","familyName":"Faure"},"externalId":"e-lea"}`,
		`{"userName":"lea@example.com","name":{"givenName":"Léa","familyName":"Faure"}}`} {
		if r := e.Do(t, "POST", "/scim/v2/accounts/"+site+"/Users", scimToken, body); r.Status == 201 {
			_ = json.Unmarshal(r.Raw, &lea)
		}
	}
	// Léa is disabled in the directory: suspended here.
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site+"/users/"+lea.ID, op, map[string]any{"suspended": true})
	// A preview is its uploader's alone: Iris uploads the one she looks at.
	preview := e.Must(t, 200, "POST", "/api/v1/accounts/"+site+"/invitations/bulk", sessions["iris"],
		"email,first_name,last_name,role\ncleo@example.com,Cléo,Durand,viewer\npas une adresse,,,viewer\n").String("preview_id")
	// The service provider's access: one request answered, one waiting,
	// and the access open until the next midnight (R-PV1…R-PV3).
	answered := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/provider-access/requests", sessions["iris"], map[string]string{"reason": "Caméra 3 hors ligne"}).String("id")
	e.Must(t, 200, "POST", "/api/v1/accounts/"+site+"/provider-access/requests/"+answered+"/approve", sessions["zoe"], nil)
	request := e.Must(t, 201, "POST", "/api/v1/accounts/"+site+"/provider-access/requests", sessions["iris"], map[string]string{"reason": "Maintenance"}).String("id")
	e.Must(t, 200, "PATCH", "/api/v1/accounts/"+site, sessions["zoe"], map[string]string{"time_zone": "Europe/Paris"})
	ids := map[string]string{"iris": iris, "zoe": zoe, "olga": olga, "max": max}
	c := "/accounts/" + site
	pages := []struct{ who, name, path string }{
		{"", "login", "/login"}, {"", "forgot-password", "/forgot-password"}, {"", "activate-dead-link", "/activate?token=gh_act_nothing"},
		{"", "activate", "/activate?token=" + benLink[len(benLink)-1]},
		{"iris", "accounts", "/accounts?all=1"}, {"iris", "profile", "/profile"},
		{"iris", "integrator-users", "/accounts/" + in}, {"iris", "clients", "/accounts/" + in + "/clients"},
		{"iris", "identity-providers", "/accounts/" + in + "/identity-providers"}, {"iris", "integrator-audit", "/accounts/" + in + "/audit"},
		{"iris", "users", c}, {"iris", "users-filtered", c + "?q=ann&status=activation_required"}, {"iris", "add-user", c + "/users/new"},
		{"iris", "member", c + "/users/" + ann}, {"iris", "invitations", c + "/invitations"}, {"iris", "invitation", c + "/invitations/" + invitation},
		{"iris", "bulk", c + "/bulk"}, {"iris", "bulk-preview", c + "/bulk/" + preview}, {"iris", "remote-monitoring", c + "/remote-monitoring"},
		{"iris", "roles", c + "/roles"}, {"iris", "role", c + "/roles/" + role}, {"iris", "folders", c + "/folders"},
		{"iris", "folder", c + "/folders/" + folder}, {"iris", "groups", c + "/groups"}, {"iris", "group", c + "/groups/" + group},
		{"iris", "audit", c + "/audit"},
		{"iris", "provider-access-staff", c + "/provider-access"},
		{"iris", "webhooks", c + "/webhooks"}, {"iris", "webhook", c + "/webhooks/" + hook}, {"iris", "scim", c + "/scim"},
		{"zoe", "client-admin-scim", c + "/scim"}, {"iris", "suspended-by-directory", c + "/users/" + lea.ID},
		{"zoe", "client-admin-users", c}, {"zoe", "api-tokens", c + "/api-tokens"}, {"zoe", "client-admin-member", c + "/users/" + ann},
		{"iris", "suspended-client", "/accounts/" + closed}, {"max", "suspended-member", "/accounts/" + closed},
		{"zoe", "provider-access", c + "/provider-access"}, {"zoe", "provider-request", c + "/provider-access/requests/" + request},
		{"zoe", "provider-request-answered", c + "/provider-access/requests/" + answered}, {"zoe", "client-admin-audit", c + "/audit"},
		{"olga", "operator-accounts", "/accounts"}, {"olga", "settings", c + "/settings"}, {"olga", "operator-provider-access", c + "/provider-access"},
		{"olga", "platform-identity-providers", "/platform/identity-providers"}, {"olga", "check-tokens", "/platform/check-tokens"},
		{"olga", "operators", "/platform/operators"}, {"olga", "applications", "/platform/applications"},
		{"zoe", "device", "/device?user_code=BCDF-GHJK"},
		{"iris", "brand", "/accounts/" + in + "/brand"},
		{"iris", "brand-mail-preview", "/accounts/" + in + "/brand/preview?kind=activation&language=fr"},
		{"olga", "platform-brand", "/platform/brand"},
	}
	english := englishOnly()
	shots := os.Getenv("GATEHOUSE_SCREENSHOTS") == "1"

	for _, lang := range []string{"en", "fr"} {
		for who, id := range ids {
			e.Must(t, 200, "PATCH", "/api/v1/users/"+id, sessions[who], map[string]string{"language": lang})
		}
		// Ben, invited, sees his activation page in his language.
		e.Must(t, 200, "PATCH", "/api/v1/users/"+ben, op, map[string]string{"language": lang})
		for _, width := range []int{1280, 390} {
			step(t, ctx, fmt.Sprintf("%s at %d px", lang, width), chromedp.EmulateViewport(int64(width), 900),
				chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}})
					return err
				}))
			seen := map[string]bool{}
			var visit func(who, name, path string)
			visit = func(who, name, path string) {
				where := fmt.Sprintf("%s %dpx %s %s", lang, width, who, path)
				step(t, ctx, where, chromedp.Navigate(e.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
				report, err := chromedp.Run(ctx, chromedp.Evaluate[pageReport](pageChecks))
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				// Every page answers 200 but the two that say why they cannot:
				// a dead activation link and a suspended site to its member.
				refusing := name == "activate-dead-link" || name == "suspended-member"
				if report.Status >= 500 || report.Status == 0 || (report.Status >= 400 && !refusing) {
					t.Errorf("%s: status %d", where, report.Status)
				}
				if report.Width > width {
					t.Errorf("%s: %d px wide in a %d px window", where, report.Width, width)
				}
				if len(report.Unlabelled) > 0 {
					t.Errorf("%s: form controls without a label: %v", where, report.Unlabelled)
				}
				if len(report.Unconfirmed) > 0 {
					t.Errorf("%s: destructive forms outside a confirmation: %v", where, report.Unconfirmed)
				}
				if lang == "fr" {
					var left []string
					// Addresses are the people's own, not words of the page.
					shown := addresses.ReplaceAllString(report.Text, "")
					for _, w := range letters.FindAllString(strings.ToLower(shown), -1) {
						if english[w] && !slices.Contains(left, w) {
							left = append(left, w)
						}
					}
					if len(left) > 0 {
						t.Errorf("%s: English words on a French page: %v", where, left)
					}
				}
				if shots && lang == "en" {
					saveScreenshot(t, ctx, fmt.Sprintf("%s-%s", map[int]string{1280: "desktop", 390: "phone"}[width], name))
				}
				for _, link := range report.DangerLinks {
					u, err := url.Parse(link)
					if err != nil || seen[u.Path] {
						continue
					}
					seen[u.Path] = true
					visit(who, "confirm-"+name+"-"+u.Path[strings.LastIndex(u.Path, "/")+1:], u.Path)
					if ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById("confirm")`)); !ok {
						t.Errorf("%s: the destructive link %s asks nothing", where, u.Path)
					}
				}
			}
			for _, p := range pages {
				setSession(t, ctx, e, sessions[p.who])
				visit(p.who, p.name, p.path)
			}
		}
	}
}

// setSession makes the browser signed in as the session given ("" signed
// out).
func setSession(t *testing.T, ctx context.Context, e *apitest.Env, token string) {
	t.Helper()
	host, _ := url.Parse(e.URL)
	step(t, ctx, "session cookie", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: "gatehouse_session", Domain: host.Hostname()}); err != nil || token == "" {
			return err
		}
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "gatehouse_session", Value: token,
			Domain: host.Hostname(), Path: "/", SameSite: network.CookieSameSiteLax})
		return err
	}))
}

// saveScreenshot writes the whole page as docs/screenshots/pages/<name>.jpg.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	jpeg, err := chromedp.Run(ctx, chromedp.FullScreenshot(60))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots", "pages")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".jpg"), jpeg, 0o644); err != nil {
		t.Fatal(err)
	}
}
