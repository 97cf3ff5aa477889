package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The audit log as people read it: who did what to whom, in the reader's
// language, with the names of people, roles, folders and groups rather
// than their ids, between two dates, and as a CSV file to keep.

type auditData struct {
	Events          []gatehouse.AuditEvent
	Next            string
	Action, ActorID string
	From, To        string // the dates of the range, as the form gives them
	Categories      []auditCategory
	Actors          []auditActor
	names           map[string]string
	texts           map[string]string
	CSV             string
	Query           string // the filters, for the next page's link
	// account is the account whose log this is: its time zone shows the
	// times the log keeps.
	account gatehouse.Account
}

type auditCategory struct{ Prefix, Label string }

type auditActor struct{ ID, Name string }

// ActorName shows who acted: a member by name, support and platform
// services by what they are.
func (d auditData) ActorName(id string) string {
	switch id {
	case "operator":
		return d.texts["operator"]
	case "check-token":
		return d.texts["audit_check_token"]
	case gatehouse.SystemActor:
		return d.texts["audit_system"]
	}
	if name, ok := d.names[id]; ok {
		return name
	}
	if strings.HasPrefix(id, gatehouse.SCIMActorPrefix) {
		return d.texts["scim_actor"]
	}
	return id
}

// Sentence says what an event did, in the reader's language.
func (d auditData) Sentence(action string) string {
	if text, ok := d.texts["audit_"+action]; ok {
		return text
	}
	return action
}

// TargetName names what an event acted on, where the page knows it.
func (d auditData) TargetName(id string) string {
	if name, ok := d.names[id]; ok {
		return name
	}
	return ""
}

// FieldName names a changed field in the reader's language.
func (d auditData) FieldName(field string) string {
	if text, ok := d.texts["field_"+field]; ok {
		return text
	}
	return field
}

// ChangeValue shows one value of a changed field as people read it: the
// path of a folder the log keeps by id, a level or a switch in words, and
// a word for no value at all.
func (d auditData) ChangeValue(field, value string) string {
	if value == "" {
		return d.texts["audit_no_value"]
	}
	key := ""
	switch field {
	case "home_folder_id", "parent_id":
		if name, ok := d.names[value]; ok {
			return name
		}
	case "level":
		key = "level_" + value
	case "expires_at":
		if t, err := time.Parse(time.RFC3339, value); err == nil {
			return t.UTC().Format("2006-01-02 15:04 UTC")
		}
	case "language":
		key = "audit_language_" + value
	case "client_admins_can_add_remote_monitoring":
		key = "audit_" + value
	case "status":
		key = "status_" + value
	case "provider_access_until":
		if at, err := time.Parse(time.RFC3339, value); err == nil {
			return localTime(at, d.account)
		}
	}
	if text, ok := d.texts[key]; ok {
		return text
	}
	return value
}

// localTime shows an instant in the account's time zone, naming the zone.
func localTime(t time.Time, a gatehouse.Account) string {
	loc := a.Location()
	return t.In(loc).Format("2006-01-02 15:04") + " (" + loc.String() + ")"
}

// changeLine is one change as the CSV export writes it.
func (d auditData) changeLine(changes []gatehouse.AuditChange) string {
	parts := make([]string, len(changes))
	for i, c := range changes {
		parts[i] = d.FieldName(c.Field) + ": " + d.ChangeValue(c.Field, c.Before) + " → " + d.ChangeValue(c.Field, c.After)
	}
	return strings.Join(parts, "; ")
}

// auditCategories are the filters of the audit page: the first word of
// every action.
var auditCategories = []string{"account.", "user.", "invitation.", "bulk_invitation.", "remote_monitoring.", "role.", "folder.", "group.",
	"grant.", "api_token.", "session.", "mfa.", "password.", "provider_access.", "oidc."}

// auditFilter reads the page's filters; the dates are whole days, the
// second one included.
func auditFilter(r *http.Request, data *auditData) gatehouse.AuditFilter {
	q := r.URL.Query()
	data.Action, data.ActorID = cutText(q.Get("action"), 100), cutText(q.Get("actor_id"), 100)
	f := gatehouse.AuditFilter{ActionPrefix: data.Action, ActorID: data.ActorID}
	if day, err := time.Parse(time.DateOnly, q.Get("from")); err == nil {
		f.Since, data.From = day, day.Format(time.DateOnly)
	}
	if day, err := time.Parse(time.DateOnly, q.Get("to")); err == nil {
		f.Until, data.To = day.AddDate(0, 0, 1), day.Format(time.DateOnly)
	}
	data.Query = url.Values{"action": {data.Action}, "actor_id": {data.ActorID}, "from": {data.From}, "to": {data.To}}.Encode()
	return f
}

