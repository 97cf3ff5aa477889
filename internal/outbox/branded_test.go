package outbox_test

import (
	"bytes"
	stdhtml "html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/outbox"
)

// Every e-mail, in every language, as an integrator's clients receive it:
// from the integrator's sender, a valid multipart/alternative of a UTF-8
// text part then an HTML part, both quoted-printable, each naming the
// brand's product, its support contacts, and (HTML) its logo and colours,
// with links on the brand's host; an override's subject and opening
// paragraph in place; and nothing that would make it a mailing list's.
func TestEveryMailKindWearsItsBrand(t *testing.T) {
	k := kernel.New(kernel.Options{PublicURL: "https://gatehouse.example.com"})
	brand := gatehouse.Brand{OwnerID: "acme", ProductName: "Acme Vision", PrimaryColour: "#7a1f5c", AccentColour: "#1d3b2a",
		SupportEmail: "help@acme.example", SupportPhone: "+33 1 23 45 67 89", SenderName: "Acme Vision Support",
		SenderAddress: "no-reply@acme.example", Host: "portal.acme.example", LogoFile: strings.Repeat("ab", 32) + ".png",
		Messages: []gatehouse.BrandMessage{{Kind: messages.Activation, Language: "fr", Subject: "Bienvenue chez {product_name}, {first_name}",
			Intro: "Votre installateur {product_name} a ouvert l'accès à {account_name}."}}}.Over(gatehouse.BuiltinBrand)
	data := messages.Data{FirstName: "Zoé", AccountName: "Store 12", Username: "zoe@example.com",
		Link: "https://gatehouse.example.com/activate?token=gh_inv_x", ExpiresAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		RequestedBy: "Bob", Subject: "Maintenance", Text: "Cameras restart at 2 a.m."}
	for _, lang := range messages.Languages() {
		for _, kind := range messages.EmailKinds {
			m, err := k.BrandedMail(time.Now(), brand, "zoe@example.com", lang, kind, data)
			if err != nil {
				t.Fatalf("%s %s: %v", lang, kind, err)
			}
			var raw bytes.Buffer
			if err := outbox.Compose("Gatehouse <noreply@gatehouse.example.com>", m, &raw); err != nil {
				t.Fatal(err)
			}
			name := lang + " " + kind
			msg, err := mail.ReadMessage(bytes.NewReader(raw.Bytes()))
			if err != nil {
				t.Fatalf("%s: not a message: %v", name, err)
			}
			for key := range msg.Header {
				if l := strings.ToLower(key); strings.HasPrefix(l, "list-") || l == "precedence" {
					t.Errorf("%s: a mailing list's header %s", name, key)
				}
			}
			if from, err := msg.Header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "no-reply@acme.example" || from[0].Name != "Acme Vision Support" {
				t.Errorf("%s: from %q (%v)", name, msg.Header.Get("From"), err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			if err != nil || mediaType != "multipart/alternative" || params["boundary"] == "" {
				t.Fatalf("%s: content type %q", name, msg.Header.Get("Content-Type"))
			}
			r := multipart.NewReader(msg.Body, params["boundary"])
			var parts []string
			texts := map[string]string{}
			for {
				part, err := r.NextRawPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s: broken multipart: %v", name, err)
				}
				ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
				if strings.ToLower(cp["charset"]) != "utf-8" || part.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
					t.Errorf("%s: part %s: %v", name, ct, part.Header)
				}
				body, err := io.ReadAll(quotedprintable.NewReader(part))
				if err != nil {
					t.Fatalf("%s: %s is not quoted-printable: %v", name, ct, err)
				}
				parts = append(parts, ct)
				texts[ct] = string(body)
			}
			if strings.Join(parts, ",") != "text/plain,text/html" {
				t.Fatalf("%s: parts %v, want text then HTML", name, parts)
			}
			text, html := texts["text/plain"], texts["text/html"]
			for _, want := range []string{"Acme Vision", "help@acme.example", "+33 1 23 45 67 89"} {
				if !strings.Contains(text, want) || !strings.Contains(stdhtml.UnescapeString(html), want) {
					t.Errorf("%s: %q missing from a part", name, want)
				}
			}
			if !strings.Contains(html, "https://portal.acme.example/brand/logo/"+brand.LogoFile) ||
				!strings.Contains(html, "#7a1f5c") || !strings.Contains(html, "#1d3b2a") {
				t.Errorf("%s: the HTML lacks the logo or colours:\n%s", name, html)
			}
			if strings.Contains(text, "gatehouse.example.com") || strings.Contains(html, "gatehouse.example.com") {
				t.Errorf("%s: a link on the platform's host, not the brand's", name)
			}
			if kind == messages.Activation && (!strings.Contains(text, "https://portal.acme.example/activate?token=gh_inv_x") ||
				!strings.Contains(html, `href="https://portal.acme.example/activate?token=gh_inv_x"`)) {
				t.Errorf("%s: the activation link is not on the brand's host:\n%s", name, text)
			}
			if kind == messages.Activation && lang == "fr" {
				if subject != "Bienvenue chez Acme Vision, Zoé" || !strings.HasPrefix(text, "Votre installateur Acme Vision a ouvert l'accès à Store 12.") ||
					!strings.Contains(html, "Votre installateur Acme Vision a ouvert l&#39;accès à Store 12.") {
					t.Errorf("the override is not in place: %q\n%s", subject, text)
				}
			} else if strings.Contains(text, "installateur") {
				t.Errorf("%s: another message's override", name)
			}
		}
	}
}

// An override is text: markup in it, or in a name, is shown, never run.
func TestOverridesAndNamesCannotInjectMarkup(t *testing.T) {
	b := messages.Brand{ProductName: `<b>Acme</b>`, PrimaryColour: "#7a1f5c", AccentColour: "#1d3b2a"}
	m, err := messages.Compose("en", messages.Activation, messages.Data{FirstName: `<script>alert(1)</script>`, AccountName: "S",
		Link: "javascript:alert(1)"}, b, messages.Override{Intro: `<img src=x onerror=alert(1)> {product_name}`})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<img src=x") || strings.Contains(m.HTML, "<b>Acme") ||
		strings.Contains(m.HTML, `href="javascript:`) {
		t.Errorf("markup reached the HTML:\n%s", m.HTML)
	}
}
