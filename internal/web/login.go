package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// sessionCookie carries a page session. It is HttpOnly and SameSite=Lax,
// Secure when the public URL is https; the API never reads it (it takes
// bearer tokens only), so cookies cannot be used against the API.
const sessionCookie = "gatehouse_session"

var pageTexts = map[string]map[string]string{
	"en": {
		"title": "Sign in", "username": "Username (e-mail)", "password": "Password", "sign_in": "Sign in",
		"mfa_title": "Second step", "wrong_code_try_again": "That code is not the one your app shows now. The key is the same: type the current code again.", "mfa_intro": "Enter the 6-digit code from your authenticator app.",
		"mfa_sms_intro": "We sent a 6-digit code by SMS to your phone. Enter it here.", "resend_code": "Send a new code",
		"recovery_hint": "Lost your phone? Enter one of your recovery codes instead.",
		"enroll_intro":  "Your role requires a second step at sign-in. Add this key to an authenticator app (such as FreeOTP, Google Authenticator or 1Password), then enter the code it shows.",
		"enroll_key":    "Key:", "enroll_link": "Open in an authenticator app on this device", "code": "Code", "verify": "Verify",
		"accounts_title": "Your accounts", "signed_in_as": "Signed in as", "no_accounts": "You do not belong to any account yet.",
		"or_sign_in_with": "Or sign in with:",
		"sign_out":        "Sign out", "integrator": "integrator", "client": "site",
		"activate_title": "Activate your account", "activate_intro": "Choose the password for", "new_password": "New password",
		"password_hint": "At least 12 characters. A few unrelated words make a strong password.", "activate": "Activate",
		"activate_done":          "Your account is active. You can now sign in.",
		"confirm_username_title": "Confirm your new username", "confirm_username_intro": "Confirm that you want to sign in with this e-mail address from now on.",
		"confirm": "Confirm", "confirm_username_done": "Done. From now on, sign in as",
	},
	"fr": {
		"title": "Connexion", "username": "Identifiant (e-mail)", "password": "Mot de passe", "sign_in": "Se connecter",
		"mfa_title": "Deuxième étape", "wrong_code_try_again": "Ce code n'est pas celui qu'affiche votre application. La clé est la même : saisissez à nouveau le code actuel.", "mfa_intro": "Saisissez le code à 6 chiffres de votre application d'authentification.",
		"mfa_sms_intro": "Nous vous avons envoyé un code à 6 chiffres par SMS. Saisissez-le ici.", "resend_code": "Envoyer un nouveau code",
		"recovery_hint": "Téléphone perdu ? Saisissez plutôt l'un de vos codes de secours.",
		"enroll_intro":  "Votre rôle exige une deuxième étape à la connexion. Ajoutez cette clé à une application d'authentification (FreeOTP, Google Authenticator, 1Password…), puis saisissez le code affiché.",
		"enroll_key":    "Clé :", "enroll_link": "Ouvrir dans une application d'authentification sur cet appareil", "code": "Code", "verify": "Vérifier",
		"accounts_title": "Vos comptes", "signed_in_as": "Connecté en tant que", "no_accounts": "Vous n'appartenez encore à aucun compte.",
		"or_sign_in_with": "Ou connectez-vous avec :",
		"sign_out":        "Se déconnecter", "integrator": "intégrateur", "client": "site",
		"activate_title": "Activez votre compte", "activate_intro": "Choisissez le mot de passe de", "new_password": "Nouveau mot de passe",
		"password_hint": "Au moins 12 caractères. Quelques mots sans rapport font un mot de passe solide.", "activate": "Activer",
		"activate_done":          "Votre compte est actif. Vous pouvez maintenant vous connecter.",
		"confirm_username_title": "Confirmez votre nouvel identifiant", "confirm_username_intro": "Confirmez que vous voulez désormais vous connecter avec cette adresse e-mail.",
		"confirm": "Confirmer", "confirm_username_done": "C'est fait. Connectez-vous désormais en tant que",
	},
}