// auditNames learns the names the page shows instead of ids: the account's
// members (by identity and by membership), the staff of a client's
// integrator (who act in it without being its members), invitations,
// roles, folders and groups, the platform's applications, and the account
// itself.
func (p *Pages) auditNames(ctx context.Context, v *visit, data *auditData) {
	data.names = map[string]string{v.view.Account.ID: v.view.Account.Name}
	data.account = v.view.Account
	account := v.view.Account.ID
	// The platform's applications people sign in to.
	apps, _ := p.svc.OIDC.ClientNames(ctx)
	for id, name := range apps {
		data.names[id] = name
	}
	if !v.rights.ReadMembers {
		return
	}
	members, _ := p.svc.People.Members(ctx, v.caller, account, gatehouse.PageRequest{Limit: 500})
	for _, m := range members.Items {
		name := m.Username
		if m.Level == gatehouse.LevelRemoteMonitoring {
			name = m.Description
		} else if full := strings.TrimSpace(m.FirstName + " " + m.LastName); full != "" {
			name = full + " (" + m.Username + ")"
		}
		data.names[m.UserID], data.names[m.ID] = name, name
		data.Actors = append(data.Actors, auditActor{ID: m.UserID, Name: name})
	}
	staff, _ := p.svc.Accounts.AuditStaff(ctx, v.caller, account)
	for _, u := range staff {
		if _, member := data.names[u.ID]; member {
			continue
		}
		name := u.Username
		if full := strings.TrimSpace(u.FirstName + " " + u.LastName); full != "" {
			name = full + " (" + u.Username + ")"
		}
		data.names[u.ID] = name
		data.Actors = append(data.Actors, auditActor{ID: u.ID, Name: name})
	}
	invitations, _ := p.svc.People.Invitations(ctx, v.caller, account, "", gatehouse.PageRequest{Limit: 500})
	for _, inv := range invitations.Items {
		data.names[inv.ID] = inv.Email
	}
	roles, _ := p.svc.Access.Roles(ctx, v.caller, account)
	for _, role := range roles {
		data.names[role.ID] = role.Name
	}
	folders, _ := p.svc.Access.Folders(ctx, v.caller, account, "", gatehouse.PageRequest{Limit: 500})
	for _, f := range folders.Items {
		data.names[f.ID] = f.Path
	}
	groups, _ := p.svc.Access.Groups(ctx, v.caller, account, gatehouse.PageRequest{Limit: 500})
	for _, g := range groups.Items {
		data.names[g.ID] = g.Name
	}
}

// auditTab shows the account's audit log, newest first, filtered by kind
// of change, by who made it and by dates (R-X1).
func (p *Pages) auditTab(w http.ResponseWriter, r *http.Request, v *visit) {
	data := auditData{texts: v.view.T}
	f := auditFilter(r, &data)
	for _, c := range auditCategories {
		label := v.view.T["audit_cat_"+strings.TrimSuffix(c, ".")]
		data.Categories = append(data.Categories, auditCategory{Prefix: c, Label: label})
	}
	p.auditNames(r.Context(), v, &data)
	f.Page = gatehouse.PageRequest{Limit: 50, Cursor: r.URL.Query().Get("cursor")}
	page, err := p.svc.Accounts.AuditEvents(r.Context(), v.caller, v.view.Account.ID, f)
	if err != nil {
		v.view.Error = p.message(r, err)
	}
	data.Events, data.Next = page.Items, page.NextCursor
	data.CSV = "/accounts/" + v.view.Account.ID + "/audit.csv?" + data.Query
	v.view.Data = data
	p.renderPortal(w, r, http.StatusOK, "audit.html", v)
}

// maxAuditExport bounds one CSV file of the audit log; a longer period is
// exported in parts, by dates.
const maxAuditExport = 50_000

// auditCSV sends the filtered audit log as a CSV file: one line an event,
// with its sentence and names beside the codes and ids a program reads.
func (p *Pages) auditCSV(w http.ResponseWriter, r *http.Request, v *visit) {
	data := auditData{texts: v.view.T}
	f := auditFilter(r, &data)
	p.auditNames(r.Context(), v, &data)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
	out := csv.NewWriter(w)
	_ = out.Write([]string{"at", "actor_id", "actor", "action", "what", "target_type", "target_id", "target", "ip", "request_id", "changes"})
	written := 0
	for written < maxAuditExport {
		f.Page.Limit = gatehouse.MaxPageLimit
		page, err := p.svc.Accounts.AuditEvents(r.Context(), v.caller, v.view.Account.ID, f)
		if err != nil {
			if written == 0 {
				w.Header().Del("Content-Disposition")
				v.view.Error = p.message(r, err)
				p.renderPortal(w, r, statusOf(err), "portal_error.html", v)
			}
			return
		}
		for _, e := range page.Items {
			_ = out.Write(safeCells(e.At.UTC().Format(time.RFC3339), e.ActorID, data.ActorName(e.ActorID), e.Action, data.Sentence(e.Action),
				e.TargetType, e.TargetID, data.TargetName(e.TargetID), e.IP, e.RequestID, data.changeLine(e.Changes)))
			written++
		}
		if page.NextCursor == "" {
			break
		}
		f.Page.Cursor = page.NextCursor
	}
	out.Flush()
}

// safeCells keeps a spreadsheet from reading a cell as a formula: names
// and addresses are typed by people.
func safeCells(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}
