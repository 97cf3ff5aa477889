package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// portalView is what every portal page shows around its own part: the
// person, the account switcher, and for account pages the account and its
// sections.
type portalView struct {
	pageView
	Flash   string
	Me      signin.Me
	Switch  []switchItem
	Account gatehouse.Account
	Tabs    []tabItem
	// Form and FieldErrors give a refused form back with the errors at
	// their fields.
	Form        url.Values
	FieldErrors map[string]string
	Data        any
	// Operator is true for operators signed in as people.
	Operator bool
	// Life is what the person may do to the account's life, from where it
	// is now.
	Life struct{ Suspend, Restore, Delete bool }
}

type switchItem struct {
	ID, Name, Kind string
	// Context tells apart two accounts of one name: the integrator's name,
	// and the site's address when that is not enough.
	Context string
	Current bool
	// Suspended marks an account the person cannot act in until it is
	// restored.
	Suspended bool
}

// switchItems lists the active memberships of a person for the account
// switcher, telling apart accounts that bear the same name.
func switchItems(memberships []gatehouse.MembershipSummary, texts map[string]string) []switchItem {
	var items []switchItem
	names, owners := map[string]int{}, map[string]int{}
	for _, m := range memberships {
		if m.Status == gatehouse.MembershipActive {
			names[gatehouse.NameKey(m.AccountName)]++
			owners[gatehouse.NameKey(m.AccountName)+"\x00"+m.IntegratorName]++
		}
	}
	for _, m := range memberships {
		if m.Status != gatehouse.MembershipActive {
			continue
		}
		item := switchItem{ID: m.AccountID, Name: m.AccountName, Kind: texts[string(m.AccountKind)], Suspended: m.Suspended}
		key := gatehouse.NameKey(m.AccountName)
		if names[key] > 1 {
			item.Context = m.IntegratorName
			if owners[key+"\x00"+m.IntegratorName] > 1 {
				line, _, _ := strings.Cut(m.AccountAddress, "\n")
				item.Context = strings.TrimPrefix(strings.TrimSpace(m.IntegratorName+", "+line), ", ")
			}
		}
		items = append(items, item)
	}
	return items
}

type tabItem struct {
	Href, Label string
	Current     bool
}

// visit is one signed-in request to the portal.
type visit struct {
	caller gatehouse.Caller
	view   portalView
	rights accounts.Rights
	// brandAccount is the account whose brand the page wears, read when
	// it is drawn (one read for every brand a page may wear); brandAlways
	// wears it on any host, not only where the host has no brand of its
	// own.
	brandAccount string
	brandAlways  bool
}

// person wraps a portal page: the person must be signed in (else the
// sign-in page), and the view starts in their language with their accounts.
func (p *Pages) person(h func(http.ResponseWriter, *http.Request, *visit)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, ok := p.signedIn(r)
		if !ok {
			to := "/login"
			if r.Method == http.MethodGet {
				to += "?" + url.Values{"next": {r.URL.RequestURI()}}.Encode()
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		me, err := p.svc.SignIn.Visitor(r.Context(), caller)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		v := &visit{caller: caller, view: portalView{pageView: p.view(r, me.User.Language, "accounts_title"), Me: me,
			Operator: caller.Principal.Operator}}
		ctx := context.WithValue(r.Context(), languageKey{}, v.view.Lang)
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			// A page drawn changes nothing: its use cases read the account
			// and what the person holds over it once.
			ctx = kernel.ShareReads(ctx, caller.Principal)
		}
		r = r.WithContext(ctx)
		v.view.Switch = switchItems(me.Memberships, v.view.T)
		if !caller.Principal.Operator && len(v.view.Switch) > 0 {
			// On the platform's own host, a person wears the brand of
			// their first account until they open one.
			v.brandAccount = v.view.Switch[0].ID
		}
		h(w, r, v)
	})
}

