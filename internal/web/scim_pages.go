package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/scim"
)

// An account's SCIM provisioning (docs/scim.md): the tab shows the base URL
// to give the directory, the account's SCIM tokens (a new one's secret on
// that answer only; revoking asks first), what the directory's groups are
// mapped to, and the directory's last calls with what became of each.

func (p *Pages) registerSCIM(handle func(pattern string, h http.Handler)) {
	handle("GET /accounts/{id}/scim", p.secure(p.account("scim", p.scimPage)))
	handle("POST /accounts/{id}/scim/tokens", p.secure(p.csrf.Handler(p.account("scim", p.createSCIMToken))))
	handle("GET /accounts/{id}/scim/tokens/{token_id}/revoke", p.secure(p.account("scim",
		p.confirmFound("confirm_revoke_scim_token", "confirm_revoke_scim_token_loses", "revoke", scimBase, p.findSCIMToken))))
	handle("POST /accounts/{id}/scim/tokens/{token_id}/revoke", p.secure(p.csrf.Handler(p.account("scim", p.revokeSCIMToken))))
	handle("POST /accounts/{id}/scim/mappings", p.secure(p.csrf.Handler(p.account("scim", p.createSCIMMapping))))
	handle("GET /accounts/{id}/scim/mappings/{mapping_id}/delete", p.secure(p.account("scim",
		p.confirmFound("confirm_delete_scim_mapping", "confirm_delete_scim_mapping_loses", "remove_scim_mapping", scimBase, p.findSCIMMapping))))
	handle("POST /accounts/{id}/scim/mappings/{mapping_id}/delete", p.secure(p.csrf.Handler(p.account("scim", p.deleteSCIMMapping))))
	handle("POST /accounts/{id}/users/{membership_id}/restore", p.secure(p.csrf.Handler(p.account("users", p.restoreMember))))
}

// restoreMember gives a membership the directory suspended its access back,
// from the member's page, for those who may change the member: the
// directory may suspend it again at its next synchronisation if the
// person is still disabled there.
func (p *Pages) restoreMember(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, scimMaxForm)
	id, suspended := r.PathValue("membership_id"), false
	if _, err := p.svc.People.UpdateMember(r.Context(), v.caller, v.view.Account.ID, id, people.MemberPatch{Suspended: &suspended}); err != nil {
		v.view.Error = p.message(r, err)
		p.renderMember(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/users/"+id, "member_restored_flash", ""), http.StatusSeeOther)
}

// scimBase is the address of the account's SCIM tab.
func scimBase(v *visit, _ *http.Request) string { return "/accounts/" + v.view.Account.ID + "/scim" }

// scimMaxForm bounds every form of the tab.
const scimMaxForm = 16 << 10

// scimCallsShown is how many calls the tab shows a page.
const scimCallsShown = 50

type scimData struct {
	// Base is the SCIM base URL the directory is given.
	Base      string
	Tokens    []gatehouse.SCIMToken
	Providers []gatehouse.IdentityProvider
	Mappings  []gatehouse.SCIMGroupMapping
	// Gives are the choices of what a group gives: the account's roles,
	// and the administrators' level where the caller may give it.
	Gives []scimGive
	Calls []gatehouse.SCIMCall
	Next  string
	// Created is the token just made and Secret its secret, shown on this
	// answer only.
	Created *gatehouse.SCIMToken
	Secret  string
}

// scimGive is one choice of what a group gives: "role:<name>" or
// "level:<level>".
type scimGive struct{ Value, Label string }

// ProviderName names a token's identity provider, "" for none.
func (d scimData) ProviderName(id string) string {
	for _, p := range d.Providers {
		if p.ID == id {
			return p.Name
		}
	}
	return id
}

func (p *Pages) scimPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderSCIM(w, r, v, http.StatusOK, nil, "")
}

func (p *Pages) renderSCIM(w http.ResponseWriter, r *http.Request, v *visit, status int, created *gatehouse.SCIMToken, secret string) {
	ctx, accountID := r.Context(), v.view.Account.ID
	tokens, err := p.svc.SCIM.Tokens(ctx, v.caller, accountID)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	data := scimData{Base: p.svc.SCIM.Base(accountID), Tokens: tokens, Created: created, Secret: secret}
	data.Providers, _ = p.svc.SignIn.IdentityProviders(ctx, v.caller)
	if data.Mappings, err = p.svc.SCIM.Mappings(ctx, v.caller, accountID); err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	roles, _ := p.svc.Access.Roles(ctx, v.caller, accountID)
	for _, role := range roles {
		data.Gives = append(data.Gives, scimGive{Value: "role:" + role.Name, Label: v.view.T["scim_gives_role"] + " " + role.Name})
	}
	if v.rights.SCIMAdminLevel {
		level := gatehouse.LevelClientAdmin
		if v.view.Account.Kind == gatehouse.KindIntegrator {
			level = gatehouse.LevelIntegratorAdmin
		}
		data.Gives = append(data.Gives, scimGive{Value: "level:" + string(level), Label: v.view.T["scim_gives_level"] + " " + v.view.T["level_"+string(level)]})
	}
	calls, err := p.svc.SCIM.Calls(ctx, v.caller, accountID, gatehouse.PageRequest{Limit: scimCallsShown, Cursor: r.URL.Query().Get("cursor")})
	if err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	data.Calls, data.Next = calls.Items, calls.NextCursor
	v.view.Data = data
	p.renderPortal(w, r, status, "scim.html", v)
}

