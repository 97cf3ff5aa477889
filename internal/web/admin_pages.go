package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// The pages that run the platform rather than one site: identity providers
// (R-U5; an integrator's administrators manage their integrator's on a tab
// of its account), the check tokens of the platform's services, and
// operators. Each page calls the use case with the signed-in person as
// caller, so who may use it is decided there, and a refusal is the page.

// platformTabs are the pages of the platform as a whole, for operators.
var platformTabs = []struct{ key, href string }{
	{"identity_providers", "/platform/identity-providers"},
	{"check_tokens", "/platform/check-tokens"},
	{"operators", "/platform/operators"},
	{"applications", "/platform/applications"},
	{"platform_brand", "/platform/brand"},
}

// platform wraps a page of the platform as a whole: the person must be
// signed in, and the page's use case decides whether they may see it.
func (p *Pages) platform(tab string, h func(http.ResponseWriter, *http.Request, *visit)) http.Handler {
	return p.person(func(w http.ResponseWriter, r *http.Request, v *visit) {
		v.view.Title = v.view.T[tab]
		for _, t := range platformTabs {
			v.view.Tabs = append(v.view.Tabs, tabItem{Href: t.href, Label: v.view.T[t.key], Current: t.key == tab})
		}
		v.view.Flash = p.flash(r, v.view.T)
		h(w, r, v)
	})
}

// refused shows a use case's refusal as the whole page, with its status: a
// person who may not use a page sees nothing of it.
func (p *Pages) refused(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	v.view.Error = p.message(r, err)
	p.renderPortal(w, r, statusOf(err), "portal_error.html", v)
}

// formError puts a refusal at the form's field that caused it, or above the
// form when it names no field of this form (an account the page chose, not
// the person).
func (p *Pages) formError(r *http.Request, v *visit, err error, fields ...string) {
	var e *gatehouse.Error
	if errors.As(err, &e) && slices.Contains(fields, e.Field) {
		p.fieldError(r, v, err)
		return
	}
	v.view.Error = p.message(r, err)
}

// confirmFound asks before a destructive action on one thing that only
// those who may act can list: find looks it up with that list's use case,
// so a person who may not act gets the refusal rather than a question, and
// the question names what is lost.
func (p *Pages) confirmFound(question, consequence, button string, back func(*visit, *http.Request) string,
	find func(*visit, *http.Request) (string, error)) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		name, err := find(v, r)
		if err != nil {
			p.refused(w, r, v, err)
			return
		}
		p.confirm(question, consequence, button, back, func(*visit, *http.Request) string { return name })(w, r, v)
	}
}

// backTo is a confirmation's way back to a fixed page.
func backTo(path string) func(*visit, *http.Request) string {
	return func(*visit, *http.Request) string { return path }
}

// Identity providers.

type providerRow struct {
	gatehouse.IdentityProvider
	// Owner names the integrator that owns the provider and OwnerHref
	// leads to its tab; both "" for a platform-wide provider.
	Owner, OwnerHref string
}

type providersData struct {
	Providers []providerRow
	// Base is the list's address: the form posts there, and each
	// provider's delete address starts there.
	Base string
	// Platform is set on the operators' page, where new providers are
	// platform-wide; otherwise they are the integrator's.
	Platform bool
	// RedirectURI is the address to register at the provider.
	RedirectURI string
}

// providersBase is the address of the providers' list the visit is on: an
// integrator's tab, or the platform's page.
func providersBase(v *visit, _ *http.Request) string {
	if v.view.Account.ID != "" {
		return "/accounts/" + v.view.Account.ID + "/identity-providers"
	}
	return "/platform/identity-providers"
}

// providersPage lists the identity providers the person manages from this
// page (operators: all of them; an integrator's administrators: their
// integrator's) and offers to register one.
func (p *Pages) providersPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderProviders(w, r, v, http.StatusOK)
}

