// Package messages holds the text of every e-mail Gatehouse sends, in each
// language it speaks (R-U6). Adding a language is adding one catalogue here
// and its code to gatehouse.Languages; a test checks every catalogue has
// every message and that each renders.
package messages

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Kinds of message.
const (
	Activation = "activation" // a new identity is invited (R-M2)
	NewSite    = "new_site"   // an active identity was registered to another account (R-M2)
	// SMSCode is the text carrying a second-factor code (R-S2); only its
	// body is sent.
	SMSCode = "sms_code"
	// ConfirmUsername goes to the new address of a username change (R-U4).
	ConfirmUsername = "confirm_username"
	// UsernameChangeNotice goes to the old address of a username change, so
	// that a person whose username someone else changes hears of it.
	UsernameChangeNotice = "username_change_notice"
	// AccountNotice carries a notification sent to an account (R-N3); its
	// body is the text the caller gave, in the caller's words.
	AccountNotice = "account_notice"
	// PasswordReset carries a "forgot your password?" link.
	PasswordReset = "password_reset"
	// SecondFactorReset tells a person that an administrator cleared their
	// second factor, so that a reset they did not ask for is noticed.
	SecondFactorReset = "second_factor_reset"
	// AccountNoticeSMS is the same by text.
	AccountNoticeSMS = "account_notice_sms"
	// ProviderAccessRequest tells a client's administrators that their
	// service provider asks for access to the site's cameras and media
	// (R-PV3), with the link to the page where they answer. Text is the
	// reason given, RequestedBy who asked.
	ProviderAccessRequest = "provider_access_request"
	// WebhookDisabled tells an account's administrators that a webhook
	// subscription failed for a day and was disabled. Text is its address.
	WebhookDisabled = "webhook_disabled"
)

// Data is what a message may mention.
type Data struct {
	Code string
	// ProductName is the name of the product as the recipient's brand
	// calls it (texts by SMS, which carry no other brand).
	ProductName string
	Subject     string
	Text        string
	FirstName   string
	AccountName string
	Username    string
	Link        string
	ExpiresAt   time.Time
	// RequestedBy names who asked for a change: a person's name and
	// username, or "an operator".
	RequestedBy string
	// AccessUntil is when a temporary member's access ends by itself; zero
	// for access without an end.
	AccessUntil time.Time
}

type text struct{ subject, body string }