type pageView struct {
	Lang, Error, Username string
	// T are the page's texts in its language; Title is the page's title.
	T           map[string]string
	Title       string
	Enroll, SMS bool
	// QR is the authenticator key as a QR code (a data: URL), for enrollment.
	QR                     template.URL
	Challenge, Secret, URI string
	// Providers are the platform-wide identity providers offered at sign-in.
	Providers []gatehouse.IdentityProvider
	// Activation: the link's secret, whether the link is dead (no form),
	// and whether it worked.
	Token       string
	Fatal, Done bool
	// Next is the page first asked for, where a sign-in leads.
	Next string
	// PhoneError refuses the phone typed to enrol codes by text.
	PhoneError string
	// Country is the country of the browser's language, the picker's
	// choice beside a phone number until the person picks one.
	Country string
	// Passkey offers a passkey for the second step; PasskeyOnly tells
	// that it is the person's only factor (a code field takes recovery
	// codes alone). PasskeyError refuses a passkey at its field.
	Passkey, PasskeyOnly bool
	PasskeyError         string
	// Brand is the brand the page wears, set as it is drawn: the host's
	// before anyone is known, the account's in the portal.
	Brand pageBrand
	// PasskeysOff hides the passkey buttons of a server whose public URL
	// cannot be a relying party (an IP address).
	PasskeysOff bool
}

func (p *Pages) view(r *http.Request, userLang, titleKey string) pageView {
	lang := language(r, userLang)
	// The texts are shared by every page in the language: pages read them.
	return pageView{Lang: lang, T: pageTexts[lang], Title: pageTexts[lang][titleKey], Country: browserCountry(r),
		PasskeysOff: !p.svc.SignIn.PasskeysAvailable()}
}

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.signedIn(r); ok {
		// Signed in already: on to where the sign-in was asked for (an
		// application's sign-in, a device's approval), else the accounts.
		to := localPath(r.URL.Query().Get("next"))
		if to == "" {
			to = "/accounts"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	view := p.view(r, "", "title")
	view.Next = localPath(r.URL.Query().Get("next"))
	view.Providers, _ = p.svc.SignIn.PlatformIdentityProviders(r.Context()) // a page without them still signs in
	p.renderPage(w, r, http.StatusOK, "login.html", view)
}

func (p *Pages) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	username := r.PostFormValue("username")
	res, err := p.svc.SignIn.SignIn(r.Context(), remoteIP(r), "", username, r.PostFormValue("password"))
	switch {
	case err != nil:
		view := p.view(r, "", "title")
		view.Username, view.Error, view.Next = username, p.message(r, err), localPath(r.PostFormValue("next"))
		p.renderPage(w, r, statusOf(err), "login.html", view)
	case res.Session != nil:
		p.startPageSession(w, r, res.Session)
	default:
		view := p.view(r, "", "mfa_title")
		view.Next = localPath(r.PostFormValue("next"))
		view.Enroll, view.SMS, view.Challenge, view.Secret, view.URI = res.Enroll, res.SMSSent, res.Challenge, res.TOTPSecret, res.OTPAuthURI
		view.QR = qrDataURL(res.OTPAuthURI)
		view.Passkey, view.PasskeyOnly = hasPasskeyMethod(res.Methods), len(res.Methods) > 0 && res.Methods[0] == gatehouse.MFAPasskey
		p.renderPage(w, r, http.StatusOK, "mfa.html", view)
	}
}

func (p *Pages) mfaSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	session, err := p.svc.SignIn.CompleteMFA(r.Context(), remoteIP(r), "", r.PostFormValue("challenge"), r.PostFormValue("code"))
	var retry *signin.EnrollmentRetry
	if errors.As(err, &retry) {
		// A mistyped code while enrolling: the same key again, so the
		// entry just added to the app stays good.
		res := retry.Retry
		view := p.view(r, "", "mfa_title")
		view.Next = localPath(r.PostFormValue("next"))
		view.Enroll, view.Challenge, view.Secret, view.URI = true, res.Challenge, res.TOTPSecret, res.OTPAuthURI
		view.QR = qrDataURL(res.OTPAuthURI)
		view.Error = view.T["wrong_code_try_again"]
		p.renderPage(w, r, statusOf(err), "mfa.html", view)
		return
	}
	if err != nil {
		view := p.view(r, "", "title")
		view.Error = p.message(r, err)
		p.renderPage(w, r, statusOf(err), "login.html", view)
		return
	}
	p.startPageSession(w, r, session)
}

// resendSubmit texts a new code for the SMS challenge on the page
// (throttled: the page says when it is too soon).
func (p *Pages) resendSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	challenge := r.PostFormValue("challenge")
	_, err := p.svc.SignIn.ResendSMSCode(r.Context(), remoteIP(r), "", challenge)
	if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHENTICATED {
		view := p.view(r, "", "title")
		view.Error = p.message(r, err)
		p.renderPage(w, r, statusOf(err), "login.html", view)
		return
	}
	view := p.view(r, "", "mfa_title")
	view.SMS, view.Challenge, view.Next = true, challenge, localPath(r.PostFormValue("next"))
	status := http.StatusOK
	if err != nil {
		view.Error, status = p.message(r, err), statusOf(err)
	}
	p.renderPage(w, r, status, "mfa.html", view)
}

