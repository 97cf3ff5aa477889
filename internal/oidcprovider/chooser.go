package oidcprovider

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The account chooser: an application that asks for the scope "account"
// (without an id) lets the person pick one of their accounts on
// /oauth2/continue; the request then goes on as if it had asked for
// account:{id}, and the tokens carry that account.

// ScopeChooseAccount asks the person to choose the account the tokens carry.
const ScopeChooseAccount = "account"

// chooserTexts are the chooser's words, in every language of the portal.
var chooserTexts = map[string]map[string]string{
	"en": {
		"title":     "Choose an account",
		"intro":     "%s asks which account to sign you in to.",
		"legend":    "Your accounts",
		"suspended": "suspended: it cannot be chosen",
		"none":      "You have no active account to sign in to.",
		"continue":  "Continue",
		"cancel":    "Cancel and go back to the application",
		"client":    "site",
		"integ":     "integrator",

		"consent_title":   "Allow %s?",
		"consent_intro":   "%s, an application of %s, asks to sign you in. It will see:",
		"sees_id":         "who you are (your user id here)",
		"sees_email":      "your e-mail address or username",
		"sees_name":       "your first and last name",
		"sees_account":    "the account you sign in to, and your level in it",
		"sees_offline":    "that you are signed in, until you disconnect it from your profile",
		"consent_account": "Sign in to",
		"allow":           "Allow",
		"second_title":    "A second factor is needed",
		"second_body":     "%s asks that you sign in with a second factor (an authenticator app or text messages), and this sign-in used none. Set one up on your profile, then come back and continue.",
		"second_profile":  "Set up a second factor on your profile",
		"second_continue": "Continue",
	},
	"fr": {
		"title":     "Choisir un compte",
		"intro":     "%s demande à quel compte vous connecter.",
		"legend":    "Vos comptes",
		"suspended": "suspendu : il ne peut pas être choisi",
		"none":      "Vous n’avez aucun compte actif auquel vous connecter.",
		"continue":  "Continuer",
		"cancel":    "Annuler et revenir à l’application",
		"client":    "site",
		"integ":     "intégrateur",

		"consent_title":   "Autoriser %s ?",
		"consent_intro":   "%s, une application de %s, demande à vous connecter. Elle verra :",
		"sees_id":         "qui vous êtes (votre identifiant d’utilisateur ici)",
		"sees_email":      "votre adresse e-mail ou votre nom d’utilisateur",
		"sees_name":       "vos prénom et nom",
		"sees_account":    "le compte auquel vous vous connectez, et votre niveau dans ce compte",
		"sees_offline":    "que vous êtes connecté, jusqu’à ce que vous la déconnectiez depuis votre profil",
		"consent_account": "Se connecter à",
		"allow":           "Autoriser",
		"second_title":    "Un second facteur est nécessaire",
		"second_body":     "%s demande une connexion avec un second facteur (une application d’authentification ou des SMS), et cette connexion n’en a utilisé aucun. Configurez-en un sur votre profil, puis revenez et continuez.",
		"second_profile":  "Configurer un second facteur sur votre profil",
		"second_continue": "Continuer",
	},
}

type choice struct {
	gatehouse.MembershipSummary
	Choosable bool
}

type chooserPage struct {
	Lang, ID, Intro string
	T               map[string]string
	Choices         []choice
	Any             bool
	// Chooser lists the accounts; Consent asks to allow an integrator's
	// application, listing what it will See.
	Chooser, Consent bool
	Title            string
	See              []string
}