// account wraps a page of one account: the account must be visible (else
// 404), and the sections shown are those the person may open.
func (p *Pages) account(tab string, h func(http.ResponseWriter, *http.Request, *visit)) http.Handler {
	return p.person(func(w http.ResponseWriter, r *http.Request, v *visit) {
		rights, err := p.svc.Accounts.AccountRights(r.Context(), v.caller, r.PathValue("id"))
		if err != nil {
			v.view.Error = p.message(r, err)
			if gatehouse.ErrorCode(err) == gatehouse.EACCOUNTSUSPENDED {
				// Its own member: the page names the account and says what
				// happened, in the switcher's place.
				for i, item := range v.view.Switch {
					if item.ID == r.PathValue("id") {
						v.view.Switch[i].Current, v.view.Title = true, item.Name
					}
				}
				v.view.Error = v.view.T["account_suspended_member"]
			}
			p.renderPortal(w, r, statusOf(err), "portal_error.html", v)
			return
		}
		v.rights, v.view.Account = rights, rights.Account
		v.brandAccount, v.brandAlways = rights.Account.ID, true
		v.view.Life.Suspend, v.view.Life.Restore, v.view.Life.Delete = rights.Suspend, rights.Restore, rights.Delete
		v.view.Title = rights.Account.Name
		found := false
		for i := range v.view.Switch {
			v.view.Switch[i].Current = v.view.Switch[i].ID == rights.Account.ID
			found = found || v.view.Switch[i].Current
		}
		if !found {
			// An account seen through an integrator or as an operator: the
			// switcher shows it, first, as where the person is.
			v.view.Switch = append([]switchItem{{ID: rights.Account.ID, Name: rights.Account.Name,
				Kind: v.view.T[string(rights.Account.Kind)], Current: true}}, v.view.Switch...)
		}
		base := "/accounts/" + rights.Account.ID
		add := func(key, href string, show bool) {
			if show {
				v.view.Tabs = append(v.view.Tabs, tabItem{Href: href, Label: v.view.T[key], Current: key == tab})
			}
		}
		add("users", base, true)
		add("clients", base+"/clients", rights.CreateClient)
		add("invitations", base+"/invitations", rights.ManageMembers)
		add("bulk", base+"/bulk", rights.ManageMembers)
		add("remote", base+"/remote-monitoring", rights.Account.Kind == gatehouse.KindClient && rights.ReadMembers)
		add("roles", base+"/roles", rights.ReadMembers)
		add("folders", base+"/folders", true)
		add("groups", base+"/groups", rights.ReadMembers)
		add("audit", base+"/audit", rights.ReadAudit)
		add("provider_access", base+"/provider-access", rights.ProviderAccess)
		add("settings", base+"/settings", rights.ChangeSettings)
		add("api_tokens", base+"/api-tokens", rights.APITokens)
		add("identity_providers", base+"/identity-providers", rights.IdentityProviders)
		add("applications", base+"/applications", rights.Applications)
		add("webhooks", base+"/webhooks", rights.Webhooks)
		add("scim", base+"/scim", rights.SCIM)
		add("brand", base+"/brand", rights.Brand)
		v.view.Flash = p.flash(r, v.view.T)
		h(w, r, v)
	})
}

// flash is the message a redirect after a change asked to show: a text key
// and, in who, the person or address it concerns.
func (p *Pages) flash(r *http.Request, texts map[string]string) string {
	q := r.URL.Query()
	text, ok := texts[q.Get("done")]
	if !ok {
		return ""
	}
	who := cutText(q.Get("who"), 200)
	if who == "" {
		// "Saved:" with nothing after it reads as cut off.
		return strings.TrimRight(text, " :")
	}
	return text + " " + who
}

func doneURL(path, done, who string) string {
	return path + "?" + url.Values{"done": {done}, "who": {who}}.Encode()
}

func (p *Pages) renderPortal(w http.ResponseWriter, r *http.Request, status int, name string, v *visit) {
	v.view.Brand = p.pageBrand(r, v.brandAccount, v.brandAlways)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := templates.ExecuteTemplate(w, name, v.view); err != nil {
		p.log.ErrorContext(r.Context(), "render", "page", name, "error", err)
	}
}

