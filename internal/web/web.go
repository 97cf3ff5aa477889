// Package web serves Gatehouse's pages for people (docs/portal.md):
// server-rendered HTML from templates embedded in the binary, in the
// person's language, with no inline script. Forms are protected against
// cross-site requests by net/http's CrossOriginProtection.
package web

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/httperr"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/signin"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date":         func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"countryField": newCountryField,
}).ParseFS(templateFiles, "templates/*.html"))

// Pages serves the web pages.
type Pages struct {
	svc           *service.Services
	log           *slog.Logger
	csrf          *http.CrossOriginProtection
	secureCookies bool
}

// New returns the pages of svc; cookies are Secure when the public URL is
// https.
func New(svc *service.Services, log *slog.Logger, publicURL string) *Pages {
	return &Pages{svc: svc, log: log, csrf: http.NewCrossOriginProtection(), secureCookies: strings.HasPrefix(publicURL, "https://")}
}

// Register adds the pages to a router through handle.
func (p *Pages) Register(handle func(pattern string, h http.Handler)) {
	handle("GET /activate", p.secure(http.HandlerFunc(p.activatePage)))
	handle("POST /activate", p.secure(p.csrf.Handler(http.HandlerFunc(p.activateSubmit))))
	handle("GET /confirm-username", p.secure(http.HandlerFunc(p.confirmUsernamePage)))
	handle("POST /confirm-username", p.secure(p.csrf.Handler(http.HandlerFunc(p.confirmUsernameSubmit))))
	handle("GET /oidc/{provider_id}/sign-in", p.secure(http.HandlerFunc(p.providerSignIn)))
	handle("GET /oidc/callback", p.secure(http.HandlerFunc(p.providerCallback)))
	handle("GET /forgot-password", p.secure(http.HandlerFunc(p.forgotPage)))
	handle("POST /forgot-password", p.secure(p.csrf.Handler(http.HandlerFunc(p.forgotSubmit))))
	handle("GET /reset-password", p.secure(http.HandlerFunc(p.resetPage)))
	handle("POST /reset-password", p.secure(p.csrf.Handler(http.HandlerFunc(p.resetSubmit))))
	handle("GET /login", p.secure(http.HandlerFunc(p.loginPage)))
	handle("POST /login", p.secure(p.csrf.Handler(http.HandlerFunc(p.loginSubmit))))
	handle("POST /login/mfa", p.secure(p.csrf.Handler(http.HandlerFunc(p.mfaSubmit))))
	handle("POST /login/mfa/resend", p.secure(p.csrf.Handler(http.HandlerFunc(p.resendSubmit))))
	handle("POST /login/mfa/sms", p.secure(p.csrf.Handler(http.HandlerFunc(p.enrollBySMSSubmit))))
	handle("GET /static/", p.static())
	handle("GET /brand/logo/{file}", http.HandlerFunc(p.logo))
	handle("GET /accounts", p.secure(p.person(p.accountList)))
	handle("GET /switch", p.secure(http.HandlerFunc(p.switchAccount)))
	handle("GET /profile", p.secure(p.person(p.profilePage)))
	handle("POST /profile", p.secure(p.csrf.Handler(p.person(p.saveProfile))))
	handle("GET /profile/photo", p.secure(p.person(p.profilePhoto)))
	handle("POST /profile/mfa/totp", p.secure(p.csrf.Handler(p.person(p.startFactor(false)))))
	handle("POST /profile/mfa/sms", p.secure(p.csrf.Handler(p.person(p.startFactor(true)))))
	handle("POST /profile/mfa/confirm", p.secure(p.csrf.Handler(p.person(p.confirmFactor))))
	handle("POST /profile/mfa/off", p.secure(p.csrf.Handler(p.person(p.factorOff))))
	handle("POST /profile/password", p.secure(p.csrf.Handler(p.person(p.changePassword))))
	handle("POST /profile/sessions/{session_id}/end", p.secure(p.csrf.Handler(p.person(p.endSession))))
	handle("POST /profile/recovery-codes", p.secure(p.csrf.Handler(p.person(p.recoveryCodes))))
	handle("POST /profile/notifications/{account_id}/{membership_id}", p.secure(p.csrf.Handler(p.person(p.saveNotifications))))
	handle("GET /accounts/{id}", p.secure(p.account("users", p.usersTab)))
	handle("GET /accounts/{id}/users/new", p.secure(p.account("users", p.newUserPage)))
	handle("POST /accounts/{id}/users", p.secure(p.csrf.Handler(p.account("users", p.addUser))))
	handle("GET /accounts/{id}/clients", p.secure(p.account("clients", p.clientsTab)))
	handle("POST /accounts/{id}/clients", p.secure(p.csrf.Handler(p.account("clients", p.createClient))))
	handle("POST /integrators", p.secure(p.csrf.Handler(p.person(p.createIntegrator))))
	handle("POST /accounts/{id}/suspend", p.secure(p.csrf.Handler(p.account("users", p.lifeAction(true)))))
	handle("POST /accounts/{id}/restore", p.secure(p.csrf.Handler(p.account("users", p.lifeAction(false)))))
	handle("GET /accounts/{id}/delete", p.secure(p.account("users", p.deleteAccountPage)))
	handle("POST /accounts/{id}/delete", p.secure(p.csrf.Handler(p.account("users", p.deleteAccount))))
	handle("GET /accounts/{id}/settings", p.secure(p.account("settings", p.settingsTab)))
	handle("POST /accounts/{id}/settings", p.secure(p.csrf.Handler(p.account("settings", p.saveSettings))))
	handle("GET /accounts/{id}/invitations", p.secure(p.account("invitations", p.invitationsTab)))
	handle("POST /accounts/{id}/invitations/selection", p.secure(p.csrf.Handler(p.account("invitations", p.selectionAction("invitations")))))
	handle("POST /accounts/{id}/users/selection", p.secure(p.csrf.Handler(p.account("users", p.selectionAction("users")))))
	handle("GET /accounts/{id}/invitations/{invitation_id}", p.secure(p.account("invitations", p.invitationPage)))
	handle("POST /accounts/{id}/invitations/{invitation_id}/resend", p.secure(p.csrf.Handler(p.account("invitations", p.invitationAction(true)))))
	handle("POST /accounts/{id}/invitations/{invitation_id}/cancel", p.secure(p.csrf.Handler(p.account("invitations", p.invitationAction(false)))))
	handle("GET /accounts/{id}/bulk", p.secure(p.account("bulk", p.bulkPage)))
	handle("POST /accounts/{id}/bulk", p.secure(p.csrf.Handler(p.account("bulk", p.bulkUpload))))
	handle("GET /accounts/{id}/bulk/template.csv", p.secure(p.account("bulk", p.bulkTemplate)))
	handle("GET /accounts/{id}/bulk/{preview_id}", p.secure(p.account("bulk", p.bulkPreviewPage)))
	handle("POST /accounts/{id}/bulk/{preview_id}/confirm", p.secure(p.csrf.Handler(p.account("bulk", p.bulkConfirm))))
	handle("GET /accounts/{id}/bulk/{preview_id}/status", p.secure(p.account("bulk", p.bulkProgress)))
	handle("GET /accounts/{id}/bulk/{preview_id}/result.csv", p.secure(p.account("bulk", p.bulkResult)))
	handle("GET /accounts/{id}/roles", p.secure(p.account("roles", p.rolesTab)))
	handle("GET /accounts/{id}/roles/{role_id}", p.secure(p.account("roles", p.rolesTab)))
	handle("POST /accounts/{id}/roles", p.secure(p.csrf.Handler(p.account("roles", p.saveRole))))
	handle("POST /accounts/{id}/roles/{role_id}", p.secure(p.csrf.Handler(p.account("roles", p.saveRole))))
	handle("POST /accounts/{id}/roles/{role_id}/delete", p.secure(p.csrf.Handler(p.account("roles", p.deleteRole))))
	handle("GET /accounts/{id}/folders", p.secure(p.account("folders", p.foldersTab)))
	handle("POST /accounts/{id}/folders", p.secure(p.csrf.Handler(p.account("folders", p.createFolder))))
	handle("GET /accounts/{id}/folders/{folder_id}", p.secure(p.account("folders", p.folderPage)))
	handle("POST /accounts/{id}/folders/{folder_id}/delete", p.secure(p.csrf.Handler(p.account("folders", p.deleteFolder))))
	handle("POST /accounts/{id}/folders/{folder_id}/grants", p.secure(p.csrf.Handler(p.account("folders", p.addGrant))))
	handle("POST /accounts/{id}/folders/{folder_id}/grants/{grant_id}/delete", p.secure(p.csrf.Handler(p.account("folders", p.deleteGrant))))
	handle("GET /accounts/{id}/groups", p.secure(p.account("groups", p.groupsTab)))
	handle("POST /accounts/{id}/groups", p.secure(p.csrf.Handler(p.account("groups", p.createGroup))))
	handle("GET /accounts/{id}/groups/{group_id}", p.secure(p.account("groups", p.groupPage)))
	handle("POST /accounts/{id}/groups/{group_id}/delete", p.secure(p.csrf.Handler(p.account("groups", p.deleteGroup))))
	handle("POST /accounts/{id}/groups/{group_id}/members", p.secure(p.csrf.Handler(p.account("groups", p.groupMember(true)))))
	handle("POST /accounts/{id}/groups/{group_id}/members/{user_id}/remove", p.secure(p.csrf.Handler(p.account("groups", p.groupMember(false)))))
	handle("GET /accounts/{id}/audit", p.secure(p.account("audit", p.auditTab)))
	handle("GET /accounts/{id}/api-tokens", p.secure(p.account("api_tokens", p.tokensTab)))
	handle("POST /accounts/{id}/api-tokens", p.secure(p.csrf.Handler(p.account("api_tokens", p.createToken))))
	handle("POST /accounts/{id}/api-tokens/{token_id}/revoke", p.secure(p.csrf.Handler(p.account("api_tokens", p.revokeToken))))
	handle("GET /accounts/{id}/audit.csv", p.secure(p.account("audit", p.auditCSV)))
	// Identity providers, on an integrator's tab and for the whole platform;
	// the platform's check tokens and operators (admin_pages.go).
	handle("GET /accounts/{id}/identity-providers", p.secure(p.account("identity_providers", p.providersPage)))
	handle("POST /accounts/{id}/identity-providers", p.secure(p.csrf.Handler(p.account("identity_providers", p.createProvider))))
	handle("POST /accounts/{id}/identity-providers/{provider_id}/delete", p.secure(p.csrf.Handler(p.account("identity_providers", p.deleteProvider))))
	handle("GET /platform/identity-providers", p.secure(p.platform("identity_providers", p.providersPage)))
	handle("POST /platform/identity-providers", p.secure(p.csrf.Handler(p.platform("identity_providers", p.createProvider))))
	handle("POST /platform/identity-providers/{provider_id}/delete", p.secure(p.csrf.Handler(p.platform("identity_providers", p.deleteProvider))))
	handle("GET /platform/check-tokens", p.secure(p.platform("check_tokens", p.checkTokensPage)))
	handle("POST /platform/check-tokens", p.secure(p.csrf.Handler(p.platform("check_tokens", p.createCheckToken))))
	handle("POST /platform/check-tokens/{token_id}/revoke", p.secure(p.csrf.Handler(p.platform("check_tokens", p.revokeCheckToken))))
	handle("GET /platform/operators", p.secure(p.platform("operators", p.operatorsPage)))
	handle("POST /platform/operators", p.secure(p.csrf.Handler(p.platform("operators", p.addOperator))))
	handle("POST /platform/operators/{user_id}/remove", p.secure(p.csrf.Handler(p.platform("operators", p.removeOperator))))
	handle("GET /accounts/{id}/remote-monitoring", p.secure(p.account("remote", p.remoteTab)))
	handle("POST /accounts/{id}/remote-monitoring", p.secure(p.csrf.Handler(p.account("remote", p.createRemote))))
	handle("GET /accounts/{id}/remote-monitoring/connection-details", p.secure(p.account("remote", p.remoteDetails)))
	handle("POST /accounts/{id}/remote-monitoring/credentials", p.secure(p.csrf.Handler(p.account("remote", p.regenerateRemote))))
	// One person's page in an account, and the actions on them.
	handle("GET /accounts/{id}/users/{membership_id}", p.secure(p.account("users", p.memberPage)))
	handle("POST /accounts/{id}/users/{membership_id}", p.secure(p.csrf.Handler(p.account("users", p.saveMember))))
	handle("POST /accounts/{id}/users/{membership_id}/expiry", p.secure(p.csrf.Handler(p.account("users", p.saveMemberExpiry))))
	handle("POST /accounts/{id}/users/{membership_id}/remove", p.secure(p.csrf.Handler(p.account("users", p.memberAction("remove")))))
	handle("POST /accounts/{id}/users/{membership_id}/end-sessions", p.secure(p.csrf.Handler(p.account("users", p.memberAction("end_sessions")))))
	handle("POST /accounts/{id}/users/{membership_id}/unlock", p.secure(p.csrf.Handler(p.account("users", p.memberAction("unlock")))))
	handle("GET /accounts/{id}/users/{membership_id}/photo", p.secure(p.account("users", p.memberPhoto)))
	handle("POST /accounts/{id}/users/{membership_id}/reset-mfa", p.secure(p.csrf.Handler(p.account("users", p.memberAction("reset_mfa")))))

	// The GET of every destructive action's address asks for confirmation,
	// saying what will be lost, and posts to the same address.
	member := func(v *visit, r *http.Request) string {
		return "/accounts/" + v.view.Account.ID + "/users/" + r.PathValue("membership_id")
	}
	in := func(path string) func(v *visit, r *http.Request) string {
		return func(v *visit, r *http.Request) string { return "/accounts/" + v.view.Account.ID + path }
	}
	folder := func(v *visit, r *http.Request) string {
		return "/accounts/" + v.view.Account.ID + "/folders/" + r.PathValue("folder_id")
	}
	group := func(v *visit, r *http.Request) string {
		return "/accounts/" + v.view.Account.ID + "/groups/" + r.PathValue("group_id")
	}
	accountName := func(v *visit, _ *http.Request) string { return v.view.Account.Name }
	memberName := func(v *visit, r *http.Request) string {
		m, err := p.svc.People.Member(r.Context(), v.caller, v.view.Account.ID, r.PathValue("membership_id"))
		if err != nil {
			return ""
		}
		return m.Username
	}
	confirmations := []struct {
		pattern, tab, question, consequence, button string
		back, what                                  func(v *visit, r *http.Request) string
	}{
		{"/accounts/{id}/users/{membership_id}/remove", "users", "confirm_remove_member", "confirm_remove_member_loses", "remove_member", member, memberName},
		{"/accounts/{id}/users/{membership_id}/end-sessions", "users", "confirm_end_sessions", "confirm_end_sessions_loses", "end_sessions", member, memberName},
		{"/accounts/{id}/users/{membership_id}/reset-mfa", "users", "confirm_reset_mfa", "confirm_reset_mfa_loses", "reset_mfa", member, memberName},
		{"/accounts/{id}/invitations/{invitation_id}/cancel", "invitations", "confirm_cancel_invitation", "confirm_cancel_invitation_loses", "yes_cancel_invitation", in("/invitations"), nil},
		{"/accounts/{id}/remote-monitoring/credentials", "remote", "confirm_regenerate", "confirm_regenerate_loses", "regenerate", in("/remote-monitoring"), nil},
		{"/accounts/{id}/folders/{folder_id}/delete", "folders", "confirm_delete_folder", "confirm_delete_folder_loses", "delete_folder", folder, nil},
		{"/accounts/{id}/folders/{folder_id}/grants/{grant_id}/delete", "folders", "confirm_delete_grant", "confirm_delete_grant_loses", "delete", folder, nil},
		{"/accounts/{id}/groups/{group_id}/delete", "groups", "confirm_delete_group", "confirm_delete_group_loses", "delete_group", group, nil},
		{"/accounts/{id}/groups/{group_id}/members/{user_id}/remove", "groups", "confirm_remove_from_group", "confirm_remove_from_group_loses", "remove", group, nil},
		{"/accounts/{id}/api-tokens/{token_id}/revoke", "api_tokens", "confirm_revoke_token", "confirm_revoke_token_loses", "revoke", in("/api-tokens"), nil},
		{"/accounts/{id}/roles/{role_id}/delete", "roles", "confirm_delete_role", "confirm_delete_role_loses", "delete", in("/roles"), nil},
		{"/accounts/{id}/suspend", "users", "confirm_suspend_account", "confirm_suspend_account_loses", "suspend_account", in(""), accountName},
	}
	for _, c := range confirmations {
		handle("GET "+c.pattern, p.secure(p.account(c.tab, p.confirm(c.question, c.consequence, c.button, c.back, c.what))))
	}
	// These name what is lost from a list only those who may act can read,
	// so the question itself is refused to everyone else.
	handle("GET /accounts/{id}/identity-providers/{provider_id}/delete", p.secure(p.account("identity_providers",
		p.confirmFound("confirm_delete_provider", "confirm_delete_provider_loses", "delete_provider", providersBase, p.findProvider))))
	handle("GET /platform/identity-providers/{provider_id}/delete", p.secure(p.platform("identity_providers",
		p.confirmFound("confirm_delete_provider", "confirm_delete_provider_loses", "delete_provider", providersBase, p.findProvider))))
	handle("GET /platform/check-tokens/{token_id}/revoke", p.secure(p.platform("check_tokens",
		p.confirmFound("confirm_revoke_check_token", "confirm_revoke_check_token_loses", "revoke", backTo("/platform/check-tokens"), p.findCheckToken))))
	handle("GET /platform/operators/{user_id}/remove", p.secure(p.platform("operators",
		p.confirmFound("confirm_remove_operator", "confirm_remove_operator_loses", "remove_operator", backTo("/platform/operators"), p.findOperator))))
	handle("GET /profile/mfa/off", p.secure(p.person(p.confirm("confirm_mfa_off", "confirm_mfa_off_loses", "mfa_off",
		func(*visit, *http.Request) string { return "/profile" }, nil))))
	handle("GET /profile/sessions/{session_id}/end", p.secure(p.person(p.confirm("confirm_end_session", "confirm_end_session_loses", "end_session",
		func(*visit, *http.Request) string { return "/profile" }, nil))))
	handle("POST /logout", p.secure(p.csrf.Handler(http.HandlerFunc(p.logout))))
	p.registerPrivacy(handle)
	p.registerApplications(handle)
	p.registerWebhooks(handle)
	p.registerSCIM(handle)
	p.registerPasskeys(handle)
	p.registerBranding(handle)
}

