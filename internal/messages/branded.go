package messages

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Brand is what a message shows of the brand its reader's account wears:
// a fixed set of fields, the only brand data the templates can reach.
type Brand struct {
	ProductName   string
	LogoURL       string // absolute; "" for none
	PrimaryColour string // #rrggbb
	AccentColour  string // #rrggbb
	SupportEmail  string
	SupportPhone  string
}

// Override is an integrator's subject and opening paragraph for one kind of
// message in one language: plain text, with the placeholders of
// Placeholders and nothing else.
type Override struct{ Subject, Intro string }

// Mail is one rendered e-mail: its subject, and its body as plain text and
// as HTML, saying the same.
type Mail struct{ Subject, Text, HTML string }

// Placeholders are what an override may name between braces: {first_name},
// {account_name}, {username}, {product_name}. Nothing else is expanded, and
// no override can run code or reach other data.
var Placeholders = []string{"first_name", "account_name", "username", "product_name"}

// EmailKinds are the kinds of message sent by e-mail, which a brand may
// override.
var EmailKinds = []string{Activation, NewSite, ConfirmUsername, UsernameChangeNotice, PasswordReset, SecondFactorReset,
	AccountNotice, ProviderAccessRequest, WebhookDisabled}

// CheckPlaceholders returns the first name between braces in s that is not
// a placeholder, or "" when every one is.
func CheckPlaceholders(s string) string {
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return ""
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return s[i:]
		}
		name := s[i+1 : i+j]
		known := false
		for _, p := range Placeholders {
			known = known || p == name
		}
		if !known {
			return s[i : i+j+1]
		}
		s = s[i+j+1:]
	}
}

// Expand replaces the placeholders of an override's text by their values.
func Expand(s string, data Data, b Brand) string {
	if !strings.Contains(s, "{") {
		return s // most messages have no override: no replacer to build
	}
	return strings.NewReplacer("{first_name}", data.FirstName, "{account_name}", data.AccountName,
		"{username}", data.Username, "{product_name}", b.ProductName).Replace(s)
}

// Compose renders a message in lang for a reader whose account wears brand
// b, with the brand's override of this kind and language (zero for none):
// the subject, the plain text and the HTML. The texts are the catalogue's;
// an override replaces the subject and puts its paragraph first.
func Compose(lang, kind string, data Data, b Brand, o Override) (Mail, error) {
	mail, layout, err := Prepare(lang, kind, data, b, o)
	if err != nil {
		return Mail{}, err
	}
	mail.HTML = layout.Render(mail.Subject, mail.Text)
	return mail, nil
}

// Layout is what an e-mail's HTML part is drawn from besides its subject
// and its text: the brand as it was when the message was queued, the
// reader's language, the kind (its button's words), the link the button
// points to and the override's opening paragraph. A message is queued with
// its Layout, a few hundred bytes, and its HTML is drawn when it is sent:
// a bulk of a hundred thousand invitations queues them in its own
// transactions, which need not draw nor store a hundred thousand pages.
type Layout struct {
	Lang  string `json:"lang"`
	Kind  string `json:"kind"`
	Link  string `json:"link,omitempty"`
	Intro string `json:"intro,omitempty"`
	Brand Brand  `json:"brand"`
}

// Prepare is Compose without the HTML: the subject and the text, and the
// Layout that renders the HTML from them later.
func Prepare(lang, kind string, data Data, b Brand, o Override) (Mail, Layout, error) {
	subject, body, err := Render(lang, kind, data)
	if err != nil {
		return Mail{}, Layout{}, err
	}
	if s := strings.Join(strings.Fields(Expand(o.Subject, data, b)), " "); s != "" {
		subject = s
	}
	intro := strings.TrimSpace(Expand(o.Intro, data, b))
	words := wordsOf(lang)
	var text strings.Builder
	if intro != "" {
		text.WriteString(intro + "\n\n")
	}
	text.WriteString(strings.TrimRight(body, "\n") + signatureMark + b.ProductName + "\n")
	if contact := contactLine(b); contact != "" {
		text.WriteString(words.support + ": " + contact + "\n")
	}
	text.WriteString(words.automatic + "\n")
	return Mail{Subject: subject, Text: text.String()}, Layout{Lang: lang, Kind: kind, Link: data.Link, Intro: intro, Brand: b}, nil
}

