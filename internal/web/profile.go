package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
)

// profileData is the profile page's own part (R-U4, R-U6, R-U7, R-S2, R-N3).
type profileData struct {
	HasPhoto      bool
	Method        string
	RecoveryLeft  int
	RecoveryCodes []string
	Enroll        enrollView
	Memberships   []gatehouse.MembershipSummary
	// Sessions are the person's live sessions; HasPassword is false for a
	// person of an identity provider.
	Sessions    []sessionRow
	HasPassword bool
	// Applications are the platform's applications the person is signed
	// in to.
	Applications []gatehouse.OIDCConnection
	// Passkeys are the person's; PasskeyName is the name typed for a new
	// one that was refused.
	Passkeys    []gatehouse.Passkey
	PasskeyName string
	// Factor is what a password sign-in asks next: the method chosen, or
	// a passkey when there is none but passkeys.
	Factor string
}

// sessionRow is one of the person's sessions, marked when it is the one
// showing the page.
type sessionRow struct {
	gatehouse.Session
	Current bool
}

// enrollView is a second factor waiting for its first code: an
// authenticator key (with its QR code) or a texted code.
type enrollView struct {
	Challenge, Secret, Phone string
	QR                       template.URL
}

func (p *Pages) profileView(r *http.Request, v *visit) *profileData {
	// Every page reads the person, this one their second factor too.
	if err := p.svc.SignIn.SecondFactor(r.Context(), v.caller, &v.view.Me); err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	me := v.view.Me
	v.view.Title = v.view.T["profile"]
	if v.view.Form == nil {
		v.view.Form = url.Values{"first_name": {me.User.FirstName}, "last_name": {me.User.LastName}, "language": {me.User.Language},
			"phone": {me.User.Phone}, "user_type": {me.User.UserType}, "username": {me.User.Username}}
	}
	data := &profileData{Method: me.MFAMethod, RecoveryLeft: me.RecoveryCodesLeft}
	if _, err := p.svc.People.Photo(r.Context(), v.caller, me.User.ID); err == nil {
		data.HasPhoto = true
	}
	for _, m := range me.Memberships {
		if m.Status == gatehouse.MembershipActive && m.Level != gatehouse.LevelRemoteMonitoring {
			data.Memberships = append(data.Memberships, m)
		}
	}
	sessions, _ := p.svc.SignIn.MySessions(r.Context(), v.caller)
	for _, s := range sessions {
		data.Sessions = append(data.Sessions, sessionRow{Session: s, Current: s.ID == v.caller.Principal.SessionID})
	}
	data.HasPassword = me.User.IdentityProviderID == ""
	data.Applications, _ = p.svc.OIDC.MyConnections(r.Context(), v.caller)
	data.Passkeys, _ = p.svc.SignIn.Passkeys(r.Context(), v.caller)
	if data.Factor = data.Method; data.Factor == "" && len(data.Passkeys) > 0 {
		data.Factor = gatehouse.MFAPasskey
	}
	v.view.Data = data
	return data
}

// changePassword replaces the person's password, given the current one;
// their other sessions end.
func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	err := p.svc.SignIn.ChangePassword(r.Context(), v.caller, r.PostFormValue("current_password"), r.PostFormValue("new_password"))
	if err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL("/profile", "password_changed_flash", ""), http.StatusSeeOther)
}

// endSession ends one of the person's sessions (another device's).
func (p *Pages) endSession(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := p.svc.SignIn.EndMySession(r.Context(), v.caller, r.PathValue("session_id")); err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL("/profile", "session_ended_flash", ""), http.StatusSeeOther)
}

func (p *Pages) profilePage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.profileView(r, v)
	v.view.Flash = p.flash(r, v.view.T)
	p.renderPortal(w, r, http.StatusOK, "profile.html", v)
}

// refused shows the profile again with the error at its field.
func (p *Pages) profileRefused(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	p.fieldError(r, v, err)
	p.profileView(r, v)
	p.renderPortal(w, r, statusOf(err), "profile.html", v)
}