// secure sets the headers every page carries: no inline script or framing,
// no caching of pages that hold secrets, no referrer that would leak a link.
func (p *Pages) secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// static serves the portal's style sheet and script from the binary.
func (p *Pages) static() http.Handler {
	files := http.FileServerFS(staticFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// now is the service's clock, so pages judge expiry as the API does.
func (p *Pages) now() time.Time { return p.svc.Now() }

// language picks the page language: the identity's if known, else the
// browser's first supported one, else English.
type languageKey struct{}

// pageLanguage is the language of the page answering r: the signed-in
// person's, else the browser's.
func pageLanguage(r *http.Request) string {
	if lang, ok := r.Context().Value(languageKey{}).(string); ok {
		return lang
	}
	return language(r, "")
}

func language(r *http.Request, userLang string) string {
	if _, ok := pageTexts[userLang]; ok {
		return userLang
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if _, ok := pageTexts[base]; ok {
			return base
		}
	}
	return "en"
}

// activatePage shows the form. It checks the link but consumes nothing:
// mail scanners follow links with GET.
func (p *Pages) activatePage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	user, err := p.svc.SignIn.CheckActivationLink(r.Context(), token)
	if err == nil && user.IdentityProviderID != "" {
		// People of an identity provider activate by signing in there
		// (R-U5, R-M3): the link leads to the provider.
		to, err := p.svc.SignIn.StartProviderSignIn(r.Context(), "", token)
		if err == nil {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		view := p.view(r, user.Language, "activate_title")
		view.Error, view.Fatal = p.message(r, err), true
		p.renderPage(w, r, statusOf(err), "activate.html", view)
		return
	}
	view := p.view(r, user.Language, "activate_title")
	view.Token, view.Username = token, user.Username
	status := http.StatusOK
	if err != nil {
		view.Error, view.Fatal, status = p.message(r, err), true, statusOf(err)
	}
	p.renderPage(w, r, status, "activate.html", view)
}

func (p *Pages) activateSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	token, pw := r.PostFormValue("token"), r.PostFormValue("password")
	user, err := p.svc.SignIn.Activate(r.Context(), remoteIP(r), "", token, pw)
	if err != nil {
		user, _ = p.svc.SignIn.CheckActivationLink(r.Context(), token)
	}
	view := p.view(r, user.Language, "activate_title")
	view.Token, view.Username, view.Done = token, user.Username, err == nil
	status := http.StatusOK
	if err != nil {
		// A refused password keeps the form; a dead link does not.
		view.Error, view.Fatal, status = p.message(r, err), gatehouse.ErrorCode(err) != gatehouse.EINVALID, statusOf(err)
	}
	p.renderPage(w, r, status, "activate.html", view)
}

// forgotPage asks for the username to send a reset link to.
func (p *Pages) forgotPage(w http.ResponseWriter, r *http.Request) {
	p.renderPage(w, r, http.StatusOK, "forgot.html", p.view(r, "", "forgot_title"))
}

// forgotSubmit answers the same whether or not the username exists.
func (p *Pages) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	view := p.view(r, "", "forgot_title")
	if err := p.svc.SignIn.RequestPasswordReset(r.Context(), remoteIP(r), "", r.PostFormValue("username")); err != nil {
		view.Error = p.message(r, err)
		p.renderPage(w, r, statusOf(err), "forgot.html", view)
		return
	}
	view.Done = true
	p.renderPage(w, r, http.StatusOK, "forgot.html", view)
}