// switchAccount is the account switcher's target (R-M6).
func (p *Pages) switchAccount(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("account")
	if id == "" || strings.ContainsAny(id, "/?#") {
		http.Redirect(w, r, "/accounts", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/accounts/"+url.PathEscape(id), http.StatusSeeOther)
}

type newUserData struct {
	// UserTypes are those the account's members have: the pull-down's
	// choices, beside a field for a new one.
	UserTypes []string
	Levels    []gatehouse.Level
	Providers []gatehouse.IdentityProvider
	Roles     []gatehouse.Role
	Folders   []folderOption
	checked   map[string]bool
}

// RoleChecked tells whether the form had the role ticked.
func (d newUserData) RoleChecked(name string) bool { return d.checked[name] }

type folderOption struct{ ID, Path string }

func (p *Pages) newUserForm(r *http.Request, v *visit) newUserData {
	ctx := r.Context()
	data := newUserData{checked: map[string]bool{}}
	data.UserTypes, _ = p.svc.People.UserTypes(ctx, v.caller, v.view.Account.ID)
	if v.view.Account.Kind == gatehouse.KindIntegrator {
		data.Levels = []gatehouse.Level{gatehouse.LevelIntegratorUser, gatehouse.LevelIntegratorAdmin}
	} else {
		data.Levels = []gatehouse.Level{gatehouse.LevelClientUser, gatehouse.LevelClientAdmin}
		data.Roles, _ = p.svc.Access.Roles(ctx, v.caller, v.view.Account.ID)
		folders, _ := p.svc.Access.Folders(ctx, v.caller, v.view.Account.ID, "", gatehouse.PageRequest{Limit: 200})
		for _, f := range folders.Items {
			data.Folders = append(data.Folders, folderOption{ID: f.ID, Path: f.Path})
		}
	}
	data.Providers, _ = p.svc.SignIn.IdentityProviders(ctx, v.caller)
	roles := v.view.Form["roles"]
	if v.view.Form == nil {
		roles = []string{"viewer"}
	}
	for _, name := range roles {
		data.checked[name] = true
	}
	return data
}

func (p *Pages) newUserPage(w http.ResponseWriter, r *http.Request, v *visit) {
	v.view.Data = p.newUserForm(r, v)
	p.renderPortal(w, r, http.StatusOK, "user_new.html", v)
}

// maxUserForm bounds the add-user form: the fields and a 5 MiB photo.
const maxUserForm = 6 << 20

// addUser saves the add-user form (R-U1…R-U3, R-M2): the person is added,
// the invitation or the "new site" e-mail leaves, and a photo, when given,
// is stored. A refused form comes back with each error at its field.
func (p *Pages) addUser(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUserForm)
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		v.view.Error = v.view.T["photo"] + ": " + err.Error()
		v.view.Data = p.newUserForm(r, v)
		p.renderPortal(w, r, http.StatusRequestEntityTooLarge, "user_new.html", v)
		return
	}
	f := r.Form
	if typed := strings.TrimSpace(f.Get("user_type_new")); typed != "" {
		f.Set("user_type", typed) // a new type typed beside the pull-down wins
	}
	email := f.Get("email")
	if f.Get("same_as_username") != "" {
		email = ""
	}
	roles := f["roles"]
	if roles == nil {
		roles = []string{}
	}
	in := people.NewMember{Username: f.Get("username"), FirstName: f.Get("first_name"), LastName: f.Get("last_name"),
		Email: email, Language: f.Get("language"), Level: gatehouse.Level(f.Get("level")), IdentityProvider: f.Get("identity_provider"),
		HomeFolderID: f.Get("home_folder_id"), Phone: f.Get("phone"), PhoneCountry: f.Get("phone_country"), UserType: f.Get("user_type"),
		Notifications: gatehouse.Notifications{Enabled: f.Get("notify") != "", Email: f.Get("notify_email") != "", SMS: f.Get("notify_sms") != ""},
		MFARequired:   f.Get("mfa_required") != ""}
	if v.view.Account.Kind == gatehouse.KindClient && in.Level == gatehouse.LevelClientUser {
		in.Roles = roles
	}
	end, err := readAccessEnd(f.Get("expires_at"))
	var member gatehouse.Member
	if err == nil {
		in.ExpiresAt = end
		member, err = p.svc.People.AddUser(r.Context(), v.caller, v.view.Account.ID, in)
	}
	if err == nil {
		if file, header, ferr := r.FormFile("photo"); ferr == nil {
			err = p.svc.People.SetPhoto(r.Context(), v.caller, member.UserID, header.Header.Get("Content-Type"), file)
			file.Close()
			if err != nil {
				// The person is added; only the photo failed.
				http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID, "user_added_no_photo", member.Username), http.StatusSeeOther)
				return
			}
		}
		done := "user_added"
		if member.Status == gatehouse.MembershipActive {
			done = "user_registered"
		}
		http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID, done, member.Email), http.StatusSeeOther)
		return
	}
	v.view.Form = f
	p.fieldError(r, v, err)
	v.view.Data = p.newUserForm(r, v)
	p.renderPortal(w, r, statusOf(err), "user_new.html", v)
}