// signatureMark opens the text's footer (the usual "-- " line); the footer
// holds no blank line, so the last mark is the footer's.
const signatureMark = "\n\n-- \n"

// Render draws the HTML part of a message whose subject and text Prepare
// made with this layout: the text's paragraphs (the footer aside), the
// link as a button, in the brand's colours.
func (l Layout) Render(subject, text string) string {
	body := strings.TrimPrefix(text, l.Intro+"\n\n")
	if l.Intro == "" {
		body = text
	}
	if i := strings.LastIndex(body, signatureMark); i >= 0 {
		body = body[:i]
	}
	var paragraphs []paragraph
	if l.Intro != "" {
		paragraphs = append(paragraphs, paragraph{Lines: strings.Split(l.Intro, "\n")})
	}
	for _, block := range strings.Split(strings.TrimSpace(body), "\n\n") {
		block = strings.Trim(block, "\n")
		if block == "" {
			continue
		}
		if l.Link != "" && block == l.Link && isWebURL(l.Link) {
			paragraphs = append(paragraphs, paragraph{Link: l.Link})
			continue
		}
		paragraphs = append(paragraphs, paragraph{Lines: strings.Split(block, "\n")})
	}
	return l.draw(subject, paragraphs)
}

// layoutPrefix marks a stored Layout; anything else stored in its place is
// an HTML part queued whole (by an earlier version), sent as it is.
const layoutPrefix = "layout/1 "

// Encode is the layout as the outbox stores it.
func (l Layout) Encode() string {
	raw, err := json.Marshal(l)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return layoutPrefix + string(raw)
}

// HTMLPart is the HTML part of a queued message from its subject, text and
// stored layout: "" for a message without one.
func HTMLPart(subject, text, stored string) (string, error) {
	encoded, ok := strings.CutPrefix(stored, layoutPrefix)
	if !ok {
		return stored, nil
	}
	var l Layout
	if err := json.Unmarshal([]byte(encoded), &l); err != nil {
		return "", fmt.Errorf("the stored layout of an HTML part: %w", err)
	}
	return l.Render(subject, text), nil
}

func wordsOf(lang string) words {
	if w := footerWords[lang]; w.support != "" {
		return w
	}
	return footerWords["en"]
}

func contactLine(b Brand) string {
	var parts []string
	if b.SupportEmail != "" {
		parts = append(parts, b.SupportEmail)
	}
	if b.SupportPhone != "" {
		parts = append(parts, b.SupportPhone)
	}
	return strings.Join(parts, " · ")
}

type paragraph struct {
	Lines []string
	Link  string // a button to it, and the link written out beneath
}

type words struct {
	support, automatic string
	button             map[string]string
}

var footerWords = map[string]words{
	"en": {support: "Support", automatic: "This message was sent automatically; replies are not read.",
		button: map[string]string{Activation: "Activate my account", ConfirmUsername: "Confirm my new username",
			PasswordReset: "Choose a new password", ProviderAccessRequest: "Answer the request"}},
	"fr": {support: "Assistance", automatic: "Ce message a été envoyé automatiquement ; les réponses ne sont pas lues.",
		button: map[string]string{Activation: "Activer mon compte", ConfirmUsername: "Confirmer mon nouvel identifiant",
			PasswordReset: "Choisir un nouveau mot de passe", ProviderAccessRequest: "Répondre à la demande"}},
}