// enrollBySMSSubmit turns an authenticator enrollment into enrollment by
// text: a code goes to the phone typed (or the profile's). A refused number
// shows the same key again, with the error at the phone field.
func (p *Pages) enrollBySMSSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	challenge := r.PostFormValue("challenge")
	res, err := p.svc.SignIn.EnrollBySMS(r.Context(), remoteIP(r), "", challenge, r.PostFormValue("phone"), r.PostFormValue("phone_country"))
	view := p.view(r, "", "mfa_title")
	view.Next = localPath(r.PostFormValue("next"))
	switch gatehouse.ErrorCode(err) {
	case "":
		view.Enroll, view.SMS, view.Challenge = true, true, res.Challenge
		p.renderPage(w, r, http.StatusOK, "mfa.html", view)
	case gatehouse.EINVALID, gatehouse.ERATELIMITED:
		// The key shown before came back with the form: only its owner's
		// page posts it, and it is shown to them alone again.
		secret := r.PostFormValue("secret")
		uri := (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/Gatehouse", RawQuery: url.Values{"secret": {secret}, "issuer": {"Gatehouse"}}.Encode()}).String()
		view.Enroll, view.Challenge, view.Secret, view.URI, view.QR = true, challenge, secret, uri, qrDataURL(uri)
		view.PhoneError = view.T["invalid_phone"]
		if gatehouse.ErrorCode(err) == gatehouse.ERATELIMITED {
			view.PhoneError = p.message(r, err)
		}
		p.renderPage(w, r, statusOf(err), "mfa.html", view)
	default:
		view := p.view(r, "", "title")
		view.Error = p.message(r, err)
		p.renderPage(w, r, statusOf(err), "login.html", view)
	}
}

func (p *Pages) startPageSession(w http.ResponseWriter, r *http.Request, s *signin.NewSession) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.Token, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secureCookies})
	to := localPath(r.PostFormValue("next"))
	if to == "" {
		to = "/accounts"
	}
	if strings.HasPrefix(to, "/oauth2/") {
		// Finishing an application's sign-in sends the browser on to the
		// application, elsewhere. Browsers hold every redirect that answers a
		// form to the form page's form-action 'self', and would stop there;
		// a fresh navigation from this page is not a form's, so it goes on.
		view := p.view(r, "", "title")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = continueTemplate.Execute(w, struct{ To, Lang, Label string }{to, view.Lang, view.T["continue_to_application"]})
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

var continueTemplate = template.Must(template.New("continue").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0;url={{.To}}"><title>Gatehouse</title></head>
<body><p><a href="{{.To}}">{{.Label}}</a></p></body></html>
`))

// localPath keeps a "next" address only when it is a path of this site:
// an address elsewhere would make the sign-in page an open redirect.
func localPath(next string) string {
	if len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return u.RequestURI()
}

// SignedIn tells who is signed in with the request's page session cookie
// (the OpenID Provider finishes sign-ins to applications with it).
func (p *Pages) SignedIn(r *http.Request) (gatehouse.Caller, bool) { return p.signedIn(r) }

// signedIn authenticates the page session cookie.
func (p *Pages) signedIn(r *http.Request) (gatehouse.Caller, bool) {
	cookie, err := r.Cookie(sessionCookie)
	if err != nil || gatehouse.TokenKind(cookie.Value) != gatehouse.TokenSession {
		return gatehouse.Caller{}, false
	}
	principal, err := p.svc.SignIn.Authenticate(r.Context(), cookie.Value)
	if err != nil {
		return gatehouse.Caller{}, false
	}
	return gatehouse.Caller{Principal: principal, IP: remoteIP(r)}, true
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request) {
	if caller, ok := p.signedIn(r); ok {
		_ = p.svc.SignIn.SignOut(r.Context(), caller)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secureCookies})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (p *Pages) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, view pageView) {
	view.Brand = p.pageBrand(r, "", false)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := templates.ExecuteTemplate(w, name, view); err != nil {
		p.log.ErrorContext(r.Context(), "render", "page", name, "error", err)
	}
}

// qrDataURL draws an otpauth:// URI as a QR code for authenticator apps to
// scan, as a data: URL (the page's policy allows images from data: only).
func qrDataURL(uri string) template.URL {
	if uri == "" {
		return ""
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return ""
	}
	img, err := key.Image(200, 200)
	if err != nil {
		return ""
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
}