type invitationData struct {
	Invitation gatehouse.Invitation
	Status     gatehouse.InvitationStatus
	InvitedBy  string
	// Member is the person invited, as the account holds them.
	Member *gatehouse.Member
}

// invitationPage shows one invitation: to whom, when it was sent, until
// when it works, who sent it.
func (p *Pages) invitationPage(w http.ResponseWriter, r *http.Request, v *visit) {
	inv, err := p.svc.People.Invitation(r.Context(), v.caller, r.PathValue("invitation_id"))
	if err == nil && inv.AccountID != v.view.Account.ID {
		err = gatehouse.NotFound("invitation")
	}
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderPortal(w, r, statusOf(err), "portal_error.html", v)
		return
	}
	data := invitationData{Invitation: inv, Status: inv.StatusAt(p.now()), InvitedBy: inv.InvitedBy}
	switch {
	case inv.InvitedBy == "operator":
		data.InvitedBy = v.view.T["operator"] // platform support, through its bootstrap token
	case strings.HasPrefix(inv.InvitedBy, gatehouse.SCIMActorPrefix):
		data.InvitedBy = v.view.T["scim_actor"] // the account's directory
	}
	if m, err := p.svc.People.Member(r.Context(), v.caller, v.view.Account.ID, inv.MembershipID); err == nil {
		data.Member = &m
	}
	if v.rights.ReadMembers {
		members, _ := p.svc.People.Members(r.Context(), v.caller, v.view.Account.ID, gatehouse.PageRequest{Limit: 500})
		for _, m := range members.Items {
			if m.UserID == inv.InvitedBy {
				data.InvitedBy = m.Username
			}
		}
	}
	v.view.Data = data
	p.renderPortal(w, r, http.StatusOK, "invitation.html", v)
}

// invitationAction resends or cancels an invitation of the account (R-M4,
// R-M5) and comes back to the list.
func (p *Pages) invitationAction(resend bool) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		id := r.PathValue("invitation_id")
		inv, err := p.svc.People.Invitation(r.Context(), v.caller, id)
		if err == nil && inv.AccountID != v.view.Account.ID {
			err = gatehouse.NotFound("invitation")
		}
		done := "invitation_resent"
		if err == nil {
			if resend {
				inv, err = p.svc.People.ResendInvitation(r.Context(), v.caller, id)
			} else {
				inv, err = p.svc.People.CancelInvitation(r.Context(), v.caller, id)
				done = "invitation_cancelled_flash"
			}
		}
		if err != nil {
			v.view.Error = p.message(r, err)
			p.renderInvitations(w, r, v, statusOf(err))
			return
		}
		http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/invitations", done, inv.Email), http.StatusSeeOther)
	}
}

type bulkData struct {
	Preview gatehouse.BulkPreview
	Status  gatehouse.BulkStatus
	Totals  []bulkTotal
	Rows    []gatehouse.BulkRow
	More    bool
}

type bulkTotal struct {
	Outcome gatehouse.BulkOutcome
	Count   int
}

// bulkShown is how many lines the preview page shows; the result file has
// every line.
const bulkShown = 200