// draw writes the one HTML layout of every e-mail: tables and inline
// styles, which mail readers keep. It is written out by hand rather than by
// html/template, which took 70 µs a message, more than the rest of sending
// it: every value from outside (names, the override, the product name,
// subject, contacts) goes through escape, URLs are written only when they
// are web addresses (a link or logo that is not is left out), and colours
// only when they are #rrggbb (they were checked for contrast when set).
// FuzzHTMLPartEscapes holds it to that.
func (l Layout) draw(subject string, paragraphs []paragraph) string {
	b := l.Brand
	words := wordsOf(l.Lang)
	primary, accent := colourOr(b.PrimaryColour, "#1b1f24"), colourOr(b.AccentColour, "#1b1f24")
	var w strings.Builder
	w.Grow(2500)
	w.WriteString("<!doctype html>\n<html lang=\"")
	escape(&w, l.Lang)
	w.WriteString("\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	escape(&w, subject)
	w.WriteString("</title>\n</head>\n" +
		"<body style=\"margin:0;padding:0;background:#f4f5f7;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1f24;\">\n" +
		"<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" style=\"background:#f4f5f7;\">\n" +
		"<tr><td align=\"center\" style=\"padding:24px 12px;\">\n" +
		"<table role=\"presentation\" width=\"100%\" cellspacing=\"0\" cellpadding=\"0\" style=\"max-width:560px;background:#ffffff;border-radius:8px;\">\n" +
		"<tr><td id=\"brand-header\" style=\"background:" + primary + ";color:#ffffff;padding:16px 24px;border-radius:8px 8px 0 0;\">\n")
	if isWebURL(b.LogoURL) {
		w.WriteString("<img id=\"brand-logo\" src=\"")
		escape(&w, b.LogoURL)
		w.WriteString("\" alt=\"")
		escape(&w, b.ProductName)
		w.WriteString("\" height=\"40\" style=\"height:40px;max-width:240px;display:block;\">")
	} else {
		w.WriteString("<span id=\"brand-name\" style=\"font-size:20px;font-weight:700;\">")
		escape(&w, b.ProductName)
		w.WriteString("</span>")
	}
	w.WriteString("\n</td></tr>\n<tr><td style=\"padding:24px;font-size:16px;line-height:1.5;\">\n")
	for _, p := range paragraphs {
		if p.Link != "" {
			w.WriteString("<p style=\"margin:0 0 16px;\"><a class=\"button\" href=\"")
			escape(&w, p.Link)
			w.WriteString("\" style=\"display:inline-block;background:" + primary +
				";color:#ffffff;padding:12px 20px;border-radius:4px;text-decoration:none;font-weight:600;\">")
			if button := words.button[l.Kind]; button != "" {
				escape(&w, button)
			} else {
				escape(&w, b.ProductName)
			}
			w.WriteString("</a></p>\n<p style=\"margin:0 0 16px;font-size:13px;color:#4a535e;word-break:break-all;\">")
			escape(&w, p.Link)
			w.WriteString("</p>\n")
			continue
		}
		w.WriteString("<p style=\"margin:0 0 16px;\">")
		for i, line := range p.Lines {
			if i > 0 {
				w.WriteString("<br>")
			}
			escape(&w, line)
		}
		w.WriteString("</p>\n")
	}
	w.WriteString("</td></tr>\n<tr><td id=\"brand-footer\" style=\"background:" + accent +
		";color:#ffffff;padding:16px 24px;font-size:13px;border-radius:0 0 8px 8px;\">\n<strong>")
	escape(&w, b.ProductName)
	w.WriteString("</strong>")
	if b.SupportEmail != "" || b.SupportPhone != "" {
		w.WriteString("<br>")
		escape(&w, words.support)
		w.WriteString(": ")
		if b.SupportEmail != "" {
			w.WriteString("<a href=\"mailto:")
			escape(&w, b.SupportEmail)
			w.WriteString("\" style=\"color:#ffffff;\">")
			escape(&w, b.SupportEmail)
			w.WriteString("</a>")
		}
		if b.SupportEmail != "" && b.SupportPhone != "" {
			w.WriteString(" · ")
		}
		escape(&w, b.SupportPhone)
	}
	w.WriteString("<br>")
	escape(&w, words.automatic)
	w.WriteString("\n</td></tr>\n</table>\n</td></tr>\n</table>\n</body>\n</html>\n")
	return w.String()
}

// htmlEscaper escapes text for an HTML element or a quoted attribute: the
// five characters that could end either, or start markup.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")

func escape(w *strings.Builder, s string) { _, _ = htmlEscaper.WriteString(w, s) }

// isWebURL tells an absolute http or https URL, the only kind written into
// an href or src (never javascript: or data:).
func isWebURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// colourOr is c when it is a colour as #rrggbb, else fallback: a colour is
// written into a style attribute, where anything else could add styles.
func colourOr(c, fallback string) string {
	if len(c) != 7 || c[0] != '#' {
		return fallback
	}
	for _, r := range c[1:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return fallback
		}
	}
	return c
}
