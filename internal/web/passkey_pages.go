package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// Passkeys in the portal (R-S6). The browser's WebAuthn calls need script:
// gatehouse.js asks the page's …/options address for the ceremony (a POST
// of the form, answered in JSON), calls navigator.credentials, and submits
// the form with the answer in its hidden "credential" field. Without
// script, or when the browser has no passkey, the form says so at its
// button, and every other way in still works.

// maxCredentialForm bounds a form carrying a browser's passkey answer.
const maxCredentialForm = 64 << 10

func (p *Pages) registerPasskeys(handle func(pattern string, h http.Handler)) {
	handle("POST /login/passkey/options", p.secure(p.csrf.Handler(http.HandlerFunc(p.passkeySignInOptions))))
	handle("POST /login/passkey", p.secure(p.csrf.Handler(http.HandlerFunc(p.passkeySignIn))))
	handle("POST /login/mfa/passkey/options", p.secure(p.csrf.Handler(http.HandlerFunc(p.passkeySecondFactorOptions))))
	handle("POST /login/mfa/passkey", p.secure(p.csrf.Handler(http.HandlerFunc(p.passkeySecondFactor))))
	handle("POST /activate/passkey/options", p.secure(p.csrf.Handler(http.HandlerFunc(p.passkeyActivationOptions))))
	handle("POST /activate/passkey", p.secure(p.csrf.Handler(http.HandlerFunc(p.activateWithPasskey))))
	handle("POST /profile/passkeys/options", p.secure(p.csrf.Handler(p.person(p.passkeyRegistrationOptions))))
	handle("POST /profile/passkeys", p.secure(p.csrf.Handler(p.person(p.addPasskey))))
	handle("GET /profile/passkeys/{passkey_id}/remove", p.secure(p.person(p.confirm("confirm_remove_passkey", "confirm_remove_passkey_loses", "remove_passkey",
		func(*visit, *http.Request) string { return "/profile" }, p.passkeyName))))
	handle("POST /profile/passkeys/{passkey_id}/remove", p.secure(p.csrf.Handler(p.person(p.removePasskey))))
}

// passkeyName names the passkey a confirmation is about ("" if it is not
// the person's).
func (p *Pages) passkeyName(v *visit, r *http.Request) string {
	keys, _ := p.svc.SignIn.Passkeys(r.Context(), v.caller)
	for _, k := range keys {
		if k.ID == r.PathValue("passkey_id") {
			return k.Name
		}
	}
	return ""
}

// ceremonyJSON answers a page's script with a ceremony, or with the
// refusal's message in the page's language.
func (p *Pages) ceremonyJSON(w http.ResponseWriter, r *http.Request, c signin.PasskeyCeremony, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(statusOf(err))
		_ = json.NewEncoder(w).Encode(map[string]string{"error": p.message(r, err)})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ceremony": c.Ceremony, "options": c.Options})
}

func (p *Pages) passkeySignInOptions(w http.ResponseWriter, r *http.Request) {
	c, err := p.svc.SignIn.BeginPasskeySignIn(r.Context())
	p.ceremonyJSON(w, r, c, err)
}

// credential is the browser's answer a form carries; none means the
// browser made none (no script, no passkey, the person cancelled).
func credential(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxCredentialForm)
	raw := r.PostFormValue("credential")
	return []byte(raw), raw != ""
}

func (p *Pages) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	cred, ok := credential(w, r)
	var (
		session *signin.NewSession
		err     error = gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "your browser gave no passkey")
	)
	if ok {
		session, err = p.svc.SignIn.FinishPasskeySignIn(r.Context(), remoteIP(r), "", r.PostFormValue("ceremony"), cred)
	}
	if err != nil {
		view := p.view(r, "", "title")
		view.Error, view.Next = view.T["passkey_refused"], localPath(r.PostFormValue("next"))
		view.Providers, _ = p.svc.SignIn.PlatformIdentityProviders(r.Context())
		p.renderPage(w, r, statusOf(err), "login.html", view)
		return
	}
	p.startPageSession(w, r, session)
}

func (p *Pages) passkeySecondFactorOptions(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := p.svc.SignIn.BeginPasskeySecondFactor(r.Context(), r.PostFormValue("challenge"))
	p.ceremonyJSON(w, r, c, err)
}