// bulkTemplate is a CSV file to fill in: the header and one example line.
func (p *Pages) bulkTemplate(w http.ResponseWriter, r *http.Request, v *visit) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="invitations.csv"`)
	_, _ = io.WriteString(w, "email,first_name,last_name,role,home_folder\r\nann@example.com,Ann,Lee,viewer,\r\n")
}

func (p *Pages) bulkPage(w http.ResponseWriter, r *http.Request, v *visit) {
	v.view.Data = bulkData{}
	p.renderPortal(w, r, http.StatusOK, "bulk.html", v)
}

// bulkUpload reads the uploaded CSV into a preview (R-B1, R-B2) and shows it.
func (p *Pages) bulkUpload(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, people.MaxBulkFile+1<<20)
	file, _, err := r.FormFile("file")
	if err == nil {
		defer file.Close()
		var preview gatehouse.BulkPreview
		preview, err = p.svc.People.PreviewBulk(r.Context(), v.caller, v.view.Account.ID, file)
		if err == nil {
			http.Redirect(w, r, "/accounts/"+v.view.Account.ID+"/bulk/"+preview.ID, http.StatusSeeOther)
			return
		}
	}
	v.view.Error = p.message(r, err)
	if errors.Is(err, http.ErrMissingFile) {
		v.view.Error = v.view.T["csv_file"] + "?"
	}
	v.view.Data = bulkData{}
	p.renderPortal(w, r, statusOf(err), "bulk.html", v)
}

// bulkPreviewPage shows a preview, the confirm button, the job's progress,
// or its end with the result file (R-B3, R-B4).
func (p *Pages) bulkPreviewPage(w http.ResponseWriter, r *http.Request, v *visit) {
	preview, err := p.svc.People.BulkStatus(r.Context(), v.caller, v.view.Account.ID, r.PathValue("preview_id"))
	if err != nil {
		v.view.Error = p.message(r, err)
		v.view.Data = bulkData{}
		p.renderPortal(w, r, statusOf(err), "bulk.html", v)
		return
	}
	data := bulkData{Preview: preview, Status: preview.StatusAt(p.now())}
	for _, outcome := range gatehouse.BulkOutcomes {
		if n := preview.Totals[outcome]; n > 0 {
			data.Totals = append(data.Totals, bulkTotal{Outcome: outcome, Count: n})
		}
	}
	rows, err := p.svc.People.BulkRows(r.Context(), v.caller, v.view.Account.ID, preview.ID, 0, bulkShown+1)
	if err != nil {
		v.view.Error = p.message(r, err)
	}
	if len(rows) > bulkShown {
		rows, data.More = rows[:bulkShown], true
	}
	data.Rows = rows
	v.view.Data = data
	p.renderPortal(w, r, http.StatusOK, "bulk.html", v)
}

func (p *Pages) bulkConfirm(w http.ResponseWriter, r *http.Request, v *visit) {
	id := r.PathValue("preview_id")
	if _, err := p.svc.People.ConfirmBulk(r.Context(), v.caller, v.view.Account.ID, id, false); err != nil {
		v.view.Error = p.message(r, err)
		v.view.Data = bulkData{}
		p.renderPortal(w, r, statusOf(err), "bulk.html", v)
		return
	}
	http.Redirect(w, r, "/accounts/"+v.view.Account.ID+"/bulk/"+id, http.StatusSeeOther)
}

// bulkProgress answers the progress bar's script: the job's counts as JSON
// (same origin, the page session's cookie).
func (p *Pages) bulkProgress(w http.ResponseWriter, r *http.Request, v *visit) {
	preview, err := p.svc.People.BulkStatus(r.Context(), v.caller, v.view.Account.ID, r.PathValue("preview_id"))
	if err != nil {
		http.Error(w, p.message(r, err), statusOf(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": preview.StatusAt(p.now()), "processed": preview.Processed,
		"to_invite": preview.ToInvite, "label": fmt.Sprintf("%d / %d", preview.Processed, preview.ToInvite)})
}

// bulkResult downloads every line of a preview with its outcome and, once
// the job reached it, its result.
func (p *Pages) bulkResult(w http.ResponseWriter, r *http.Request, v *visit) {
	id := r.PathValue("preview_id")
	if _, err := p.svc.People.BulkStatus(r.Context(), v.caller, v.view.Account.ID, id); err != nil {
		http.Error(w, p.message(r, err), statusOf(err))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="bulk-invitations-`+id+`.csv"`)
	out := csv.NewWriter(w)
	_ = out.Write([]string{"line", "email", "first_name", "last_name", "role", "home_folder", "outcome", "result", "message"})
	for after := 0; ; {
		rows, err := p.svc.People.BulkRows(r.Context(), v.caller, v.view.Account.ID, id, after, 1000)
		if err != nil || len(rows) == 0 {
			break
		}
		for _, row := range rows {
			_ = out.Write([]string{strconv.Itoa(row.Line), csvSafe(row.Email), csvSafe(row.FirstName), csvSafe(row.LastName),
				csvSafe(row.Role), csvSafe(row.HomeFolder), string(row.Outcome), row.Result, row.Message})
		}
		after = rows[len(rows)-1].Line
	}
	out.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell that came from an uploaded
