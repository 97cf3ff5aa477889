package web

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
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
}

// applicationsPage lists the registered applications (operators only).
func (p *Pages) applicationsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	clients, err := p.svc.OIDC.Clients(r.Context(), v.caller, "")
	if err != nil {
		p.refused(w, r, v, err)
		return
	}
	v.view.Data = applicationsData{Applications: clients}
	p.renderPortal(w, r, http.StatusOK, "applications.html", v)
}
