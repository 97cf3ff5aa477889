package web

import (
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
)

// memberData is one person's page in one account: everything an
// administrator may do to that member, and why the rest is not offered.
type memberData struct {
	Member      gatehouse.Member
	Sources     []access.Source
	Roles       []gatehouse.Role
	Folders     []folderOption
	Invitation  *gatehouse.Invitation
	MayManage   bool
	IsRemote    bool
	IsSelf      bool
	IdentityErr string // why the person's identity may not be changed here, "" when it may
	MayIdentity bool
	Levels      []gatehouse.Level // the levels the member may be moved between
	HasPhoto    bool
	// AccessLeft says when the membership ends and how long is left, ""
	// without an end; MayChangeEnd offers to change it, from EndValue.
	AccessLeft   string
	MayChangeEnd bool
	EndValue     string
}

// HasRole tells whether the member holds the role.
func (d memberData) HasRole(name string) bool { return slices.Contains(d.Member.Roles, name) }

// memberPage shows one member: their details, level, roles, home folder and
// effective permissions, the pending invitation, and the actions the caller
// may take.
func (p *Pages) memberPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderMember(w, r, v, http.StatusOK)
}

func (p *Pages) renderMember(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	ctx := r.Context()
	account := v.view.Account.ID
	m, err := p.svc.People.Member(ctx, v.caller, account, r.PathValue("membership_id"))
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderPortal(w, r, statusOf(err), "portal_error.html", v)
		return
	}
	data := memberData{Member: m, MayManage: v.rights.ManageMembers, IsRemote: m.Level == gatehouse.LevelRemoteMonitoring,
		IsSelf: m.UserID == v.caller.Principal.UserID}
	if _, sources, err := p.svc.People.EffectivePermissions(ctx, v.caller, account, m.ID); err == nil {
		data.Sources = sources
	}
	if data.MayManage && !data.IsRemote {
		data.Levels = p.svc.People.LevelsFor(ctx, v.caller, account, m)
	}
	if _, err := p.svc.People.Photo(ctx, v.caller, m.UserID); err == nil {
		data.HasPhoto = true
	}
	data.AccessLeft = accessLeft(v.view.T, m.ExpiresAt, p.now())
	data.MayChangeEnd = data.MayManage && !data.IsRemote && p.svc.People.MayChangeMember(ctx, v.caller, account, m)
	data.EndValue = datetimeLocal(m.ExpiresAt)
	if v.view.Form != nil && v.view.Form.Has("expires_at") {
		data.EndValue = v.view.Form.Get("expires_at") // a refused value comes back as typed
	}
	if v.view.Account.Kind == gatehouse.KindClient && data.MayManage {
		data.Roles, _ = p.svc.Access.Roles(ctx, v.caller, account)
		folders, _ := p.svc.Access.Folders(ctx, v.caller, account, "", gatehouse.PageRequest{Limit: 200})
		for _, f := range folders.Items {
			data.Folders = append(data.Folders, folderOption{ID: f.ID, Path: f.Path})
		}
	}
	if m.Status != gatehouse.MembershipActive && data.MayManage {
		pending, _ := p.svc.People.Invitations(ctx, v.caller, account, gatehouse.InvitationPending, gatehouse.PageRequest{Limit: 500})
		for _, inv := range pending.Items {
			if inv.MembershipID == m.ID {
				data.Invitation = &inv
				break
			}
		}
	}
	if !data.IsRemote && !data.IsSelf {
		switch err := p.svc.People.MayChangeIdentity(ctx, v.caller, m.UserID); gatehouse.ErrorCode(err) {
		case "":
			data.MayIdentity = true
		case gatehouse.ESHAREDIDENTITY:
			data.IdentityErr = v.view.T["error_shared_identity"]
		default:
			data.IdentityErr = v.view.T["identity_not_yours"]
		}
	}
	v.view.Title = v.view.Account.Name
	v.view.Data = data
	p.renderPortal(w, r, status, "member.html", v)
}

// memberPhoto serves a member's photo to those who see them in this
// account (the same decision as the API's).
func (p *Pages) memberPhoto(w http.ResponseWriter, r *http.Request, v *visit) {
	m, err := p.svc.People.Member(r.Context(), v.caller, v.view.Account.ID, r.PathValue("membership_id"))
	var image []byte
	if err == nil {
		image, err = p.svc.People.Photo(r.Context(), v.caller, m.UserID)
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write(image)
}

// saveMember changes a member's roles and home folder.
func (p *Pages) saveMember(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	_ = r.ParseForm()
	roles := r.PostForm["roles"]
	if roles == nil {
		roles = []string{}
	}
	patch := people.MemberPatch{}
	if level := gatehouse.Level(r.PostForm.Get("level")); level != "" {
		patch.Level = &level
	}
	if v.view.Account.Kind == gatehouse.KindClient {
		home := r.PostForm.Get("home_folder_id")
		patch.Roles, patch.HomeFolderID = &roles, &home
	}
	id := r.PathValue("membership_id")
	if _, err := p.svc.People.UpdateMember(r.Context(), v.caller, v.view.Account.ID, id, patch); err != nil {
		v.view.Form = r.PostForm
		p.fieldError(r, v, err)
		p.renderMember(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/users/"+id, "saved_flash", ""), http.StatusSeeOther)
}

// memberAction is one thing done to a member from their page: removing
// them, ending their sessions, clearing their sign-in lock, resetting their
// lost second factor.
func (p *Pages) memberAction(kind string) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		ctx := r.Context()
		account, id := v.view.Account.ID, r.PathValue("membership_id")
		m, err := p.svc.People.Member(ctx, v.caller, account, id)
		to, done := "/accounts/"+account+"/users/"+id, kind+"_flash"
		if err == nil {
			switch kind {
			case "remove":
				err = p.svc.People.RemoveUser(ctx, v.caller, account, id)
				to = "/accounts/" + account
			case "end_sessions":
				err = p.svc.SignIn.EndSessionsOf(ctx, v.caller, m.UserID)
			case "unlock":
				err = p.svc.People.UnlockSignIn(ctx, v.caller, m.UserID)
			case "reset_mfa":
				err = p.svc.SignIn.ResetSecondFactor(ctx, v.caller, m.UserID)
			}
		}
		if err != nil {
			v.view.Error = p.message(r, err)
			if gatehouse.ErrorCode(err) == gatehouse.ESHAREDIDENTITY {
				v.view.Error = v.view.T["error_shared_identity"]
			}
			p.renderMember(w, r, v, statusOf(err))
			return
		}
		http.Redirect(w, r, doneURL(to, done, m.Username), http.StatusSeeOther)
	}
}

// confirmData is a confirmation page: what is about to happen, what will be
// lost, the form that does it and the way back.
type confirmData struct {
	Question, Consequence, Button, Action, Back string
}

// confirm answers the GET of a destructive action's address with a page
// that asks for confirmation and posts to the same address. question and
// consequence are text keys; what names the thing acted on.
func (p *Pages) confirm(question, consequence, button string, back func(v *visit, r *http.Request) string, what func(v *visit, r *http.Request) string) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		name := ""
		if what != nil {
			name = what(v, r)
		}
		v.view.Data = confirmData{Question: v.view.T[question] + " " + name, Consequence: v.view.T[consequence],
			Button: v.view.T[button], Action: r.URL.Path, Back: back(v, r)}
		p.renderPortal(w, r, http.StatusOK, "confirm.html", v)
	}
}