// file as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type remoteData struct {
	Member    gatehouse.Member
	MayCreate bool
}

// remoteTab shows the account's remote monitoring user (R-RM1…R-RM3).
func (p *Pages) remoteTab(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderRemote(w, r, v, http.StatusOK)
}

func (p *Pages) renderRemote(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	data := remoteData{MayCreate: v.rights.RemoteMonitor}
	member, err := p.svc.People.RemoteMonitoringMember(r.Context(), v.caller, v.view.Account.ID)
	if err == nil {
		data.Member = member
	} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		v.view.Error = p.message(r, err)
	}
	v.view.Data = data
	p.renderPortal(w, r, status, "remote.html", v)
}

func (p *Pages) createRemote(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_, err := p.svc.People.CreateRemoteMonitoringUser(r.Context(), v.caller, v.view.Account.ID, r.PostFormValue("description"))
	if err != nil {
		var e *gatehouse.Error
		if errors.As(err, &e) && e.Field == "description" {
			v.view.FieldErrors = map[string]string{"description": e.Message}
		} else {
			v.view.Error = p.message(r, err)
		}
		p.renderRemote(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/remote-monitoring", "remote_created", ""), http.StatusSeeOther)
}

// remoteDetails downloads the connection details file (R-RM2).
func (p *Pages) remoteDetails(w http.ResponseWriter, r *http.Request, v *visit) {
	creds, err := p.svc.People.RemoteMonitoringConnectionDetails(r.Context(), v.caller, v.view.Account.ID)
	if err != nil {
		v.view.Error = p.message(r, err)
		p.renderRemote(w, r, v, statusOf(err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="remote-monitoring-`+v.view.Account.ID+`.txt"`)
	_, _ = w.Write([]byte(creds.Text()))
}

func (p *Pages) regenerateRemote(w http.ResponseWriter, r *http.Request, v *visit) {
	_, err := p.svc.People.RegenerateRemoteMonitoringCredentials(r.Context(), v.caller, v.view.Account.ID)
	p.finish(w, r, v, err, p.renderRemote, "/remote-monitoring", "remote_regenerated")
}

type clientsData struct {
	Query     string
	Clients   []gatehouse.Account
	Next      string
	MayCreate bool
}

// clientsTab lists an integrator's clients with a search box (R-T4).
func (p *Pages) clientsTab(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderClients(w, r, v, http.StatusOK)
}

func (p *Pages) renderClients(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	q := r.URL.Query()
	data := clientsData{Query: cutText(strings.TrimSpace(q.Get("q")), 200), MayCreate: v.rights.CreateClient}
	page, err := p.svc.Accounts.ListAccounts(r.Context(), v.caller, gatehouse.AccountFilter{Kind: gatehouse.KindClient,
		IntegratorID: v.view.Account.ID, Query: data.Query, Page: gatehouse.PageRequest{Limit: 50, Cursor: q.Get("cursor")}})
	if err != nil {
		v.view.Error = p.message(r, err)
	}
	data.Clients, data.Next = page.Items, page.NextCursor
	v.view.Data = data
	p.renderPortal(w, r, status, "clients.html", v)
}
