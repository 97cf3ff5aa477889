package web

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// pageBrand is what a page shows of a brand: the name in its header and
// title, its logo, its colours, its support contacts in its footer.
type pageBrand struct {
	ProductName                string
	LogoURL                    string
	Primary, Accent            template.CSS
	SupportEmail, SupportPhone string
	// Custom is set when the brand is not the built-in one.
	Custom bool
}

func toPageBrand(b gatehouse.Brand) pageBrand {
	pb := pageBrand{ProductName: b.ProductName, Primary: template.CSS(b.PrimaryColour), Accent: template.CSS(b.AccentColour),
		SupportEmail: b.SupportEmail, SupportPhone: b.SupportPhone}
	// The logo is served by this server, whatever host the page answers
	// on: a relative address.
	pb.LogoURL = kernel.LogoURL("", b)
	pb.Custom = b.ProductName != gatehouse.BuiltinBrand.ProductName || b.LogoFile != "" ||
		b.PrimaryColour != gatehouse.BuiltinBrand.PrimaryColour
	return pb
}

// pageBrand is the brand a page wears: the brand of the host it is asked
// on (an integrator's custom host shows its brand, any other host the
// default); or, for accountID, the account's brand, always or only where
// the host's is the built-in one (a person on the platform's own host).
func (p *Pages) pageBrand(r *http.Request, accountID string, always bool) pageBrand {
	host, account, err := p.svc.Branding.ForPage(r.Context(), r.Host, accountID)
	if err != nil {
		p.log.ErrorContext(r.Context(), "brand of page", "host", r.Host, "error", err)
		return toPageBrand(gatehouse.BuiltinBrand)
	}
	shown := toPageBrand(host)
	if accountID != "" && (always || !shown.Custom) {
		shown = toPageBrand(account)
	}
	return shown
}

// logo serves a brand's logo to anyone: the address holds the SHA-256 of
// the bytes, so what it serves never changes and may be cached for good.
// An SVG is served under a policy that runs nothing, should a browser open
// it as a document.
func (p *Pages) logo(w http.ResponseWriter, r *http.Request) {
	l, err := p.svc.Branding.Logo(r.Context(), r.PathValue("file"))
	if err != nil {
		http.Error(w, "not found", statusOf(err))
		return
	}
	etag := `"` + l.File + `"`
	h := w.Header()
	h.Set("Content-Type", l.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(l.Data)))
	_, _ = w.Write(l.Data)
}
