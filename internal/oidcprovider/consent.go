package oidcprovider

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Consent and the strength of a sign-in.
//
// The platform's own applications (registered by operators) sign people in
// without asking; an integrator's own application asks each person once,
// naming what it will see, and again when it asks for more. A sign-in that
// must use a second factor — an application asking for it with acr_values,
// or an administrator, always — and whose portal session was opened
// without one stops on a page that says so.

// The authentication context classes (acr) of the ID tokens: a password
// alone, or a password and a second factor. An application requires the
// second with acr_values=urn:gatehouse:acr:mfa.
const (
	ACRPassword    = "urn:gatehouse:acr:password"
	ACRMultiFactor = "urn:gatehouse:acr:mfa"
)

// acrOf is the class a sign-in with these methods reached.
func acrOf(amr []string) string {
	if slices.Contains(amr, "otp") || slices.Contains(amr, "hwk") {
		return ACRMultiFactor
	}
	return ACRPassword
}

// signInStrength returns the methods (amr) the portal session was opened
// with, and whether a second factor is missing though the application asked
// for one or the person is an administrator (or an operator, or someone an
// administrator required it of).
func (s *Service) signInStrength(ctx context.Context, sessionID, userID string, acrValues []string) (amr []string, missing bool, err error) {
	second, recorded, err := s.store.SessionSecondFactor(ctx, sessionID)
	if err != nil {
		return nil, false, err
	}
	switch {
	case len(recorded) > 0:
		// A passkey sign-in: a key held in hardware (hwk) that checked the
		// person (user), after a password or alone (RFC 8176).
		return recorded, !second, nil
	case second:
		return []string{"pwd", "otp"}, false, nil
	}
	if slices.Contains(acrValues, ACRMultiFactor) {
		return []string{"pwd"}, true, nil
	}
	admin, err := s.store.HasActiveAdminMembership(ctx, userID)
	return []string{"pwd"}, admin, err
}

// consentScopes are what a person consents to: the account scope stands for
// any account of the application's integrator, so choosing another one does
// not ask again.
func consentScopes(scopes []string) []string {
	var out []string
	for _, scope := range scopes {
		if strings.HasPrefix(scope, ScopeAccountPrefix) {
			scope = ScopeChooseAccount
		}
		if !slices.Contains(out, scope) {
			out = append(out, scope)
		}
	}
	slices.Sort(out)
	return out
}

// needsConsent tells whether the person must consent before an integrator's
// application signs them in: they never did, or it now asks for more.
func (s *Service) needsConsent(ctx context.Context, client gatehouse.OIDCClient, userID string, scopes []string) (bool, error) {
	if client.OwnerAccountID == "" {
		return false, nil
	}
	given, err := s.store.OIDCConsent(ctx, userID, client.ID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return true, nil
	} else if err != nil {
		return false, err
	}
	for _, scope := range consentScopes(scopes) {
		if !slices.Contains(given.Scopes, scope) {
			return true, nil
		}
	}
	return false, nil
}

// sees lists, in the person's words, what an application asking for scopes
// will see.
func sees(t map[string]string, scopes []string) []string {
	out := []string{t["sees_id"]}
	has := func(s string) bool { return slices.Contains(scopes, s) }
	if has(oidc.ScopeEmail) || has(oidc.ScopeProfile) {
		out = append(out, t["sees_email"])
	}
	if has(oidc.ScopeProfile) {
		out = append(out, t["sees_name"])
	}
	if countAccountScopes(scopes) > 0 {
		out = append(out, t["sees_account"])
	}
	if has(oidc.ScopeOfflineAccess) {
		out = append(out, t["sees_offline"])
	}
	return out
}

// ownerName names the integrator that registered an application.
func (s *Service) ownerName(ctx context.Context, client gatehouse.OIDCClient) string {
	if a, err := s.store.Account(ctx, client.OwnerAccountID); err == nil {
		return a.Name
	}
	return ""
}

type secondFactorPage struct {
	Lang, Body, ContinueURL string
	T                       map[string]string
	ID                      string
}

var secondFactorTemplate = template.Must(template.New("second").Parse(pageHead + `<body>
<main>
<h1>{{index .T "second_title"}}</h1>
<p>{{.Body}}</p>
<p><a href="/profile">{{index .T "second_profile"}}</a></p>
<p><a href="{{.ContinueURL}}">{{index .T "second_continue"}}</a></p>
<form method="post" action="/oauth2/continue">
<input type="hidden" name="id" value="{{.ID}}">
<button type="submit" class="secondary" name="action" value="cancel">{{index .T "cancel"}}</button>
</form>
</main>
</body>
</html>
`))

// showSecondFactorNeeded stops a sign-in that needs a second factor the
// portal session was opened without. Setting one up on the profile makes
// the session one with a second factor; Continue then finishes the sign-in.
func (s *Service) showSecondFactorNeeded(w http.ResponseWriter, r *http.Request, req gatehouse.OIDCAuthRequest, client gatehouse.OIDCClient, userID string) {
	lang := s.languageOf(r.Context(), userID)
	t := chooserTexts[lang]
	page := secondFactorPage{Lang: lang, T: t, ID: req.ID, Body: fmt.Sprintf(t["second_body"], client.Name),
		ContinueURL: ContinuePath + "?" + url.Values{"id": {req.ID}}.Encode()}
	writePageHeaders(w, req.RedirectURI)
	w.WriteHeader(http.StatusForbidden)
	_ = secondFactorTemplate.Execute(w, page)
}

// languageOf is the person's language if the provider's pages speak it,
// else English.
func (s *Service) languageOf(ctx context.Context, userID string) string {
	if user, err := s.store.User(ctx, userID); err == nil && chooserTexts[user.Language] != nil {
		return user.Language
	}
	return "en"
}

// writePageHeaders sets the headers of a page whose form finishes an
// authorization. Its answer redirects to the application's redirect URI,
// and browsers hold a form's redirects to its page's form-action: that
// URI's origin (or private-use scheme) is allowed beside the page's own.
func writePageHeaders(w http.ResponseWriter, redirectURI string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"+
		formTarget(redirectURI)+"; frame-ancestors 'none'")
}

// formTarget is a redirect URI as a CSP source: " https://app.example.com"
// or " com.example.app:"; "" for anything a source cannot say safely.
func formTarget(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" || strings.ContainsAny(redirectURI, " ;,'\"\r\n") {
		return ""
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return " " + u.Scheme + "://" + u.Host
	}
	return " " + u.Scheme + ":"
}