var catalogues = map[string]map[string]text{
	"en": {
		Activation: {
			subject: "Activate your account for {{.AccountName}}",
			body: `Hello{{with .FirstName}} {{.}}{{end}},

You have been added to {{.AccountName}}. Your username is {{.Username}}.
{{- if not .AccessUntil.IsZero}}

Your access is temporary: it ends on {{date .AccessUntil}}.
{{- end}}

To activate your account and choose your password, open this link:

{{.Link}}

The link works once and expires on {{date .ExpiresAt}}. If it has expired, ask your administrator to send a new invitation.
`,
		},
		NewSite: {
			subject: "You now have access to {{.AccountName}}",
			body: `Hello{{with .FirstName}} {{.}}{{end}},

Your username {{.Username}} has been registered to a new site: {{.AccountName}}.
{{- if not .AccessUntil.IsZero}}

Your access to it is temporary: it ends on {{date .AccessUntil}}.
{{- end}}

Sign in as usual and choose it in the account switcher.
`,
		},
		SMSCode: {
			body: `Your {{or .ProductName "Gatehouse"}} code is {{.Code}}. It expires in 5 minutes. Never share it.`,
		},
		ConfirmUsername: {
			subject: "Confirm your new username",
			body: `Hello{{with .FirstName}} {{.}}{{end}},

A change of your username to {{.Username}} was asked for. To confirm it, open this link:

{{.Link}}

The link works once and expires on {{date .ExpiresAt}}. Until then you sign in with your current username. If you did not ask for this, ignore this message.
`,
		},
		SecondFactorReset: {
			subject: "Your second factor was reset",
			body: `Hello{{with .FirstName}} {{.}}{{end}},

{{.RequestedBy}} reset the second factor of your username {{.Username}}: your authenticator app, text codes and recovery codes no longer work, and your sessions have ended. At your next sign-in you will set up a new second factor.

If you did not ask for this, tell your administrator or support now.
`,
		},
		UsernameChangeNotice: {
			subject: "Your username is about to change",
			body: `Hello{{with .FirstName}} {{.}}{{end}},

{{.RequestedBy}} asked to change your username to {{.Username}}. A link to confirm it was sent to that address; the change happens only when it is followed, before {{date .ExpiresAt}}.

If you did not expect this, tell your administrator or support now: whoever reads {{.Username}} would sign in as you.
`,
		},
		AccountNoticeSMS: {
			body: `{{.AccountName}}: {{.Subject}}. {{.Text}}`,
		},
		PasswordReset: {
			subject: "Choose a new password",
			body: `Hello{{with .FirstName}} {{.}}{{end}},

A new password was asked for the username {{.Username}}. To choose it, open this link:

{{.Link}}

The link works once and expires on {{date .ExpiresAt}}. Your second factor, if you have one, is still asked at sign-in. If you did not ask for this, ignore this message: your password stays as it is.
`,
		},
		AccountNotice: {
			subject: "[{{.AccountName}}] {{.Subject}}",
			body: `{{.Text}}

--
You receive this because external notifications are on for you in {{.AccountName}}.
`,
		},
		ProviderAccessRequest: {
			subject: "Your service provider asks for access to the cameras of {{.AccountName}}",
			body: `Hello{{with .FirstName}} {{.}}{{end}},

{{.RequestedBy}}, of your service provider, asks for access to the cameras and media of {{.AccountName}}.
{{with .Text}}
Their reason: {{.}}
{{end}}
Until you allow it, your service provider manages your people and settings but sees none of your cameras or recordings. To approve (until midnight, or until a time you choose) or refuse, sign in and open:

{{.Link}}

You may end the access at any moment from the same page.
`,
		},
		WebhookDisabled: {
			subject: "A webhook of {{.AccountName}} was disabled",
			body: `Hello{{with .FirstName}} {{.}}{{end}},

For a whole day, every attempt to deliver the events of {{.AccountName}} to this webhook failed:

{{.Text}}

Gatehouse disabled it and sends it nothing more; the events of that day were not delivered. The webhook's deliveries show each answer received. Once the receiver works again, subscribe it again.
`,
		},
	},
	"fr": {
		Activation: {
			subject: "Activez votre compte pour {{.AccountName}}",
			body: `Bonjour{{with .FirstName}} {{.}}{{end}},

Vous avez été ajouté à {{.AccountName}}. Votre identifiant est {{.Username}}.
{{- if not .AccessUntil.IsZero}}

Votre accès est temporaire : il prend fin le {{date .AccessUntil}}.
{{- end}}

Pour activer votre compte et choisir votre mot de passe, ouvrez ce lien :

{{.Link}}

Le lien ne fonctionne qu'une fois et expire le {{date .ExpiresAt}}. S'il a expiré, demandez à votre administrateur de vous envoyer une nouvelle invitation.
`,
		},
		NewSite: {
			subject: "Vous avez accès à {{.AccountName}}",
			body: `Bonjour{{with .FirstName}} {{.}}{{end}},

Votre identifiant {{.Username}} a été enregistré sur un nouveau site : {{.AccountName}}.
{{- if not .AccessUntil.IsZero}}

Votre accès à ce site est temporaire : il prend fin le {{date .AccessUntil}}.
{{- end}}

Connectez-vous comme d'habitude et choisissez-le dans le sélecteur de compte.
`,
		},
		SMSCode: {
			body: `Votre code {{or .ProductName "Gatehouse"}} est {{.Code}}. Il expire dans 5 minutes. Ne le communiquez à personne.`,
		},
		ConfirmUsername: {
			subject: "Confirmez votre nouvel identifiant",
			body: `Bonjour{{with .FirstName}} {{.}}{{end}},

Le remplacement de votre identifiant par {{.Username}} a été demandé. Pour le confirmer, ouvrez ce lien :

{{.Link}}

Le lien ne fonctionne qu'une fois et expire le {{date .ExpiresAt}}. D'ici là, vous vous connectez avec votre identifiant actuel. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.
`,
		},
		SecondFactorReset: {
			subject: "Votre second facteur a été réinitialisé",
			body: `Bonjour{{with .FirstName}} {{.}}{{end}},

{{.RequestedBy}} a réinitialisé le second facteur de votre identifiant {{.Username}} : votre application d'authentification, les codes par SMS et vos codes de secours ne fonctionnent plus, et vos sessions ont pris fin. À votre prochaine connexion, vous configurerez un nouveau second facteur.

Si vous n'êtes pas à l'origine de cette demande, prévenez dès maintenant votre administrateur ou le support.
`,
		},
		UsernameChangeNotice: {
			subject: "Votre identifiant va changer",
			body: `Bonjour{{with .FirstName}} {{.}}{{end}},

{{.RequestedBy}} a demandé le remplacement de votre identifiant par {{.Username}}. Un lien de confirmation a été envoyé à cette adresse ; le changement n'a lieu que s'il est suivi, avant le {{date .ExpiresAt}}.

Si vous ne vous y attendiez pas, prévenez dès maintenant votre administrateur ou le support : la personne qui lit {{.Username}} se connecterait à votre place.
`,
		},
		AccountNoticeSMS: {
			body: `{{.AccountName}} : {{.Subject}}. {{.Text}}`,
		},
		PasswordReset: {
			subject: "Choisissez un nouveau mot de passe",
			body: `Bonjour{{with .FirstName}} {{.}}{{end}},

Un nouveau mot de passe a été demandé pour l'identifiant {{.Username}}. Pour le choisir, ouvrez ce lien :

{{.Link}}

Le lien ne fonctionne qu'une fois et expire le {{date .ExpiresAt}}. Votre second facteur, si vous en avez un, reste demandé à la connexion. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.
`,
		},
		AccountNotice: {
			subject: "[{{.AccountName}}] {{.Subject}}",
			body: `{{.Text}}

--
Vous recevez ce message car les notifications externes sont activées pour vous dans {{.AccountName}}.
`,
		},
		ProviderAccessRequest: {
			subject: "Votre prestataire demande l'accès aux caméras de {{.AccountName}}",
			body: `Bonjour{{with .FirstName}} {{.}}{{end}},

{{.RequestedBy}}, de votre prestataire, demande l'accès aux caméras et aux médias de {{.AccountName}}.
{{with .Text}}
Motif donné : {{.}}
{{end}}
Tant que vous ne l'autorisez pas, votre prestataire gère vos utilisateurs et vos réglages mais ne voit aucune de vos caméras ni de vos enregistrements. Pour accepter (jusqu'à minuit, ou jusqu'à l'heure de votre choix) ou refuser, connectez-vous et ouvrez :

{{.Link}}

Vous pouvez mettre fin à l'accès à tout moment depuis la même page.
`,
		},
		WebhookDisabled: {
			subject: "Un webhook de {{.AccountName}} a été désactivé",
			body: `Bonjour{{with .FirstName}} {{.}}{{end}},

Pendant une journée entière, chaque tentative de livrer les événements de {{.AccountName}} à ce webhook a échoué :

{{.Text}}

Gatehouse l'a désactivé et ne lui envoie plus rien ; les événements de cette journée n'ont pas été livrés. Les livraisons du webhook montrent chaque réponse reçue. Une fois le récepteur réparé, abonnez-le de nouveau.
`,
		},
	},
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}

