package web

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// tokensData is the person's own API tokens for one account, and the one
// just made, whose secret this page shows once.
type tokensData struct {
	Tokens []gatehouse.APIToken
	Scopes []string
	Secret string
}

// tokensTab lists the person's API tokens for the account and offers a new
// one, with the scopes it needs and an optional end date.
func (p *Pages) tokensTab(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderTokens(w, r, v, http.StatusOK, "")
}

func (p *Pages) renderTokens(w http.ResponseWriter, r *http.Request, v *visit, status int, secret string) {
	tokens, err := p.svc.Accounts.APITokens(r.Context(), v.caller, v.view.Account.ID)
	if err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	v.view.Data = tokensData{Tokens: tokens, Scopes: gatehouse.TokenScopes, Secret: secret}
	p.renderPortal(w, r, status, "tokens.html", v)
}

// createToken makes a token; its secret is shown on this page only.
func (p *Pages) createToken(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_ = r.ParseForm()
	in := accounts.NewAPIToken{Name: r.PostForm.Get("name"), Scopes: r.PostForm["scopes"]}
	if day, err := time.Parse(time.DateOnly, r.PostForm.Get("expires")); err == nil {
		in.ExpiresAt = day.AddDate(0, 0, 1)
	}
	_, secret, err := p.svc.Accounts.CreateAPIToken(r.Context(), v.caller, v.view.Account.ID, in)
	if err != nil {
		v.view.Form = r.PostForm
		p.fieldError(r, v, err)
		p.renderTokens(w, r, v, statusOf(err), "")
		return
	}
	p.renderTokens(w, r, v, http.StatusCreated, secret)
}

// revokeToken ends one of the person's tokens at once.
func (p *Pages) revokeToken(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := p.svc.Accounts.RevokeAPIToken(r.Context(), v.caller, v.view.Account.ID, r.PathValue("token_id")); err != nil {
		v.view.Error = p.message(r, err)
		p.renderTokens(w, r, v, statusOf(err), "")
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/api-tokens", "deleted_flash", ""), http.StatusSeeOther)
}
