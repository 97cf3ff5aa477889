package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The lists of users and invitations: a search, filters by status (and
// level), pages that keep them, and actions on several people at once.

// selectionLimit bounds how many people one action on a selection touches.
const selectionLimit = 100

type usersData struct {
	// Pending counts the invitations waiting; Recent is the latest changes.
	Pending int
	Recent  auditData
	// Full is set for the administrators of a site at its limit.
	Full             bool
	Members          []gatehouse.Member
	Next             string
	Used, Max        int
	MayAdd           bool
	MayManage        bool // may act on the people listed
	CannotSeeMembers bool
	Filter           listFilter
	texts            map[string]string
	now              time.Time
	// ProviderRequest is the service provider's request for access that
	// waits for the site's administrators (R-PV3), shown to them.
	ProviderRequest string
}

// AccessLeft says when a member's access ends and how long is left, ""
// for access without an end.
func (d usersData) AccessLeft(m gatehouse.Member) string {
	return accessLeft(d.texts, m.ExpiresAt, d.now)
}

// listFilter is a list's search and filters as the page's query gives
// them; Query keeps them in the links to further pages.
type listFilter struct {
	Q, Status, Level string
	Levels           []gatehouse.Level
	Statuses         []string
	// AnyStatus offers "any status" (the users list); the invitations
	// list offers "all" among its statuses instead.
	AnyStatus bool
	Filtered  bool
}

// NextPage is the address of the page after cursor, with the same search.
func (f listFilter) NextPage(cursor string) string {
	q := url.Values{"cursor": {cursor}}
	for k, v := range map[string]string{"q": f.Q, "status": f.Status, "level": f.Level} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return "?" + q.Encode()
}

func readFilter(r *http.Request) listFilter {
	q := r.URL.Query()
	f := listFilter{Q: cutText(strings.TrimSpace(q.Get("q")), 200), Status: q.Get("status"), Level: q.Get("level")}
	f.Filtered = f.Q != "" || f.Status != "" || f.Level != ""
	return f
}

// usersTab lists the account's users with their status (R-M1) and the
// client-user limit (R-L1), searched and filtered.
func (p *Pages) usersTab(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderUsers(w, r, v, http.StatusOK)
}

func (p *Pages) renderUsers(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	data := usersData{MayAdd: v.rights.ManageMembers, MayManage: v.rights.ManageMembers, Filter: readFilter(r),
		texts: v.view.T, now: p.now()}
	data.Filter.AnyStatus = true
	data.Filter.Statuses = []string{string(gatehouse.MembershipActive), string(gatehouse.MembershipActivationRequired)}
	data.Filter.Levels = []gatehouse.Level{gatehouse.LevelClientAdmin, gatehouse.LevelClientUser, gatehouse.LevelRemoteMonitoring}
	if v.view.Account.Kind == gatehouse.KindIntegrator {
		data.Filter.Levels = []gatehouse.Level{gatehouse.LevelIntegratorAdmin, gatehouse.LevelIntegratorUser}
	}
	// A full site offers no "Add a user" that would only be refused, and
	// says what to do instead.
	if v.view.Account.Kind == gatehouse.KindClient && v.rights.ReadMembers && v.rights.ClientUsers >= v.rights.MaxClientUsers {
		data.Full, data.MayAdd = v.rights.ManageMembers, false
	}
	if v.rights.DecideProviderAccess {
		waiting, _ := p.svc.Accounts.ProviderAccessRequests(r.Context(), v.caller, v.view.Account.ID, gatehouse.ProviderAccessRequestFilter{
			Status: gatehouse.ProviderAccessPending, Page: gatehouse.PageRequest{Limit: 1}})
		if len(waiting.Items) > 0 {
			data.ProviderRequest = waiting.Items[0].ID
		}
	}
	if v.rights.ReadMembers {
		cursor := r.URL.Query().Get("cursor")
		page, err := p.svc.People.FindMembers(r.Context(), v.caller, v.view.Account.ID, gatehouse.MemberFilter{Query: data.Filter.Q,
			Status: gatehouse.MembershipStatus(data.Filter.Status), Level: gatehouse.Level(data.Filter.Level), Page: gatehouse.PageRequest{Limit: 50, Cursor: cursor}})
		if err != nil {
			v.view.Error, status = p.message(r, err), statusOf(err)
		}
		data.Members, data.Next = page.Items, page.NextCursor
		data.Used, data.Max = v.rights.ClientUsers, v.rights.MaxClientUsers
		// The overview of the first page: what waits, what changed lately.
		if cursor == "" && !data.Filter.Filtered {
			pending, _ := p.svc.People.Invitations(r.Context(), v.caller, v.view.Account.ID, gatehouse.InvitationPending, gatehouse.PageRequest{Limit: 100})
			data.Pending = len(pending.Items)
			if v.rights.ReadAudit {
				recent, _ := p.svc.Accounts.AuditEvents(r.Context(), v.caller, v.view.Account.ID, gatehouse.AuditFilter{Page: gatehouse.PageRequest{Limit: 5}})
				data.Recent = auditData{Events: recent.Items, texts: v.view.T}
				p.auditNames(r.Context(), v, &data.Recent)
			}
		}
	}
	v.view.Data = data
	p.renderPortal(w, r, status, "account_users.html", v)
}

type invitationsData struct {
	Invitations []gatehouse.Invitation
	Next        string
	Filter      listFilter
}

func (p *Pages) invitationsTab(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderInvitations(w, r, v, http.StatusOK)
}

// renderInvitations lists the account's invitations, pending ones unless
// the page asks for another status.
func (p *Pages) renderInvitations(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	f := readFilter(r)
	f.Statuses = []string{"pending", "expired", "accepted", "cancelled", "all"}
	if f.Status == "" {
		f.Status = "pending"
	}
	which := gatehouse.InvitationStatus(f.Status)
	if which == "all" {
		which = ""
	}
	page, err := p.svc.People.FindInvitations(r.Context(), v.caller, v.view.Account.ID, gatehouse.InvitationFilter{Status: which, Query: f.Q,
		Page: gatehouse.PageRequest{Limit: 50, Cursor: r.URL.Query().Get("cursor")}})
	if err != nil && v.view.Error == "" {
		v.view.Error, status = p.message(r, err), statusOf(err)
	}
	v.view.Data = invitationsData{Invitations: page.Items, Next: page.NextCursor, Filter: f}
	p.renderPortal(w, r, status, "invitations.html", v)
}

// selectionData is the confirmation of an action on several people, or its
// outcome: each person by name, with what happened to them.
type selectionData struct {
	Action, Question, Consequence, Button, Back, Post string
	Items                                             []selectionItem
	Done                                              bool
	Succeeded, Failed                                 int
}

type selectionItem struct {
	ID, Name, Outcome string
	Failed            bool
}

// selectionAction acts on the people ticked in a list: on the users list
// remove, or resend the invitation of those who have not activated; on
// the invitations list resend or cancel. What loses something (remove,
// cancel) first shows a page naming everyone it touches; its form posts
// the same selection back with confirmed set. Each person goes through
// the same use case as on their own page, so a refusal for one (a person
// the caller may not remove) is said beside their name and stops nobody
// else.
func (p *Pages) selectionAction(list string) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		_ = r.ParseForm()
		ctx := r.Context()
		account := v.view.Account.ID
		action, ids := r.PostForm.Get("action"), slices.Compact(slices.Sorted(slices.Values(r.PostForm["ids"])))
		back := "/accounts/" + account
		if list == "invitations" {
			back += "/invitations"
		}
		allowed := map[string][]string{"users": {"remove", "resend"}, "invitations": {"resend", "cancel"}}[list]
		switch {
		case !slices.Contains(allowed, action):
			v.view.Error = v.view.T["selection_pick_action"]
		case len(ids) == 0:
			v.view.Error = v.view.T["selection_empty"]
		case len(ids) > selectionLimit:
			v.view.Error = v.view.T["selection_too_many"]
		}
		if v.view.Error != "" {
			if list == "users" {
				p.renderUsers(w, r, v, http.StatusBadRequest)
			} else {
				p.renderInvitations(w, r, v, http.StatusBadRequest)
			}
			return
		}
		data := selectionData{Action: action, Back: back, Post: r.URL.Path}
		targets := p.selectionTargets(r, v, list, action, ids)
		destructive := action == "remove" || action == "cancel"
		if destructive && r.PostForm.Get("confirmed") == "" {
			data.Question = v.view.T["confirm_selection_"+list+"_"+action]
			data.Consequence = v.view.T["confirm_selection_"+list+"_"+action+"_loses"]
			data.Button = v.view.T["selection_"+list+"_"+action]
			data.Items = targets
			v.view.Data = data
			p.renderPortal(w, r, http.StatusOK, "selection.html", v)
			return
		}
		for i, t := range targets {
			if t.Failed {
				data.Failed++
				continue
			}
			var err error
			switch {
			case list == "users" && action == "remove":
				err = p.svc.People.RemoveUser(ctx, v.caller, account, t.ID)
			case list == "invitations" && action == "cancel":
				_, err = p.svc.People.CancelInvitation(ctx, v.caller, t.ID)
			default: // resend; on the users list ID is the member's invitation
				_, err = p.svc.People.ResendInvitation(ctx, v.caller, t.ID)
			}
			if err != nil {
				targets[i].Failed, targets[i].Outcome = true, p.message(r, err)
				data.Failed++
				continue
			}
			targets[i].Outcome = v.view.T["selection_done_"+action]
			data.Succeeded++
		}
		data.Done, data.Items = true, targets
		v.view.Data = data
		p.renderPortal(w, r, http.StatusOK, "selection.html", v)
	}
}