func (p *Pages) renderProviders(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	providers, err := p.svc.SignIn.ManagedIdentityProviders(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	data := providersData{Base: providersBase(v, r), Platform: v.view.Account.ID == "", RedirectURI: p.svc.PublicURL() + signin.CallbackPath}
	owners := map[string]string{}
	for _, ip := range providers {
		row := providerRow{IdentityProvider: ip}
		if ip.AccountID != "" {
			name, ok := owners[ip.AccountID]
			if !ok {
				name = ip.AccountID
				if account, err := p.svc.Accounts.Account(r.Context(), v.caller, ip.AccountID); err == nil {
					name = account.Name
				}
				owners[ip.AccountID] = name
			}
			row.Owner, row.OwnerHref = name, "/accounts/"+ip.AccountID+"/identity-providers"
		}
		data.Providers = append(data.Providers, row)
	}
	v.view.Data = data
	p.renderPortal(w, r, status, "identity_providers.html", v)
}

// createProvider registers a provider: platform-wide from the platform's
// page, the integrator's from its tab. A refused form comes back with the
// error at its field, and without the secret, which is never written into
// a page.
func (p *Pages) createProvider(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_ = r.ParseForm()
	f := r.PostForm
	provider, err := p.svc.SignIn.CreateIdentityProvider(r.Context(), v.caller, signin.NewIdentityProvider{AccountID: v.view.Account.ID,
		Name: f.Get("name"), Issuer: f.Get("issuer"), ClientID: f.Get("client_id"), ClientSecret: f.Get("client_secret")})
	if err != nil {
		v.view.Form = url.Values{"name": f["name"], "issuer": f["issuer"], "client_id": f["client_id"]}
		p.formError(r, v, err, "name", "issuer", "client_id", "client_secret")
		p.renderProviders(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL(providersBase(v, r), "provider_created_flash", provider.Name), http.StatusSeeOther)
}

// findProvider names the provider of the address among those the person
// manages from this page: another integrator's, or a platform-wide one
// asked for on an integrator's tab, is not found here.
func (p *Pages) findProvider(v *visit, r *http.Request) (string, error) {
	providers, err := p.svc.SignIn.ManagedIdentityProviders(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		return "", err
	}
	for _, ip := range providers {
		if ip.ID == r.PathValue("provider_id") {
			return ip.Name, nil
		}
	}
	return "", gatehouse.NotFound("identity provider")
}

// deleteProvider removes a provider nobody signs in through any more; the
// use case refuses one still in use, and the list says so.
func (p *Pages) deleteProvider(w http.ResponseWriter, r *http.Request, v *visit) {
	name, err := p.findProvider(v, r)
	if err == nil {
		err = p.svc.SignIn.DeleteIdentityProvider(r.Context(), v.caller, r.PathValue("provider_id"))
	}
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderProviders(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL(providersBase(v, r), "provider_deleted_flash", name), http.StatusSeeOther)
}

// Check tokens: what the platform's services ask checks with (operators).

type checkTokensData struct {
	Tokens []gatehouse.CheckToken
	// Secret is the token just made, shown on this page only.
	Secret string
}

func (p *Pages) checkTokensPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderCheckTokens(w, r, v, http.StatusOK, "")
}

func (p *Pages) renderCheckTokens(w http.ResponseWriter, r *http.Request, v *visit, status int, secret string) {
	tokens, err := p.svc.Accounts.CheckTokens(r.Context(), v.caller)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	v.view.Data = checkTokensData{Tokens: tokens, Secret: secret}
	p.renderPortal(w, r, status, "check_tokens.html", v)
}

// createCheckToken makes a token; like a personal API token's, its secret
// is in this answer and nowhere else (only its hash is kept).
func (p *Pages) createCheckToken(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_ = r.ParseForm()
	_, secret, err := p.svc.Accounts.CreateCheckToken(r.Context(), v.caller, r.PostForm.Get("name"))
	if err != nil {
		v.view.Form = r.PostForm
		p.formError(r, v, err, "name")
		p.renderCheckTokens(w, r, v, statusOf(err), "")
		return
	}
	p.renderCheckTokens(w, r, v, http.StatusCreated, secret)
}

// findCheckToken names the live check token of the address.
func (p *Pages) findCheckToken(v *visit, r *http.Request) (string, error) {
	tokens, err := p.svc.Accounts.CheckTokens(r.Context(), v.caller)
	if err != nil {
		return "", err
	}
	for _, t := range tokens {
		if t.ID == r.PathValue("token_id") {
			return t.Name, nil
		}
	}
	return "", gatehouse.NotFound("check token")
}

// revokeCheckToken ends a check token at once.
func (p *Pages) revokeCheckToken(w http.ResponseWriter, r *http.Request, v *visit) {
	name, err := p.findCheckToken(v, r)
	if err == nil {
		err = p.svc.Accounts.RevokeCheckToken(r.Context(), v.caller, r.PathValue("token_id"))
	}
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderCheckTokens(w, r, v, statusOf(err), "")
		return
	}
	http.Redirect(w, r, doneURL("/platform/check-tokens", "check_token_revoked_flash", name), http.StatusSeeOther)
}

