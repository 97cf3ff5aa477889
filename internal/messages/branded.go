package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
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
	mail.HTML, err = layout.Render(mail.Subject, mail.Text)
	return mail, err
}

// Layout is what an e-mail's HTML part is drawn from besides its subject
// and its text: the brand as it was when the message was queued, the
// reader's language, the kind (its button's words), the link the button
// points to and the override's opening paragraph. A message is queued with
// its Layout, a few hundred bytes, and its HTML is rendered when it is
// sent: rendering it costs more than the rest of the message, and a bulk
// of a hundred thousand invitations queues them in its own transactions.
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
func (l Layout) Render(subject, text string) (string, error) {
	body := strings.TrimPrefix(text, l.Intro+"\n\n")
	if l.Intro == "" {
		body = text
	}
	if i := strings.LastIndex(body, signatureMark); i >= 0 {
		body = body[:i]
	}
	words := wordsOf(l.Lang)
	b := l.Brand
	view := htmlView{Lang: l.Lang, Subject: subject, Brand: b, SupportWord: words.support, Automatic: words.automatic,
		Primary: htmltemplate.CSS(b.PrimaryColour), Accent: htmltemplate.CSS(b.AccentColour)}
	if l.Intro != "" {
		view.Paragraphs = append(view.Paragraphs, paragraph{Lines: strings.Split(l.Intro, "\n")})
	}
	for _, block := range strings.Split(strings.TrimSpace(body), "\n\n") {
		block = strings.Trim(block, "\n")
		if block == "" {
			continue
		}
		if l.Link != "" && block == l.Link {
			view.Paragraphs = append(view.Paragraphs, paragraph{Link: l.Link, Button: words.button[l.Kind]})
			continue
		}
		view.Paragraphs = append(view.Paragraphs, paragraph{Lines: strings.Split(block, "\n")})
	}
	if b.SupportEmail != "" {
		view.SupportMailto = "mailto:" + b.SupportEmail
	}
	var html bytes.Buffer
	if err := mailHTML.Execute(&html, view); err != nil {
		return "", err
	}
	return html.String(), nil
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
	return l.Render(subject, text)
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
	Lines        []string
	Link, Button string
}

// htmlView is everything the HTML template can read.
type htmlView struct {
	Lang, Subject          string
	Brand                  Brand
	Primary, Accent        htmltemplate.CSS
	Paragraphs             []paragraph
	SupportWord, Automatic string
	SupportMailto          string
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

// mailHTML is the one HTML layout of every e-mail: tables and inline styles,
// which mail readers keep; the colours are the brand's, checked for contrast
// when they were set.
var mailHTML = htmltemplate.Must(htmltemplate.New("mail").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1f24;">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="background:#f4f5f7;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td id="brand-header" style="background:{{.Primary}};color:#ffffff;padding:16px 24px;border-radius:8px 8px 0 0;">
{{if .Brand.LogoURL}}<img id="brand-logo" src="{{.Brand.LogoURL}}" alt="{{.Brand.ProductName}}" height="40" style="height:40px;max-width:240px;display:block;">{{else}}<span id="brand-name" style="font-size:20px;font-weight:700;">{{.Brand.ProductName}}</span>{{end}}
</td></tr>
<tr><td style="padding:24px;font-size:16px;line-height:1.5;">
{{range .Paragraphs}}{{if .Link}}<p style="margin:0 0 16px;"><a class="button" href="{{.Link}}" style="display:inline-block;background:{{$.Primary}};color:#ffffff;padding:12px 20px;border-radius:4px;text-decoration:none;font-weight:600;">{{with .Button}}{{.}}{{else}}{{$.Brand.ProductName}}{{end}}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#4a535e;word-break:break-all;">{{.Link}}</p>
{{else}}<p style="margin:0 0 16px;">{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{end}}{{end}}</td></tr>
<tr><td id="brand-footer" style="background:{{.Accent}};color:#ffffff;padding:16px 24px;font-size:13px;border-radius:0 0 8px 8px;">
<strong>{{.Brand.ProductName}}</strong>{{if or .Brand.SupportEmail .Brand.SupportPhone}}<br>{{.SupportWord}}: {{with .SupportMailto}}<a href="{{.}}" style="color:#ffffff;">{{$.Brand.SupportEmail}}</a>{{end}}{{if and .Brand.SupportEmail .Brand.SupportPhone}} · {{end}}{{.Brand.SupportPhone}}{{end}}<br>{{.Automatic}}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`))