// selectionTargets names the people of a selection. On the users list,
// resending acts on each member's pending invitation. An id that is not
// the account's (or has nothing to resend) stays in the list, failed, so
// the page says so rather than acting on it.
func (p *Pages) selectionTargets(r *http.Request, v *visit, list, action string, ids []string) []selectionItem {
	ctx := r.Context()
	account := v.view.Account.ID
	items := make([]selectionItem, 0, len(ids))
	var pending map[string]gatehouse.Invitation // by membership
	if list == "users" && action == "resend" {
		pending = map[string]gatehouse.Invitation{}
		page, _ := p.svc.People.Invitations(ctx, v.caller, account, gatehouse.InvitationPending, gatehouse.PageRequest{Limit: 500})
		for _, inv := range page.Items {
			pending[inv.MembershipID] = inv
		}
	}
	for _, id := range ids {
		item := selectionItem{ID: id, Name: id}
		if list == "users" {
			m, err := p.svc.People.Member(ctx, v.caller, account, id)
			if err != nil {
				item.Failed, item.Outcome = true, p.message(r, err)
			} else {
				item.Name = memberLabel(m)
				if pending != nil {
					if inv, ok := pending[m.ID]; ok {
						item.ID = inv.ID
					} else {
						item.Failed, item.Outcome = true, v.view.T["selection_nothing_to_resend"]
					}
				}
			}
		} else {
			inv, err := p.svc.People.Invitation(ctx, v.caller, id)
			if err == nil && inv.AccountID != account {
				err = gatehouse.NotFound("invitation")
			}
			if err != nil {
				item.Failed, item.Outcome = true, p.message(r, err)
			} else {
				item.Name = inv.Email
			}
		}
		items = append(items, item)
	}
	return items
}

// memberLabel names a member for a list: their description (the remote
// monitoring user), their names, or else their username.
func memberLabel(m gatehouse.Member) string {
	switch {
	case m.Description != "":
		return m.Description
	case strings.TrimSpace(m.FirstName+" "+m.LastName) != "":
		return strings.TrimSpace(m.FirstName+" "+m.LastName) + " (" + m.Username + ")"
	}
	return m.Username
}