// Render returns the subject and body of a message in lang, falling back to
// English for a language without a catalogue.
func Render(lang, kind string, data Data) (subject, body string, err error) {
	catalogue, ok := compiled[lang]
	if !ok {
		catalogue = compiled["en"]
	}
	t, ok := catalogue[kind]
	if !ok {
		return "", "", fmt.Errorf("messages: no %q message in %q", kind, lang)
	}
	if subject, err = execute(t.subject, data); err != nil {
		return "", "", err
	}
	// A subject is one line, whatever a name contains.
	subject = strings.Join(strings.Fields(subject), " ")
	body, err = execute(t.body, data)
	return subject, body, err
}

type compiledText struct{ subject, body *template.Template }

// compiled holds every text parsed once, when the program starts: parsing
// took two thirds of a render, on the path of every user added.
var compiled = compile()

func compile() map[string]map[string]compiledText {
	parse := func(src string) *template.Template {
		return template.Must(template.New("").Funcs(funcs).Option("missingkey=error").Parse(src))
	}
	out := map[string]map[string]compiledText{}
	for lang, catalogue := range catalogues {
		out[lang] = map[string]compiledText{}
		for kind, t := range catalogue {
			out[lang][kind] = compiledText{subject: parse(t.subject), body: parse(t.body)}
		}
	}
	return out
}

func execute(t *template.Template, data Data) (string, error) {
	var b bytes.Buffer
	err := t.Execute(&b, data)
	return b.String(), err
}

// Languages lists the languages with a catalogue.
func Languages() []string {
	out := make([]string, 0, len(catalogues))
	for lang := range catalogues {
		out = append(out, lang)
	}
	return out
}
