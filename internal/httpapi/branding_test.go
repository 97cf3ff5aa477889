package httpapi_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// putLogo uploads a logo with its content type.
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
	raw, _ := io.ReadAll(resp.Body)
	out := apitest.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &out.Body)
	}
	return out
}

// pngLogo is a small PNG of one colour.
func pngLogo(t *testing.T, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 120, 40))
	for y := range 40 {
		for x := range 120 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var acmeBrand = map[string]any{"product_name": "Acme Vision", "primary_colour": "#7a1f5c", "accent_colour": "#1d3b2a",
	"support_email": "help@acme.example", "support_phone": "+33 1 23 45 67 89", "sender_name": "Acme Vision",
	"sender_address": "no-reply@acme.example", "host": "portal.acme.example"}

// An integrator's brand is its own: a member of another integrator — its
// administrator, a client user of it — cannot read it, change it or upload
// a logo for it, and learns nothing more than of an unknown account; the
// integrator's own client users and users cannot either; its
// administrators and operators can. The platform's default is operators'.
func TestBrandIsolationThroughTheAPI(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			a := e.CreateAccount(t, "integrator", "Acme", "")
			other := e.CreateAccount(t, "integrator", "Beta", "")
			aSite := e.CreateAccount(t, "client", "Lyon", a)
			bSite := e.CreateAccount(t, "client", "Nice", other)
			aAdmin, _ := e.Member(t, a, gatehouse.LevelIntegratorAdmin)
			aUser, _ := e.Member(t, a, gatehouse.LevelIntegratorUser)
			aClientAdmin, _ := e.Member(t, aSite, gatehouse.LevelClientAdmin)
			bAdmin, _ := e.Member(t, other, gatehouse.LevelIntegratorAdmin)
			bClient, _ := e.Member(t, bSite, gatehouse.LevelClientUser)
			base := "/api/v1/accounts/" + a + "/brand"
			logo := pngLogo(t, color.RGBA{0x7a, 0x1f, 0x5c, 0xff})

			saved := e.Must(t, 200, "PUT", base, aAdmin, acmeBrand)
			if saved.String("product_name") != "Acme Vision" || saved.String("host") != "portal.acme.example" {
				t.Fatalf("saved: %s", saved.Raw)
			}
			for who, token := range map[string]string{"B's administrator": bAdmin, "B's client user": bClient} {
				for _, r := range []struct{ method, path string }{{"GET", base}, {"PUT", base}, {"GET", base + "/messages/activation/preview"}} {
					var body any
					if r.method == "PUT" {
						body = map[string]any{"product_name": "Stolen"}
					}
					if got := e.Do(t, r.method, r.path, token, body); got.Status != 404 || strings.Contains(string(got.Raw), "Acme") {
						t.Errorf("%s, %s %s: %d %s", who, r.method, r.path, got.Status, got.Raw)
					}
				}
				if got := putLogo(t, e, base+"/logo", token, "image/png", pngLogo(t, color.Black)); got.Status != 404 {
					t.Errorf("%s uploading A's logo: %d %s", who, got.Status, got.Raw)
				}
			}
			for who, token := range map[string]string{"A's integrator user": aUser, "A's client administrator": aClientAdmin} {
				if got := e.Do(t, "PUT", base, token, map[string]any{"product_name": "Mine"}); got.Status != 403 && got.Status != 404 {
					t.Errorf("%s changing A's brand: %d %s", who, got.Status, got.Raw)
				}
				if got := putLogo(t, e, base+"/logo", token, "image/png", logo); got.Status != 403 && got.Status != 404 {
					t.Errorf("%s uploading A's logo: %d %s", who, got.Status, got.Raw)
				}
			}
			// Nothing they tried changed it.
			got := e.Must(t, 200, "GET", base, aAdmin, nil)
			if got.String("product_name") != "Acme Vision" || got.Body["logo_url"] != nil {
				t.Errorf("after the refusals: %s", got.Raw)
			}
			// A's administrator uploads the logo; it is served to anyone,
			// cached for good by its content's address.
			up := putLogo(t, e, base+"/logo", aAdmin, "image/png", logo)
			if up.Status != 200 {
				t.Fatalf("logo: %d %s", up.Status, up.Raw)
			}
			logoURL := up.String("logo_url")
			path := strings.TrimPrefix(logoURL, "https://gatehouse.example.com")
			served := e.Do(t, "GET", path, "", nil)
			if served.Status != 200 || !bytes.Equal(served.Raw, logo) || !strings.Contains(served.Header.Get("Cache-Control"), "immutable") ||
				served.Header.Get("ETag") == "" || served.Header.Get("Content-Type") != "image/png" {
				t.Errorf("logo %s: %d %v", path, served.Status, served.Header)
			}
			// The platform's default is the operators'.
			for _, token := range []string{aAdmin, bAdmin, bClient} {
				if got := e.Do(t, "PUT", "/api/v1/brand", token, map[string]any{"product_name": "Mine"}); got.Status != 403 {
					t.Errorf("a non-operator setting the default brand: %d %s", got.Status, got.Raw)
				}
			}
			e.Must(t, 200, "PUT", "/api/v1/brand", op, map[string]any{"product_name": "Platform", "support_email": "support@platform.example"})
			// B inherits the default, and nothing of A.
			bBrand := e.Must(t, 200, "GET", "/api/v1/accounts/"+other+"/brand", bAdmin, nil)
			eff, _ := bBrand.Body["effective"].(map[string]any)
			if eff["product_name"] != "Platform" || eff["support_email"] != "support@platform.example" || strings.Contains(string(bBrand.Raw), "Acme") {
				t.Errorf("B's brand: %s", bBrand.Raw)
			}
			// Every change is audited in the integrator's log.
			audit := e.Must(t, 200, "GET", "/api/v1/accounts/"+a+"/audit-events", aAdmin, nil)
			actions := map[string]bool{}
			for _, item := range audit.Items() {
				actions[item["action"].(string)] = true
			}
			if !actions["brand.updated"] || !actions["brand.logo_changed"] {
				t.Errorf("audit of A: %s", audit.Raw)
			}
		})
	}
}