// resetPage shows the new-password form of a reset link; a GET uses
// nothing (mail scanners follow links).
func (p *Pages) resetPage(w http.ResponseWriter, r *http.Request) {
	view := p.view(r, "", "reset_title")
	view.Token = r.URL.Query().Get("token")
	p.renderPage(w, r, http.StatusOK, "reset.html", view)
}

func (p *Pages) resetSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	user, err := p.svc.SignIn.ResetPassword(r.Context(), remoteIP(r), "", r.PostFormValue("token"), r.PostFormValue("password"))
	view := p.view(r, user.Language, "reset_title")
	view.Token, view.Done = r.PostFormValue("token"), err == nil
	status := http.StatusOK
	if err != nil {
		// A refused password keeps the form; a dead link does not.
		view.Error, view.Fatal, status = p.message(r, err), gatehouse.ErrorCode(err) != gatehouse.EINVALID, statusOf(err)
	}
	p.renderPage(w, r, status, "reset.html", view)
}

// providerSignIn sends the browser to an identity provider to sign in.
func (p *Pages) providerSignIn(w http.ResponseWriter, r *http.Request) {
	to, err := p.svc.SignIn.StartProviderSignIn(r.Context(), r.PathValue("provider_id"), "")
	if err != nil {
		view := p.view(r, "", "title")
		view.Error = p.message(r, err)
		p.renderPage(w, r, statusOf(err), "login.html", view)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// providerCallback is where the provider sends the browser back: a page
// session, the second step, or the reason it failed.
func (p *Pages) providerCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var (
		res signin.ProviderSignIn
		err error
	)
	if q.Get("error") != "" {
		err = gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "the identity provider refused the sign-in (%s)", cutText(q.Get("error"), 64))
	} else {
		res, err = p.svc.SignIn.FinishProviderSignIn(r.Context(), remoteIP(r), "", q.Get("state"), q.Get("code"))
	}
	switch {
	case err != nil:
		view := p.view(r, "", "title")
		view.Error = p.message(r, err)
		p.renderPage(w, r, statusOf(err), "login.html", view)
	case res.Session != nil:
		p.startPageSession(w, r, res.Session)
	default:
		view := p.view(r, res.User.Language, "mfa_title")
		view.Enroll, view.SMS, view.Challenge, view.Secret, view.URI = res.Enroll, res.SMSSent, res.Challenge, res.TOTPSecret, res.OTPAuthURI
		view.QR = qrDataURL(res.OTPAuthURI)
		view.Passkey, view.PasskeyOnly = hasPasskeyMethod(res.Methods), len(res.Methods) > 0 && res.Methods[0] == gatehouse.MFAPasskey
		p.renderPage(w, r, http.StatusOK, "mfa.html", view)
	}
}