// createSCIMToken makes a token; the answer shows its secret, which no page
// shows again.
func (p *Pages) createSCIMToken(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, scimMaxForm)
	_ = r.ParseForm()
	f := r.PostForm
	tok, secret, err := p.svc.SCIM.CreateToken(r.Context(), v.caller, v.view.Account.ID,
		scim.NewToken{Name: f.Get("name"), IdentityProvider: f.Get("identity_provider")})
	if err != nil {
		v.view.Form = url.Values{"name": f["name"], "identity_provider": f["identity_provider"]}
		p.formError(r, v, err, "name", "identity_provider")
		p.renderSCIM(w, r, v, statusOf(err), nil, "")
		return
	}
	v.view.Flash = v.view.T["scim_token_created_flash"] + " " + tok.Name
	p.renderSCIM(w, r, v, http.StatusCreated, &tok, secret)
}

// findSCIMToken names the token of the address; one of another account,
// or revoked, is not found.
func (p *Pages) findSCIMToken(v *visit, r *http.Request) (string, error) {
	tokens, err := p.svc.SCIM.Tokens(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(tokens, func(t gatehouse.SCIMToken) bool { return t.ID == r.PathValue("token_id") })
	if i < 0 {
		return "", gatehouse.NotFound("token")
	}
	return tokens[i].Name, nil
}

func (p *Pages) revokeSCIMToken(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, scimMaxForm)
	name, err := p.findSCIMToken(v, r)
	if err == nil {
		err = p.svc.SCIM.RevokeToken(r.Context(), v.caller, v.view.Account.ID, r.PathValue("token_id"))
	}
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderSCIM(w, r, v, statusOf(err), nil, "")
		return
	}
	http.Redirect(w, r, doneURL(scimBase(v, r), "scim_token_revoked_flash", name), http.StatusSeeOther)
}

// createSCIMMapping maps a directory group to what the form's choice gives.
func (p *Pages) createSCIMMapping(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, scimMaxForm)
	_ = r.ParseForm()
	f := r.PostForm
	in := scim.NewMapping{Group: f.Get("group")}
	kind, value, _ := strings.Cut(f.Get("gives"), ":")
	switch kind {
	case "role":
		in.Role = value
	case "level":
		in.Level = gatehouse.Level(value)
	}
	m, err := p.svc.SCIM.CreateMapping(r.Context(), v.caller, v.view.Account.ID, in)
	if err != nil {
		v.view.Form = url.Values{"group": f["group"], "gives": f["gives"]}
		var e *gatehouse.Error
		if errors.As(err, &e) && (e.Field == "role" || e.Field == "level") {
			moved := *e
			moved.Field = "gives"
			err = &moved
		}
		p.formError(r, v, err, "group", "gives")
		p.renderSCIM(w, r, v, statusOf(err), nil, "")
		return
	}
	http.Redirect(w, r, doneURL(scimBase(v, r), "scim_mapping_created_flash", m.GroupName), http.StatusSeeOther)
}

// findSCIMMapping names the group of the mapping of the address.
func (p *Pages) findSCIMMapping(v *visit, r *http.Request) (string, error) {
	mappings, err := p.svc.SCIM.Mappings(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(mappings, func(m gatehouse.SCIMGroupMapping) bool { return m.ID == r.PathValue("mapping_id") })
	if i < 0 {
		return "", gatehouse.NotFound("mapping")
	}
	return mappings[i].GroupName, nil
}

func (p *Pages) deleteSCIMMapping(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, scimMaxForm)
	name, err := p.findSCIMMapping(v, r)
	if err == nil {
		err = p.svc.SCIM.DeleteMapping(r.Context(), v.caller, v.view.Account.ID, r.PathValue("mapping_id"))
	}
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderSCIM(w, r, v, statusOf(err), nil, "")
		return
	}
	http.Redirect(w, r, doneURL(scimBase(v, r), "scim_mapping_deleted_flash", name), http.StatusSeeOther)
}