// saveProfile stores the person's own details; a new username waits for
// the link mailed to it, and a photo is stored when one is given.
func (p *Pages) saveProfile(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUserForm)
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		p.profileRefused(w, r, v, gatehouse.Errorf(gatehouse.ETOOLARGE, "the photo is larger than 5 MiB"))
		return
	}
	f := r.Form
	v.view.Form = f
	patch := people.ProfilePatch{PhoneCountry: f.Get("phone_country")}
	me := v.view.Me.User
	for _, field := range []struct {
		name    string
		current string
		into    **string
	}{{"first_name", me.FirstName, &patch.FirstName}, {"last_name", me.LastName, &patch.LastName}, {"language", me.Language, &patch.Language},
		{"phone", me.Phone, &patch.Phone}, {"user_type", me.UserType, &patch.UserType}, {"username", me.Username, &patch.Username}} {
		if value, sent := f[field.name]; sent && value[0] != field.current {
			*field.into = &value[0]
		}
	}
	update, err := p.svc.People.UpdateProfile(r.Context(), v.caller, me.ID, patch)
	if err == nil {
		if file, header, ferr := r.FormFile("photo"); ferr == nil {
			err = p.svc.People.SetPhoto(r.Context(), v.caller, me.ID, header.Header.Get("Content-Type"), file)
			file.Close()
		}
	}
	if err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	done := "profile_saved"
	if update.PendingUsername != "" {
		done = "username_link_sent"
	}
	http.Redirect(w, r, doneURL("/profile", done, update.PendingUsername), http.StatusSeeOther)
}

// profilePhoto serves the person's own thumbnail.
func (p *Pages) profilePhoto(w http.ResponseWriter, r *http.Request, v *visit) {
	image, err := p.svc.People.Photo(r.Context(), v.caller, v.view.Me.User.ID)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write(image)
}

// startFactor begins the change to an authenticator or to SMS; the page
// then asks for the first code.
func (p *Pages) startFactor(sms bool) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		var enroll enrollView
		if sms {
			e, err := p.svc.SignIn.StartSMSEnrollment(r.Context(), v.caller)
			if err != nil {
				p.profileRefused(w, r, v, err)
				return
			}
			enroll = enrollView{Challenge: e.Challenge, Phone: e.Phone}
		} else {
			e, err := p.svc.SignIn.StartTOTPEnrollment(r.Context(), v.caller)
			if err != nil {
				p.profileRefused(w, r, v, err)
				return
			}
			enroll = enrollView{Challenge: e.Challenge, Secret: e.TOTPSecret, QR: qrDataURL(e.OTPAuthURI)}
		}
		data := p.profileView(r, v)
		data.Enroll = enroll
		p.renderPortal(w, r, http.StatusOK, "profile.html", v)
	}
}

func (p *Pages) confirmFactor(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := p.svc.SignIn.ConfirmEnrollment(r.Context(), v.caller, r.PostFormValue("challenge"), r.PostFormValue("code")); err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL("/profile", "factor_changed", ""), http.StatusSeeOther)
}

func (p *Pages) factorOff(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := p.svc.SignIn.DisableMFA(r.Context(), v.caller); err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL("/profile", "factor_off", ""), http.StatusSeeOther)
}

// recoveryCodes makes ten new codes and shows them this once.
func (p *Pages) recoveryCodes(w http.ResponseWriter, r *http.Request, v *visit) {
	codes, err := p.svc.SignIn.NewRecoveryCodes(r.Context(), v.caller)
	if err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	// The page reads the codes left again: ten, now.
	data := p.profileView(r, v)
	data.RecoveryCodes = codes
	p.renderPortal(w, r, http.StatusOK, "profile.html", v)
}

// saveNotifications stores the person's notification choices in one of
// their accounts (R-N3).
func (p *Pages) saveNotifications(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	n := gatehouse.Notifications{Enabled: r.PostFormValue("notify") != "", Email: r.PostFormValue("notify_email") != "",
		SMS: r.PostFormValue("notify_sms") != ""}
	_, err := p.svc.People.UpdateMember(r.Context(), v.caller, r.PathValue("account_id"), r.PathValue("membership_id"),
		people.MemberPatch{Notifications: &n})
	if err != nil {
		p.profileRefused(w, r, v, err)
		return
	}
	http.Redirect(w, r, doneURL("/profile", "notifications_saved", ""), http.StatusSeeOther)
}