func (p *Pages) passkeySecondFactor(w http.ResponseWriter, r *http.Request) {
	cred, ok := credential(w, r)
	var (
		session *signin.NewSession
		err     error = gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "your browser gave no passkey")
	)
	if ok {
		session, err = p.svc.SignIn.CompletePasskeySecondFactor(r.Context(), remoteIP(r), "", r.PostFormValue("challenge"), r.PostFormValue("ceremony"), cred)
	}
	if err != nil {
		// Like a wrong code, a refused passkey used the challenge up.
		view := p.view(r, "", "title")
		view.Error = view.T["passkey_refused"]
		p.renderPage(w, r, statusOf(err), "login.html", view)
		return
	}
	p.startPageSession(w, r, session)
}

func (p *Pages) passkeyActivationOptions(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := p.svc.SignIn.BeginPasskeyActivation(r.Context(), r.PostFormValue("token"))
	p.ceremonyJSON(w, r, c, err)
}

func (p *Pages) activateWithPasskey(w http.ResponseWriter, r *http.Request) {
	cred, ok := credential(w, r)
	token := r.PostFormValue("token")
	var (
		user gatehouse.User
		err  error = gatehouse.Invalid("credential", "your browser gave no passkey")
	)
	if ok {
		user, err = p.svc.SignIn.ActivateWithPasskey(r.Context(), remoteIP(r), "", token, r.PostFormValue("ceremony"), r.PostFormValue("passkey_name"), cred)
	}
	if err != nil {
		user, _ = p.svc.SignIn.CheckActivationLink(r.Context(), token)
	}
	view := p.view(r, user.Language, "activate_title")
	view.Token, view.Username, view.Done = token, user.Username, err == nil
	status := http.StatusOK
	if err != nil {
		status = statusOf(err)
		switch gatehouse.ErrorCode(err) {
		case gatehouse.EINVALID:
			// At the passkey's fields; the link is still good.
			view.PasskeyError = view.T["passkey_not_created"]
			var e *gatehouse.Error
			if errors.As(err, &e) && e.Field == "name" {
				view.PasskeyError = view.T["invalid_passkey_name"]
			}
		case gatehouse.EUNAUTHENTICATED:
			view.PasskeyError = view.T["passkey_not_created"]
		default:
			view.Error, view.Fatal = p.message(r, err), true
		}
	}
	p.renderPage(w, r, status, "activate.html", view)
}

func (p *Pages) passkeyRegistrationOptions(w http.ResponseWriter, r *http.Request, v *visit) {
	c, err := p.svc.SignIn.BeginPasskeyRegistration(r.Context(), v.caller)
	p.ceremonyJSON(w, r, c, err)
}

func (p *Pages) addPasskey(w http.ResponseWriter, r *http.Request, v *visit) {
	cred, ok := credential(w, r)
	var err error = gatehouse.Invalid("credential", "your browser gave no passkey")
	if ok {
		_, err = p.svc.SignIn.FinishPasskeyRegistration(r.Context(), v.caller, r.PostFormValue("ceremony"), r.PostFormValue("passkey_name"), cred)
	}
	switch gatehouse.ErrorCode(err) {
	case "":
		http.Redirect(w, r, doneURL("/profile", "passkey_added", r.PostFormValue("passkey_name")), http.StatusSeeOther)
	case gatehouse.EINVALID, gatehouse.EUNAUTHENTICATED:
		field := "credential"
		var e *gatehouse.Error
		if errors.As(err, &e) && e.Field == "name" {
			field = "passkey_name"
		}
		v.view.FieldErrors = map[string]string{field: v.view.T[map[string]string{"credential": "passkey_not_created", "passkey_name": "invalid_passkey_name"}[field]]}
		data := p.profileView(r, v)
		data.PasskeyName = r.PostFormValue("passkey_name")
		p.renderPortal(w, r, statusOf(err), "profile.html", v)
	default:
		p.profileRefused(w, r, v, err)
	}
}

func (p *Pages) removePasskey(w http.ResponseWriter, r *http.Request, v *visit) {
	name := p.passkeyName(v, r)
	if err := p.svc.SignIn.RemovePasskey(r.Context(), v.caller, r.PathValue("passkey_id")); err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL("/profile", "passkey_removed", name), http.StatusSeeOther)
}

// hasPasskeyMethod tells whether a sign-in's challenge may be answered
// with a passkey.
func hasPasskeyMethod(methods []string) bool { return slices.Contains(methods, gatehouse.MFAPasskey) }
