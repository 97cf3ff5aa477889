package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The pages of who may do what, where (R-A1…R-A4): roles, the folder tree
// with its grants, groups; and the audit log (R-X1). Every change goes
// through the same use cases as the API, which decide whether it is allowed.

type rolesData struct {
	Roles     []gatehouse.Role
	MayManage bool
	Editing   gatehouse.Role
	Catalogue []permissionChoice
}

type permissionChoice struct {
	Name    string
	Checked bool
}

func catalogue(checked gatehouse.PermissionSet) []permissionChoice {
	out := make([]permissionChoice, len(gatehouse.Permissions))
	for i, p := range gatehouse.Permissions {
		out[i] = permissionChoice{Name: p, Checked: checked.Has(gatehouse.PermissionBit(p))}
	}
	return out
}

func (p *Pages) rolesData(r *http.Request, v *visit, editing gatehouse.Role) rolesData {
	roles, err := p.svc.Access.Roles(r.Context(), v.caller, v.view.Account.ID)
	if err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	return rolesData{Roles: roles, MayManage: v.rights.ManageMembers, Editing: editing, Catalogue: catalogue(editing.Permissions)}
}

func (p *Pages) rolesTab(w http.ResponseWriter, r *http.Request, v *visit) {
	var editing gatehouse.Role
	if id := r.PathValue("role_id"); id != "" {
		role, err := p.svc.Access.Role(r.Context(), v.caller, v.view.Account.ID, id)
		if err != nil {
			v.view.Error = p.message(r, err)
		}
		editing = role
	}
	v.view.Data = p.rolesData(r, v, editing)
	p.renderPortal(w, r, http.StatusOK, "roles.html", v)
}

// fieldError puts a coded error at its field, or above the form.
func (p *Pages) fieldError(r *http.Request, v *visit, err error) {
	var e *gatehouse.Error
	if errors.As(err, &e) && e.Field != "" {
		v.view.FieldErrors = map[string]string{}
		for _, one := range append([]*gatehouse.Error{e}, e.Also...) {
			text := localized(v.view.T, one)
			if one.Code == gatehouse.EINVALID {
				// The use cases explain a refused value for programmers, in
				// English; a page says what to do, in its own language,
				// by field.
				if people, ok := v.view.T["invalid_"+one.Field]; ok {
					text = people
				} else if v.view.Lang != "en" {
					text = v.view.T["error_validation_failed"]
				}
			}
			v.view.FieldErrors[one.Field] = text
		}
		return
	}
	if errors.As(err, &e) && e.Code != gatehouse.EINVALID {
		if text, ok := v.view.T["error_"+e.Code]; ok {
			v.view.Error = text
			return
		}
	}
	v.view.Error = p.message(r, err)
}

// localized is a coded error in the page's language where the portal has
// the words for its code, and the service's words otherwise.
func localized(texts map[string]string, e *gatehouse.Error) string {
	if e.Code == gatehouse.ECONFLICT && e.Field == "name" {
		return texts["error_name_taken"]
	}
	if text, ok := texts["error_"+e.Code]; ok && e.Code != gatehouse.EINVALID {
		return text
	}
	return e.Message
}