// What a brand's editor types is checked at its field: colours white text
// cannot be read on, a host another integrator has, a clever SVG, a
// placeholder that does not exist.
func TestBrandRefusalsAtTheirField(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.Start(t, b)
			a := e.CreateAccount(t, "integrator", "Acme", "")
			other := e.CreateAccount(t, "integrator", "Beta", "")
			site := e.CreateAccount(t, "client", "Lyon", a)
			base := "/api/v1/accounts/" + a + "/brand"
			for _, c := range []struct {
				body  map[string]any
				code  string
				field string
			}{
				{map[string]any{"primary_colour": "#ffff00"}, "validation_failed", "primary_colour"},
				{map[string]any{"accent_colour": "#cccccc"}, "validation_failed", "accent_colour"},
				{map[string]any{"primary_colour": "blue"}, "validation_failed", "primary_colour"},
				{map[string]any{"host": "https://portal.acme.example"}, "validation_failed", "host"},
				{map[string]any{"support_email": "nobody"}, "validation_failed", "support_email"},
				{map[string]any{"messages": []map[string]any{{"kind": "activation", "language": "fr", "subject": "Bonjour {password}"}}}, "validation_failed", "messages[0].subject"},
				{map[string]any{"messages": []map[string]any{{"kind": "sms_code", "language": "en", "subject": "x"}}}, "validation_failed", "messages[0].kind"},
			} {
				got := e.Do(t, "PUT", base, op, c.body)
				if got.Status != 400 || got.Code() != c.code || got.Field() != c.field {
					t.Errorf("%v: %d %s", c.body, got.Status, got.Raw)
				}
			}
			e.Must(t, 200, "PUT", base, op, map[string]any{"host": "portal.acme.example"})
			if got := e.Do(t, "PUT", "/api/v1/accounts/"+other+"/brand", op, map[string]any{"host": "Portal.Acme.Example"}); got.Status != 409 || got.Field() != "host" {
				t.Errorf("a host another integrator has: %d %s", got.Status, got.Raw)
			}
			if got := e.Do(t, "PUT", "/api/v1/accounts/"+site+"/brand", op, map[string]any{"product_name": "X"}); got.Status != 400 {
				t.Errorf("a client's own brand: %d %s", got.Status, got.Raw)
			}
			for name, svg := range map[string]string{
				"script":        `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
				"event handler": `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>`,
				"foreignObject": `<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div>x</div></foreignObject></svg>`,
				"external use":  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="https://evil.example/x.svg#a"/></svg>`,
				"url()":         `<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/x)" width="1" height="1"/></svg>`,
				"entity":        `<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>`,
			} {
				if got := putLogo(t, e, base+"/logo", op, "image/svg+xml", []byte(svg)); got.Status != 400 || got.Field() != "logo" {
					t.Errorf("an SVG with %s: %d %s", name, got.Status, got.Raw)
				}
			}
			if got := putLogo(t, e, base+"/logo", op, "image/png", []byte("not a png")); got.Status != 400 {
				t.Errorf("a PNG that is not: %d %s", got.Status, got.Raw)
			}
			if got := putLogo(t, e, base+"/logo", op, "image/png", make([]byte, 300<<10)); got.Status != 413 {
				t.Errorf("a logo too large: %d %s", got.Status, got.Raw)
			}
			clean := putLogo(t, e, base+"/logo", op, "image/svg+xml",
				[]byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><!-- c --><rect width="10" height="10" fill="#7a1f5c"/></svg>`))
			if clean.Status != 200 {
				t.Fatalf("a plain SVG: %d %s", clean.Status, clean.Raw)
			}
			served := e.Do(t, "GET", strings.TrimPrefix(clean.String("logo_url"), "https://gatehouse.example.com"), "", nil)
			if served.Status != 200 || served.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(served.Header.Get("Content-Security-Policy"), "sandbox") ||
				!strings.Contains(string(served.Raw), `<rect width="10" height="10" fill="#7a1f5c">`) {
				t.Errorf("the SVG served: %d %v %s", served.Status, served.Header, served.Raw)
			}
		})
	}
}
