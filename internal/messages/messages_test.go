package messages

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Every language Gatehouse offers has every message, and each renders with
// the link and names in it (R-U6).
func TestEveryLanguageHasEveryMessage(t *testing.T) {
	langs := Languages()
	slices.Sort(langs)
	if want := slices.Sorted(slices.Values(gatehouse.Languages)); !slices.Equal(langs, want) {
		t.Fatalf("catalogues %v, languages offered %v", langs, want)
	}
	data := Data{FirstName: "Ann", AccountName: "Store 12", Username: "ann@example.com",
		Link: "https://gh.example.com/activate?token=gh_inv_x", ExpiresAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	for _, lang := range langs {
		for _, kind := range []string{Activation, NewSite} {
			subject, body, err := Render(lang, kind, data)
			if err != nil {
				t.Fatalf("%s %s: %v", lang, kind, err)
			}
			if !strings.Contains(subject, "Store 12") || !strings.Contains(body, "Ann") || !strings.Contains(body, "ann@example.com") {
				t.Errorf("%s %s: %q\n%s", lang, kind, subject, body)
			}
			if kind == Activation && (!strings.Contains(body, data.Link) || !strings.Contains(body, "2026-12-01")) {
				t.Errorf("%s activation mail lacks the link or the expiry:\n%s", lang, body)
			}
		}
	}
	fr, _, _ := Render("fr", Activation, data)
	en, _, _ := Render("en", Activation, data)
	if fr == en {
		t.Errorf("French and English subjects are the same: %q", fr)
	}
	if s, _, _ := Render("en", NewSite, Data{AccountName: "Evil\r\nBcc: x@example.com"}); strings.ContainsAny(s, "\r\n") {
		t.Errorf("a line break in a name reached the subject: %q", s)
	}
}

// An invitation to a temporary member says until when, in every language;
// one without an end says nothing of it.
func TestTemporaryAccessIsToldInTheInvitation(t *testing.T) {
	end := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	words := map[string]string{"en": "temporary", "fr": "temporaire"}
	for _, lang := range Languages() {
		for _, kind := range []string{Activation, NewSite} {
			data := Data{FirstName: "Ann", AccountName: "Store 12", Username: "ann@example.com",
				Link: "https://gh.example.com/activate?token=gh_inv_x", ExpiresAt: end.Add(-time.Hour)}
			_, plain, err := Render(lang, kind, data)
			if err != nil {
				t.Fatal(err)
			}
			data.AccessUntil = end
			_, temporary, err := Render(lang, kind, data)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(temporary, "2026-12-01 18:00 UTC") || !strings.Contains(temporary, words[lang]) {
				t.Errorf("%s %s: the end of access is not told:\n%s", lang, kind, temporary)
			}
			if strings.Contains(plain, words[lang]) || strings.Contains(plain, "\n\n\n") {
				t.Errorf("%s %s: access without an end reads as temporary, or leaves a gap:\n%s", lang, kind, plain)
			}
		}
	}
}

// The HTML part drawn at sending time from the stored layout is the one the
// message would have had when it was queued, every paragraph of the text in
// it, even a notice whose own text holds a signature line; an HTML part
// stored whole (queued by an earlier version) is sent as it is; a damaged
// layout is an error, not an empty part.
func TestTheHTMLPartIsDrawnFromTheStoredLayout(t *testing.T) {
	b := Brand{ProductName: "Acme Vision", PrimaryColour: "#7a1f5c", AccentColour: "#1d3b2a", SupportEmail: "help@acme.example"}
	data := Data{FirstName: "Zoé", AccountName: "Store 12", Link: "https://portal.acme.example/activate?token=gh_inv_x",
		Subject: "Maintenance", Text: "Cameras restart at 2 a.m.\n\n-- \nThe night shift"}
	for _, kind := range []string{Activation, AccountNotice} {
		for _, o := range []Override{{}, {Subject: "Hello {first_name}", Intro: "From {product_name}:\nread on."}} {
			whole, err := Compose("fr", kind, data, b, o)
			if err != nil {
				t.Fatal(err)
			}
			queued, layout, err := Prepare("fr", kind, data, b, o)
			if err != nil {
				t.Fatal(err)
			}
			stored := layout.Encode()
			if len(stored) > 400 {
				t.Errorf("%s: the stored layout is %d bytes", kind, len(stored))
			}
			sent, err := HTMLPart(queued.Subject, queued.Text, stored)
			if err != nil || sent != whole.HTML || queued.Text != whole.Text {
				t.Errorf("%s %+v: drawn when sent differs from drawn when queued (%v):\n%s\n---\n%s", kind, o, err, sent, whole.HTML)
			}
			if kind == AccountNotice && (!strings.Contains(sent, "The night shift") || !strings.Contains(sent, "Cameras restart")) {
				t.Errorf("the notice's own text lost a paragraph:\n%s", sent)
			}
			if kind == Activation && !strings.Contains(sent, `href="https://portal.acme.example/activate?token=gh_inv_x"`) {
				t.Errorf("no button to the link:\n%s", sent)
			}
		}
	}
	if got, err := HTMLPart("S", "text", "<!doctype html><p>queued whole</p>"); err != nil || got != "<!doctype html><p>queued whole</p>" {
		t.Errorf("an HTML part stored whole: %q %v", got, err)
	}
	if got, err := HTMLPart("S", "text", ""); err != nil || got != "" {
		t.Errorf("a plain text message: %q %v", got, err)
	}
	if _, err := HTMLPart("S", "text", layoutPrefix+`{"lang":`); err == nil {
		t.Error("a damaged layout was accepted")
	}
}

// The cost of drawing one activation e-mail's HTML part when it is sent.
func BenchmarkHTMLPart(b *testing.B) {
	brand := Brand{ProductName: "Acme Vision", PrimaryColour: "#7a1f5c", AccentColour: "#1d3b2a", SupportEmail: "help@acme.example",
		SupportPhone: "+33 1 23 45 67 89", LogoURL: "https://portal.acme.example/brand/logo/ab.png"}
	data := Data{FirstName: "Zoé", AccountName: "Store 12", Username: "zoe@example.com", Link: "https://portal.acme.example/activate?token=gh_inv_x",
		ExpiresAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	mail, layout, err := Prepare("fr", Activation, data, brand, Override{})
	if err != nil {
		b.Fatal(err)
	}
	stored := layout.Encode()
	for b.Loop() {
		if _, err := HTMLPart(mail.Subject, mail.Text, stored); err != nil {
			b.Fatal(err)
		}
	}
}

// Whatever an integrator, an administrator or a person puts in a brand, an
// override, a name or a link, the HTML part shows it as text: none of it
// reaches the page unescaped, no link or logo that is not a web address is
// written, and no colour but #rrggbb enters a style.
func FuzzHTMLPartEscapes(f *testing.F) {
	f.Add("Acme Vision", "Zoé", "https://portal.acme.example/activate?token=x", "#7a1f5c", "Bonjour {first_name}")
	f.Add(`<b>Acme</b>`, `<script>alert(1)</script>`, "javascript:alert(1)", `red;background:url(x)`, `"><img src=x onerror=alert(1)>`)
	f.Add("A & B", "O'Neil", `https://x.example/"onmouseover="alert(1)`, "#12345z", "l'accès\n<i>")
	draw := func(t *testing.T, product, firstName, link, colour, intro string) string {
		b := Brand{ProductName: product, PrimaryColour: colour, AccentColour: colour, SupportEmail: product, SupportPhone: firstName,
			LogoURL: link}
		mail, layout, err := Prepare("en", Activation, Data{FirstName: firstName, AccountName: product, Link: link}, b,
			Override{Subject: intro, Intro: intro})
		if err != nil {
			t.Skip()
		}
		html, err := HTMLPart(mail.Subject, mail.Text, layout.Encode())
		if err != nil {
			t.Fatal(err)
		}
		return html
	}
	// The same message with every character that means something in HTML
	// replaced by a letter has the same markup: the characters of the
	// values all went through the escaper.
	plain := strings.NewReplacer("<", "x", ">", "x", `"`, "x", "'", "x", "&", "x")
	f.Fuzz(func(t *testing.T, product, firstName, link, colour, intro string) {
		html := draw(t, product, firstName, link, colour, intro)
		want := draw(t, plain.Replace(product), plain.Replace(firstName), plain.Replace(link), plain.Replace(colour), plain.Replace(intro))
		for _, c := range []string{"<", ">", `"`, "'"} {
			if strings.Count(html, c) != strings.Count(want, c) {
				t.Fatalf("%s: %d in the HTML, %d in its markup alone:\n%s", c, strings.Count(html, c), strings.Count(want, c), html)
			}
		}
		if link != "" && !isWebURL(link) && link != "mailto:"+product && (strings.Contains(html, `href="`+htmlEscaper.Replace(link)+`"`) || strings.Contains(html, `src="`+htmlEscaper.Replace(link)+`"`)) {
			t.Fatalf("a link that is not a web address became an href: %q", link)
		}
		if colourOr(colour, "") == "" && colour != "" && strings.Contains(html, "background:"+htmlEscaper.Replace(colour)+";") {
			t.Fatalf("a colour that is not #rrggbb entered a style: %q", colour)
		}
	})
}
