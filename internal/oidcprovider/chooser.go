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
}

var chooserTemplate = template.Must(template.New("chooser").Parse(pageHead + `<body>
<main>
<h1>{{index .T "title"}}</h1>
<p>{{.Intro}}</p>
<form method="post" action="/oauth2/continue">
<input type="hidden" name="id" value="{{.ID}}">
{{if .Any}}<fieldset>
<legend>{{index .T "legend"}}</legend>
<ul>
{{range $i, $c := .Choices}}<li><input type="radio" name="account" id="account-{{$i}}" value="{{$c.AccountID}}"{{if not $c.Choosable}} disabled aria-describedby="account-{{$i}}-state"{{end}}{{if and $c.Choosable (eq $i 0)}} required{{end}}>
<label for="account-{{$i}}">{{$c.AccountName}}{{if $c.IntegratorName}} · {{$c.IntegratorName}}{{end}}
<span class="hint">{{if eq (print $c.AccountKind) "integrator"}}{{index $.T "integ"}}{{else}}{{index $.T "client"}}{{end}}{{if not $c.Choosable}} — <span id="account-{{$i}}-state">{{index $.T "suspended"}}</span>{{end}}</span></label></li>
{{end}}</ul>
</fieldset>
<button type="submit" class="primary" name="action" value="choose">{{index .T "continue"}}</button>
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
// those of suspended accounts marked and not choosable.
func (s *Service) choices(r *http.Request, userID string) ([]choice, error) {
	memberships, err := s.store.MembershipsOf(r.Context(), userID, s.Now())
	if err != nil {
		return nil, err
	}
	var out []choice
	for _, m := range memberships {
		if m.Status != gatehouse.MembershipActive {
			continue
		}
		out = append(out, choice{m, !m.Suspended})
	}
	return out, nil
}

// showChooser renders the chooser for a live, unfinished request.
func (s *Service) showChooser(w http.ResponseWriter, r *http.Request, req gatehouse.OIDCAuthRequest, userID string) error {
	list, err := s.choices(r, userID)
	if err != nil {
		return err
	}
	lang := "en"
	if user, err := s.store.User(r.Context(), userID); err == nil && chooserTexts[user.Language] != nil {
		lang = user.Language
	}
	name := req.ClientID
	if c, err := s.store.OIDCClient(r.Context(), req.ClientID); err == nil {
		name = c.Name
	}
	t := chooserTexts[lang]
	page := chooserPage{Lang: lang, ID: req.ID, T: t, Choices: list, Intro: fmt.Sprintf(t["intro"], name)}
	for _, c := range list {
		page.Any = page.Any || c.Choosable
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	return chooserTemplate.Execute(w, page)
}

// chosenScopes replaces the scope "account" with account:{id}, for an
// account the chooser offers; ok is false for any other account.
func (s *Service) chosenScopes(r *http.Request, req gatehouse.OIDCAuthRequest, userID, accountID string) ([]string, bool, error) {
	list, err := s.choices(r, userID)
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