// cutText keeps at most n bytes of a text from outside, on a rune boundary.
func cutText(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// confirmUsernamePage asks for a click before the new username is taken:
// mail scanners follow links with GET, and must not confirm for the person.
func (p *Pages) confirmUsernamePage(w http.ResponseWriter, r *http.Request) {
	view := p.view(r, "", "confirm_username_title")
	view.Token = r.URL.Query().Get("token")
	p.renderPage(w, r, http.StatusOK, "confirm_username.html", view)
}

func (p *Pages) confirmUsernameSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	user, err := p.svc.People.ConfirmUsernameChange(r.Context(), remoteIP(r), "", r.PostFormValue("token"))
	view := p.view(r, user.Language, "confirm_username_title")
	view.Username, view.Done = user.Username, err == nil
	status := http.StatusOK
	if err != nil {
		view.Error, view.Fatal, status = p.message(r, err), true, statusOf(err)
	}
	p.renderPage(w, r, status, "confirm_username.html", view)
}

// message is what a person is told of an error; internal errors are logged
// and told nothing more than that something went wrong.
func (p *Pages) message(r *http.Request, err error) string {
	var e *gatehouse.Error
	if errors.As(err, &e) && e.Code != gatehouse.EINTERNAL {
		// The use cases explain in English; a page in another language says
		// it in its own words where it has them.
		if lang := pageLanguage(r); lang != "en" {
			if text, ok := portalTexts[lang]["error_"+e.Code]; ok {
				return text
			}
			if text, ok := pageTexts[lang]["error_"+e.Code]; ok {
				return text
			}
		}
		return e.Message
	}
	p.log.ErrorContext(r.Context(), "page error", slog.String("path", r.URL.Path), slog.Any("error", err))
	return "Something went wrong. Please try again."
}

// statusOf is the status of a refusal: the API's, from the one table.
func statusOf(err error) int { return httperr.StatusOf(err) }

func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = strings.Trim(host[:i], "[]")
	}
	return host
}
