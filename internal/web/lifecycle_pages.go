package web

import (
	"net/http"
)

// An account's life in the portal: its integrator's staff suspend and
// restore a client, its administrators delete it after typing its name,
// and an operator restores a deleted one before its purge.

// lifeAction suspends or restores the account and comes back to it.
func (p *Pages) lifeAction(suspend bool) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		var err error
		done := "account_restored_flash"
		if suspend {
			_, err = p.svc.Accounts.SuspendAccount(r.Context(), v.caller, v.view.Account.ID)
			done = "account_suspended_flash"
		} else {
			_, err = p.svc.Accounts.RestoreAccount(r.Context(), v.caller, v.view.Account.ID)
		}
		if err != nil {
			v.view.Error = p.message(r, err)
			p.renderPortal(w, r, statusOf(err), "portal_error.html", v)
			return
		}
		http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID, done, v.view.Account.Name), http.StatusSeeOther)
	}
}

// deleteAccountPage asks for the account's name before deleting it.
func (p *Pages) deleteAccountPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderPortal(w, r, http.StatusOK, "delete_account.html", v)
}

// deleteAccount deletes the account when its name was typed again, and
// goes to its integrator's clients (or, for an operator, stays on the
// deleted account, which they may restore).
func (p *Pages) deleteAccount(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	account, err := p.svc.Accounts.DeleteAccount(r.Context(), v.caller, v.view.Account.ID, r.PostFormValue("confirm_name"))
	if err != nil {
		p.fieldError(r, v, err)
		p.renderPortal(w, r, statusOf(err), "delete_account.html", v)
		return
	}
	to := "/accounts/" + account.IntegratorID + "/clients"
	if v.caller.Principal.Operator {
		to = "/accounts/" + account.ID
	}
	http.Redirect(w, r, doneURL(to, "account_deleted_flash", account.Name), http.StatusSeeOther)
}