// saveRole creates a custom role, or changes one (its name, its
// permissions).
func (p *Pages) saveRole(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	_ = r.ParseForm()
	name, perms := r.PostForm.Get("name"), r.PostForm["permissions"]
	if perms == nil {
		perms = []string{}
	}
	var err error
	if id := r.PathValue("role_id"); id != "" {
		_, err = p.svc.Access.UpdateRole(r.Context(), v.caller, v.view.Account.ID, id, access.RolePatch{Name: &name, Permissions: &perms})
	} else {
		_, err = p.svc.Access.CreateRole(r.Context(), v.caller, v.view.Account.ID, name, perms)
	}
	if err != nil {
		p.fieldError(r, v, err)
		v.view.Data = p.rolesData(r, v, gatehouse.Role{ID: r.PathValue("role_id"), Name: name, Permissions: gatehouse.PermissionSetOf(perms...)})
		p.renderPortal(w, r, statusOf(err), "roles.html", v)
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/roles", "saved_flash", name), http.StatusSeeOther)
}

func (p *Pages) deleteRole(w http.ResponseWriter, r *http.Request, v *visit) {
	err := p.svc.Access.DeleteRole(r.Context(), v.caller, v.view.Account.ID, r.PathValue("role_id"))
	p.finish(w, r, v, err, p.renderRoles, "/roles", "deleted_flash")
}

func (p *Pages) renderRoles(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	v.view.Data = p.rolesData(r, v, gatehouse.Role{})
	p.renderPortal(w, r, status, "roles.html", v)
}

type foldersData struct {
	Folders   []folderRow
	MayManage bool
	// A folder's own page: its grants and what may be granted.
	Folder  folderRow
	Grants  []grantRow
	Members []gatehouse.Member
	Groups  []access.GroupView
	Roles   []gatehouse.Role
}

type folderRow struct {
	ID, Name, Path string
	Indent         int
}

type grantRow struct {
	ID, Who, Role string
	// Until says when the grant ends and how long is left; "" for never.
	Until string
}

func (p *Pages) allFolders(r *http.Request, v *visit) []folderRow {
	var rows []folderRow
	for cursor := ""; ; {
		page, err := p.svc.Access.Folders(r.Context(), v.caller, v.view.Account.ID, "", gatehouse.PageRequest{Limit: 500, Cursor: cursor})
		if err != nil {
			v.view.Error = p.message(r, err)
			return rows
		}
		for _, f := range page.Items {
			rows = append(rows, folderRow{ID: f.ID, Name: f.Name, Path: f.Path, Indent: 2 * (strings.Count(f.Path, "/") - 1)})
		}
		if cursor = page.NextCursor; cursor == "" || len(rows) >= 2000 {
			return rows
		}
	}
}

func (p *Pages) foldersTab(w http.ResponseWriter, r *http.Request, v *visit) {
	v.view.Data = foldersData{Folders: p.allFolders(r, v), MayManage: v.rights.ManageMembers}
	p.renderPortal(w, r, http.StatusOK, "folders.html", v)
}

func (p *Pages) createFolder(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name := r.PostFormValue("name")
	if _, err := p.svc.Access.CreateFolder(r.Context(), v.caller, v.view.Account.ID, name, r.PostFormValue("parent_id")); err != nil {
		p.fieldError(r, v, err)
		v.view.Data = foldersData{Folders: p.allFolders(r, v), MayManage: v.rights.ManageMembers}
		p.renderPortal(w, r, statusOf(err), "folders.html", v)
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/folders", "saved_flash", name), http.StatusSeeOther)
}

// folderPage shows one folder's grants, and lets administrators grant a
// role on it (and everything under it) to a member or a group.
func (p *Pages) folderPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderFolder(w, r, v, http.StatusOK)
}

func (p *Pages) renderFolder(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	ctx, account, id := r.Context(), v.view.Account.ID, r.PathValue("folder_id")
	folder, err := p.svc.Access.Folder(ctx, v.caller, account, id)
	if err != nil {
		v.view.Error = p.message(r, err)
		v.view.Data = foldersData{Folders: p.allFolders(r, v)}
		p.renderPortal(w, r, statusOf(err), "folders.html", v)
		return
	}
	data := foldersData{Folder: folderRow{ID: folder.ID, Name: folder.Name, Path: folder.Path}, MayManage: v.rights.ManageMembers}
	names := map[string]string{}
	if v.rights.ReadMembers {
		members, _ := p.svc.People.Members(ctx, v.caller, account, gatehouse.PageRequest{Limit: 500})
		for _, m := range members.Items {
			if m.Level == gatehouse.LevelClientUser || m.Level == gatehouse.LevelIntegratorUser {
				data.Members = append(data.Members, m)
			}
			names["user:"+m.UserID] = strings.TrimSpace(m.FirstName + " " + m.LastName + " (" + m.Username + ")")
		}
		groups, _ := p.svc.Access.Groups(ctx, v.caller, account, gatehouse.PageRequest{Limit: 500})
		data.Groups = groups.Items
		for _, g := range groups.Items {
			names["group:"+g.ID] = v.view.T["group"] + ": " + g.Name
		}
		data.Roles, _ = p.svc.Access.Roles(ctx, v.caller, account)
	}
	grants, err := p.svc.Access.Grants(ctx, v.caller, account, folder.ID)
	if err != nil && v.view.Error == "" {
		v.view.Error = p.message(r, err)
	}
	for _, g := range grants {
		who := names["user:"+g.UserID]
		if g.GroupID != "" {
			who = names["group:"+g.GroupID]
		}
		if who == "" {
			who = g.UserID + g.GroupID
		}
		data.Grants = append(data.Grants, grantRow{ID: g.ID, Who: who, Role: g.Role, Until: accessLeft(v.view.T, g.ExpiresAt, p.now())})
	}
	v.view.Data = data
	p.renderPortal(w, r, status, "folders.html", v)
}

func (p *Pages) addGrant(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	in := access.NewGrant{Role: r.PostFormValue("role")}
	kind, id, _ := strings.Cut(r.PostFormValue("grantee"), ":")
	switch kind {
	case "user":
		in.UserID = id
	case "group":
		in.GroupID = id
	}
	folder := r.PathValue("folder_id")
	end, err := readAccessEnd(r.PostFormValue("expires_at"))
	if err == nil {
		in.ExpiresAt = end
		_, err = p.svc.Access.CreateGrant(r.Context(), v.caller, v.view.Account.ID, folder, in)
	}
	if err != nil {
		v.view.Form = r.PostForm
		p.fieldError(r, v, err)
		p.renderFolder(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/folders/"+folder, "saved_flash", ""), http.StatusSeeOther)
}

// finish ends a change made from a page: the same page again with the
// error, or the page where the change shows, with a flash message.
func (p *Pages) finish(w http.ResponseWriter, r *http.Request, v *visit, err error, again func(http.ResponseWriter, *http.Request, *visit, int), to, done string) {
	if err != nil {
		v.view.Error = p.message(r, err)
		again(w, r, v, statusOf(err))
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+to, done, ""), http.StatusSeeOther)
}

func (p *Pages) deleteGrant(w http.ResponseWriter, r *http.Request, v *visit) {
	folder := r.PathValue("folder_id")
	err := p.svc.Access.DeleteGrant(r.Context(), v.caller, v.view.Account.ID, folder, r.PathValue("grant_id"))
	p.finish(w, r, v, err, p.renderFolder, "/folders/"+folder, "deleted_flash")
}

func (p *Pages) deleteFolder(w http.ResponseWriter, r *http.Request, v *visit) {
	err := p.svc.Access.DeleteFolder(r.Context(), v.caller, v.view.Account.ID, r.PathValue("folder_id"))
	p.finish(w, r, v, err, p.renderFolder, "/folders", "deleted_flash")
}

type groupsData struct {
	Groups    []access.GroupView
	Roles     []gatehouse.Role
	MayManage bool
	Group     access.GroupView
	InGroup   []gatehouse.Member
	Members   []gatehouse.Member
}

func (p *Pages) groupsTab(w http.ResponseWriter, r *http.Request, v *visit) {
	groups, err := p.svc.Access.Groups(r.Context(), v.caller, v.view.Account.ID, gatehouse.PageRequest{Limit: 500})
	if err != nil {
		v.view.Error = p.message(r, err)
	}
	roles, _ := p.svc.Access.Roles(r.Context(), v.caller, v.view.Account.ID)
	v.view.Data = groupsData{Groups: groups.Items, Roles: roles, MayManage: v.rights.ManageMembers}
	p.renderPortal(w, r, http.StatusOK, "groups.html", v)
}

func (p *Pages) createGroup(w http.ResponseWriter, r *http.Request, v *visit) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_ = r.ParseForm()
	roles := r.PostForm["roles"]
	if roles == nil {
		roles = []string{}
	}
	if _, err := p.svc.Access.CreateGroup(r.Context(), v.caller, v.view.Account.ID, r.PostForm.Get("name"), roles); err != nil {
		p.fieldError(r, v, err)
		groups, _ := p.svc.Access.Groups(r.Context(), v.caller, v.view.Account.ID, gatehouse.PageRequest{Limit: 500})
		allRoles, _ := p.svc.Access.Roles(r.Context(), v.caller, v.view.Account.ID)
		v.view.Data = groupsData{Groups: groups.Items, Roles: allRoles, MayManage: v.rights.ManageMembers}
		p.renderPortal(w, r, statusOf(err), "groups.html", v)
		return
	}
	http.Redirect(w, r, doneURL("/accounts/"+v.view.Account.ID+"/groups", "saved_flash", r.PostForm.Get("name")), http.StatusSeeOther)
}

func (p *Pages) groupPage(w http.ResponseWriter, r *http.Request, v *visit) {
	p.renderGroup(w, r, v, http.StatusOK)
}

func (p *Pages) renderGroup(w http.ResponseWriter, r *http.Request, v *visit, status int) {
	ctx, account := r.Context(), v.view.Account.ID
	group, memberIDs, err := p.svc.Access.Group(ctx, v.caller, account, r.PathValue("group_id"))
	if err != nil {
		v.view.Error = p.message(r, err)
		v.view.Data = groupsData{}
		p.renderPortal(w, r, statusOf(err), "groups.html", v)
		return
	}
	data := groupsData{Group: group, MayManage: v.rights.ManageMembers}
	in := map[string]bool{}
	for _, id := range memberIDs {
		in[id] = true
	}
	members, _ := p.svc.People.Members(ctx, v.caller, account, gatehouse.PageRequest{Limit: 500})
	for _, m := range members.Items {
		switch {
		case in[m.UserID]:
			data.InGroup = append(data.InGroup, m)
		case m.Level != gatehouse.LevelRemoteMonitoring:
			data.Members = append(data.Members, m)
		}
	}
	v.view.Data = data
	p.renderPortal(w, r, status, "groups.html", v)
}

func (p *Pages) groupMember(add bool) func(http.ResponseWriter, *http.Request, *visit) {
	return func(w http.ResponseWriter, r *http.Request, v *visit) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		group := r.PathValue("group_id")
		var err error
		if add {
			err = p.svc.Access.AddGroupMember(r.Context(), v.caller, v.view.Account.ID, group, r.PostFormValue("user_id"))
		} else {
			err = p.svc.Access.RemoveGroupMember(r.Context(), v.caller, v.view.Account.ID, group, r.PathValue("user_id"))
		}
		p.finish(w, r, v, err, p.renderGroup, "/groups/"+group, "saved_flash")
	}
}

func (p *Pages) deleteGroup(w http.ResponseWriter, r *http.Request, v *visit) {
	err := p.svc.Access.DeleteGroup(r.Context(), v.caller, v.view.Account.ID, r.PathValue("group_id"))
	p.finish(w, r, v, err, p.renderGroup, "/groups", "deleted_flash")
}