var chooserTemplate = template.Must(template.New("chooser").Parse(pageHead + `<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Intro}}</p>
{{if .Consent}}<ul class="sees">{{range .See}}<li>{{.}}</li>{{end}}</ul>{{end}}
<form method="post" action="/oauth2/continue">
<input type="hidden" name="id" value="{{.ID}}">
{{if not .Chooser}}<button type="submit" class="primary" name="action" value="allow">{{index .T "allow"}}</button>
{{else if .Any}}<fieldset>
<legend>{{if .Consent}}{{index .T "consent_account"}}{{else}}{{index .T "legend"}}{{end}}</legend>
<ul>
{{range $i, $c := .Choices}}<li><input type="radio" name="account" id="account-{{$i}}" value="{{$c.AccountID}}"{{if not $c.Choosable}} disabled aria-describedby="account-{{$i}}-state"{{end}}{{if and $c.Choosable (eq $i 0)}} required{{end}}>
<label for="account-{{$i}}">{{$c.AccountName}}{{if $c.IntegratorName}} · {{$c.IntegratorName}}{{end}}
<span class="hint">{{if eq (print $c.AccountKind) "integrator"}}{{index $.T "integ"}}{{else}}{{index $.T "client"}}{{end}}{{if not $c.Choosable}} — <span id="account-{{$i}}-state">{{index $.T "suspended"}}</span>{{end}}</span></label></li>
{{end}}</ul>
</fieldset>
<button type="submit" class="primary" name="action" value="{{if .Consent}}allow{{else}}choose{{end}}">{{if .Consent}}{{index .T "allow"}}{{else}}{{index .T "continue"}}{{end}}</button>
{{else}}<p>{{index .T "none"}}</p>{{end}}
<button type="submit" class="secondary" name="action" value="cancel" formnovalidate>{{index .T "cancel"}}</button>
</form>
</main>
</body>
</html>
`))

// wantsChooser tells whether a request asks the person to choose.
func wantsChooser(scopes []string) bool { return slices.Contains(scopes, ScopeChooseAccount) }

// choices are the person's accounts the chooser lists: active memberships,
// those of suspended accounts marked and not choosable. An integrator's
// application (owner set) is offered that integrator's accounts alone.
func (s *Service) choices(r *http.Request, userID, owner string) ([]choice, error) {
	memberships, err := s.store.MembershipsOf(r.Context(), userID, s.Now())
	if err != nil {
		return nil, err
	}
	var out []choice
	for _, m := range memberships {
		if m.Status != gatehouse.MembershipActive {
			continue
		}
		if owner != "" && m.AccountID != owner {
			account, err := s.store.Account(r.Context(), m.AccountID)
			if err != nil {
				return nil, err
			}
			if account.IntegratorID != owner {
				continue
			}
		}
		out = append(out, choice{m, !m.Suspended})
	}
	return out, nil
}

// showChooser renders the chooser, or the consent to an integrator's
// application, or both on one page, for a live, unfinished request.
func (s *Service) showChooser(w http.ResponseWriter, r *http.Request, req gatehouse.OIDCAuthRequest, client gatehouse.OIDCClient,
	userID string, consent bool) error {
	lang := s.languageOf(r.Context(), userID)
	t := chooserTexts[lang]
	page := chooserPage{Lang: lang, ID: req.ID, T: t, Chooser: wantsChooser(req.Scopes), Consent: consent,
		Title: t["title"], Intro: fmt.Sprintf(t["intro"], client.Name)}
	if page.Chooser {
		list, err := s.choices(r, userID, client.OwnerAccountID)
		if err != nil {
			return err
		}
		page.Choices = list
		for _, c := range list {
			page.Any = page.Any || c.Choosable
		}
	}
	if consent {
		page.Title = fmt.Sprintf(t["consent_title"], client.Name)
		page.Intro = fmt.Sprintf(t["consent_intro"], client.Name, s.ownerName(r.Context(), client))
		page.See = sees(t, req.Scopes)
	}
	writePageHeaders(w, req.RedirectURI)
	return chooserTemplate.Execute(w, page)
}

// chosenScopes replaces the scope "account" with account:{id}, for an
// account the chooser offers; ok is false for any other account.
func (s *Service) chosenScopes(r *http.Request, req gatehouse.OIDCAuthRequest, client gatehouse.OIDCClient, userID, accountID string) ([]string, bool, error) {
	list, err := s.choices(r, userID, client.OwnerAccountID)
	if err != nil {
		return nil, false, err
	}
	if !slices.ContainsFunc(list, func(c choice) bool { return c.Choosable && c.AccountID == accountID }) {
		return nil, false, nil
	}
	return chosen(req.Scopes, accountID), true, nil
}

// chosen replaces the scope "account" with account:{id}.
func chosen(requested []string, accountID string) []string {
	scopes := make([]string, 0, len(requested))
	for _, scope := range requested {
		if scope == ScopeChooseAccount {
			scope = ScopeAccountPrefix + accountID
		}
		scopes = append(scopes, scope)
	}
	return scopes
}
