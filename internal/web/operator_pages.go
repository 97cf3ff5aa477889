package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The pages of operators and integrators (R-T1…R-T4, R-L1): integrators,
// their client accounts, and the settings only support may change.

type integratorsData struct {
	Query       string
	Integrators []gatehouse.Account
	Next        string
}

// accountList is the switcher as a page: every account of the person, and
// for operators the integrators with a search box.
func (p *Pages) accountList(w http.ResponseWriter, r *http.Request, v *visit) {
	// A person of one account lands in it.
	if !v.caller.Principal.Operator && len(v.view.Switch) == 1 && r.URL.Query().Get("all") == "" {
		http.Redirect(w, r, "/accounts/"+v.view.Switch[0].ID, http.StatusSeeOther)
		return
	}
	p.renderAccountList(w, r, v, http.StatusOK)
}

func (p *Pages) renderAccountList(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	if v.caller.Principal.Operator {
		q := r.URL.Query()
		data := integratorsData{Query: cutText(strings.TrimSpace(q.Get("q")), 200)}
		page, err := p.svc.Accounts.ListAccounts(r.Context(), v.caller, gatehouse.AccountFilter{Kind: gatehouse.KindIntegrator, Query: data.Query,
			Page: gatehouse.PageRequest{Limit: 50, Cursor: q.Get("cursor")}})
		if err != nil {
			v.view.Error = p.message(r, err)
		}
		data.Integrators, data.Next = page.Items, page.NextCursor
		v.view.Data = data
	}
	p.renderPortal(w, r, status, "accounts.html", v)
}

// createIntegrator adds an integrator account (operators only).
func (p *Pages) createIntegrator(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	account, err := p.svc.Accounts.CreateAccount(r.Context(), v.caller, accounts.NewAccount{Kind: gatehouse.KindIntegrator, Name: r.PostFormValue("name")})
	if err != nil {
		p.fieldError(r, v, err)
		p.renderAccountList(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, "/accounts/"+account.ID+"/clients", http.StatusSeeOther)
}

// createClient adds a client account (one site) under the integrator:
// operators and the integrator's staff.
func (p *Pages) createClient(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	account, err := p.svc.Accounts.CreateAccount(r.Context(), v.caller, accounts.NewAccount{Kind: gatehouse.KindClient, Name: r.PostFormValue("name"),
		Address: r.PostFormValue("address"), IntegratorID: v.view.Account.ID})
	if err != nil {
		p.fieldError(r, v, err)
		p.renderClients(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, "/accounts/"+account.ID, http.StatusSeeOther)
}

func (p *Pages) settingsTab(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderPortal(w, r, http.StatusOK, "settings.html", v)
}

// saveSettings changes the switches only support may change (R-L1, R-RM3).
func (p *Pages) saveSettings(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	patch := accounts.SettingsPatch{}
	max, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("max_client_users")))
	if err != nil {
		v.view.FieldErrors = map[string]string{"max_client_users": v.view.T["whole_number"]}
		p.renderPortal(w, r, http.StatusBadRequest, "settings.html", v)
		return
	}
	remote := r.PostFormValue("client_admins_can_add_remote_monitoring") != ""
	patch.MaxClientUsers, patch.ClientAdminsCanAddRemoteMonitoring = &max, &remote
	if _, err := p.svc.Accounts.UpdateSettings(r.Context(), v.caller, v.view.Account.ID, patch); err != nil {
		p.fieldError(r, v, err)
		p.renderPortal(w, r, statusOf(err), "settings.html", v)
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/settings", "saved_flash", ""), http.StatusSeeOther)
}