// Operators (R-P4): people with the power over every account.

type operatorsData struct {
	Operators []gatehouse.User
	// Candidates are the people who may be made operators from here.
	Candidates []gatehouse.Member
	// Me is the signed-in operator's identity, to mark their own row.
	Me string
}

func (p *Pages) operatorsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderOperators(w, r, v, http.StatusOK)
}

func (p *Pages) renderOperators(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	operators, err := p.svc.Accounts.Operators(r.Context(), v.caller)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	data := operatorsData{Operators: operators, Me: v.caller.Principal.UserID}
	data.Candidates, err = p.operatorCandidates(r, v, operators)
	if err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	v.view.Data = data
	p.renderPortal(w, r, status, "operators.html", v)
}

// operatorCandidates are the active people of the signed-in operator's own
// accounts (the operating company's) who are not operators yet. The use
// case takes an identity's id and nothing looks up every identity by
// username, so the page offers the people an operator already works with:
// anyone else is first invited there and activates the usual way.
func (p *Pages) operatorCandidates(r *http.Request, v *visit, operators []gatehouse.User) ([]gatehouse.Member, error) {
	taken := map[string]bool{}
	for _, u := range operators {
		taken[u.ID] = true
	}
	var candidates []gatehouse.Member
	var failed error
	for _, m := range v.view.Me.Memberships {
		if m.Status != gatehouse.MembershipActive {
			continue
		}
		page, err := p.svc.People.Members(r.Context(), v.caller, m.AccountID, gatehouse.PageRequest{Limit: 500})
		if err != nil {
			failed = err
			continue
		}
		for _, member := range page.Items {
			if member.Status != gatehouse.MembershipActive || member.Level == gatehouse.LevelRemoteMonitoring || taken[member.UserID] {
				continue
			}
			taken[member.UserID] = true
			candidates = append(candidates, member)
		}
	}
	slices.SortFunc(candidates, func(a, b gatehouse.Member) int {
		return strings.Compare(strings.ToLower(a.Username), strings.ToLower(b.Username))
	})
	return candidates, failed
}

// addOperator makes the chosen person an operator; they use a second
// factor from their next sign-in.
func (p *Pages) addOperator(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	user, err := p.svc.Accounts.SetOperator(r.Context(), v.caller, r.PostFormValue("user_id"), true)
	if err != nil {
		p.formError(r, v, err, "user_id")
		p.renderOperators(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL("/platform/operators", "operator_added_flash", user.Username), http.StatusSeeOther)
}

// findOperator names the operator of the address.
func (p *Pages) findOperator(v *visit, r *http.Request) (string, error) {
	operators, err := p.svc.Accounts.Operators(r.Context(), v.caller)
	if err != nil {
		return "", err
	}
	for _, u := range operators {
		if u.ID == r.PathValue("user_id") {
			return u.Username, nil
		}
	}
	return "", gatehouse.NotFound("operator")
}

// removeOperator takes the power away, which ends the person's sessions.
// Operators may not take their own: the use case refuses, and the page
// shows why.
func (p *Pages) removeOperator(w http.ResponseWriter, r *http.Request, v *visit) {
	name, err := p.findOperator(v, r)
	self := false
	if err == nil {
		_, err = p.svc.Accounts.SetOperator(r.Context(), v.caller, r.PathValue("user_id"), false)
		self = r.PathValue("user_id") == v.caller.Principal.UserID
	}
	if err != nil {
		v.view.Error = p.message(r, err)
		if self && gatehouse.ErrorCode(err) == gatehouse.EFORBIDDEN {
			// The use case explains in English; every language says who
			// may do it instead.
			v.view.Error = v.view.T["error_remove_own_operator"]
		}
		p.renderOperators(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL("/platform/operators", "operator_removed_flash", name), http.StatusSeeOther)
}
