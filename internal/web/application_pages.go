package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/oidcprovider"
)

// The platform's applications signed in through Gatehouse (its OpenID
// Provider, docs/openid-provider.md): the ones a person is connected to,
// on their profile, each disconnected after a confirmation; and for
// operators the list of registered applications.

func (p *Pages) registerApplications(handle func(pattern string, h http.Handler)) {
	handle("GET /profile/applications/{client_id}/disconnect", p.secure(p.person(p.confirmFound("confirm_disconnect",
		"confirm_disconnect_loses", "disconnect", backTo("/profile"), p.findConnection))))
	handle("POST /profile/applications/{client_id}/disconnect", p.secure(p.csrf.Handler(p.person(p.disconnect))))
	handle("GET /platform/applications", p.secure(p.platform("applications", p.applicationsPage)))
	handle("POST /platform/applications", p.secure(p.csrf.Handler(p.platform("applications", p.createApplication))))
	handle("GET /platform/applications/{client_id}/delete", p.secure(p.platform("applications",
		p.confirmFound("confirm_delete_application", "confirm_delete_application_loses", "delete_application", applicationsBase, p.findApplication))))
	handle("POST /platform/applications/{client_id}/delete", p.secure(p.csrf.Handler(p.platform("applications", p.deleteApplication))))
	handle("GET /accounts/{id}/applications", p.secure(p.account("applications", p.applicationsPage)))
	handle("POST /accounts/{id}/applications", p.secure(p.csrf.Handler(p.account("applications", p.createApplication))))
	handle("GET /accounts/{id}/applications/{client_id}/delete", p.secure(p.account("applications",
		p.confirmFound("confirm_delete_application", "confirm_delete_application_loses", "delete_application", applicationsBase, p.findApplication))))
	handle("POST /accounts/{id}/applications/{client_id}/delete", p.secure(p.csrf.Handler(p.account("applications", p.deleteApplication))))
}

// findConnection names an application the person is connected to.
func (p *Pages) findConnection(v *visit, r *http.Request) (string, error) {
	connections, err := p.svc.OIDC.MyConnections(r.Context(), v.caller)
	if err != nil {
		return "", err
	}
	for _, c := range connections {
		if c.ClientID == r.PathValue("client_id") {
			return c.Name, nil
		}
	}
	return "", gatehouse.NotFound("application")
}

// disconnect revokes every token one application holds for the person.
func (p *Pages) disconnect(w http.ResponseWriter, r *http.Request, v *visit) {
	name, err := p.findConnection(v, r)
	if err == nil {
		err = p.svc.OIDC.Disconnect(r.Context(), v.caller, r.PathValue("client_id"))
	}
	if err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL("/profile", "disconnected_flash", name), http.StatusSeeOther)
}

type applicationsData struct {
	Applications []gatehouse.OIDCClient
	// Base is the list's address: the platform's page (operators: every
	// application; new ones are the platform's) or an integrator's tab
	// (its own applications).
	Base     string
	Platform bool
	// Created is the application just registered, with its secret, shown
	// on this answer only.
	Created *gatehouse.OIDCClient
	Secret  string
}

// applicationsBase is the address of the applications' list the visit is
// on.
func applicationsBase(v *visit, _ *http.Request) string {
	if v.view.Account.ID != "" {
		return "/accounts/" + v.view.Account.ID + "/applications"
	}
	return "/platform/applications"
}

// applicationsPage lists the applications the person manages from this
// page and offers to register one.
func (p *Pages) applicationsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderApplications(w, r, v, http.StatusOK, nil, "")
}

func (p *Pages) renderApplications(w http.ResponseWriter, r *http.Request, v *visit, status int, created *gatehouse.OIDCClient, secret string) {
	clients, err := p.svc.OIDC.Clients(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	v.view.Data = applicationsData{Applications: clients, Base: applicationsBase(v, r), Platform: v.view.Account.ID == "",
		Created: created, Secret: secret}
	p.renderPortal(w, r, status, "applications.html", v)
}

// createApplication registers an application: the platform's from the
// platform's page, the integrator's from its tab. Its client id, and a
// confidential one's secret, are shown on the answer (only the secret's
// hash is kept). A refused form comes back with the error at its field.
func (p *Pages) createApplication(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	_ = r.ParseForm()
	f := r.PostForm
	kind := f.Get("type")
	var uris []string
	for _, line := range strings.Split(f.Get("redirect_uris"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			uris = append(uris, line)
		}
	}
	in := oidcprovider.NewClient{Name: f.Get("name"), RedirectURIs: uris, Confidential: kind == "confidential",
		Service: kind == "service", Device: kind == "device", AccountID: f.Get("account_id"),
		SigningAlgorithm: f.Get("signing_algorithm"), OwnerAccountID: v.view.Account.ID}
	var err error
	if kind != "public" && kind != "confidential" && kind != "service" && (kind != "device" || v.view.Account.ID != "") {
		err = gatehouse.Invalid("type", "choose the kind of application")
	} else if kind != "service" && in.AccountID != "" {
		in.AccountID = ""
	}
	var (
		created gatehouse.OIDCClient
		secret  string
	)
	if err == nil {
		created, secret, err = p.svc.OIDC.CreateClient(r.Context(), v.caller, in)
	}
	if err != nil {
		v.view.Form = url.Values{"name": f["name"], "type": f["type"], "redirect_uris": f["redirect_uris"], "account_id": f["account_id"],
			"signing_algorithm": f["signing_algorithm"]}
		p.formError(r, v, err, "name", "type", "redirect_uris", "account_id", "id_token_signed_response_alg")
		p.renderApplications(w, r, v, statusOf(err), nil, "")
		return
	}
	v.view.Flash = v.view.T["application_created_flash"] + " " + created.Name
	p.renderApplications(w, r, v, http.StatusCreated, &created, secret)
}

// findApplication names the application of the address among those the
// person manages from this page.
func (p *Pages) findApplication(v *visit, r *http.Request) (string, error) {
	clients, err := p.svc.OIDC.Clients(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		return "", err
	}
	for _, c := range clients {
		if c.ID == r.PathValue("client_id") {
			return c.Name, nil
		}
	}
	return "", gatehouse.NotFound("application")
}

// deleteApplication removes an application and revokes its tokens.
func (p *Pages) deleteApplication(w http.ResponseWriter, r *http.Request, v *visit) {
	name, err := p.findApplication(v, r)
	if err == nil {
		err = p.svc.OIDC.DeleteClient(r.Context(), v.caller, r.PathValue("client_id"))
	}
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderApplications(w, r, v, statusOf(err), nil, "")
		return
	}
	http.Redirect(w, r, doneURL(applicationsBase(v, r), "application_deleted_flash", name), http.StatusSeeOther)
}
