package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
)

// Roles, folders, grants, groups, effective permissions (the API reference at /api/docs).

type roleJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions"`
	Builtin     bool       `json:"builtin"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
}

func toRoleJSON(r gatehouse.Role) roleJSON {
	out := roleJSON{ID: r.ID, Name: r.Name, Permissions: r.Permissions.Names(), Builtin: r.Builtin}
	if !r.CreatedAt.IsZero() {
		out.CreatedAt = &r.CreatedAt
	}
	return out
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) {
	roles, err := s.svc.Access.Roles(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(gatehouse.Page[gatehouse.Role]{Items: roles}, toRoleJSON))
}

func (s *Server) getRole(w http.ResponseWriter, r *http.Request) {
	role, err := s.svc.Access.Role(r.Context(), caller(r), r.PathValue("id"), r.PathValue("role_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRoleJSON(role))
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name        string   `json:"name"`
		Permissions []string `json:"permissions"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	role, err := s.svc.Access.CreateRole(r.Context(), caller(r), r.PathValue("id"), in.Name, in.Permissions)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toRoleJSON(role))
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name        *string   `json:"name"`
		Permissions *[]string `json:"permissions"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	role, err := s.svc.Access.UpdateRole(r.Context(), caller(r), r.PathValue("id"), r.PathValue("role_id"),
		access.RolePatch{Name: in.Name, Permissions: in.Permissions})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRoleJSON(role))
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Access.DeleteRole(r.Context(), caller(r), r.PathValue("id"), r.PathValue("role_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type folderJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ParentID  *string   `json:"parent_id"`
	Path      string    `json:"path"`
	CreatedAt time.Time `json:"created_at"`
}

func toFolderJSON(f access.FolderView) folderJSON {
	out := folderJSON{ID: f.ID, Name: f.Name, Path: f.Path, CreatedAt: f.CreatedAt}
	if f.ParentID != "" {
		out.ParentID = &f.ParentID
	}
	return out
}

// parentID reads a parent_id field: absent is nil, null is the top of the
// tree (""), a string is a folder id.
func parentID(raw json.RawMessage) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	var id *string
	if err := json.Unmarshal(raw, &id); err != nil {
		return nil, gatehouse.Invalid("parent_id", "parent_id must be a folder id or null")
	}
	if id == nil {
		top := ""
		return &top, nil
	}
	return id, nil
}

func (s *Server) createFolder(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string          `json:"name"`
		ParentID json.RawMessage `json:"parent_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	parent, err := parentID(in.ParentID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if parent == nil {
		parent = new(string)
	}
	folder, err := s.svc.Access.CreateFolder(r.Context(), caller(r), r.PathValue("id"), in.Name, *parent)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toFolderJSON(folder))
}

func (s *Server) listFolders(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	folders, err := s.svc.Access.Folders(r.Context(), caller(r), r.PathValue("id"), r.URL.Query().Get("parent_id"), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(folders, toFolderJSON))
}

func (s *Server) getFolder(w http.ResponseWriter, r *http.Request) {
	folder, err := s.svc.Access.Folder(r.Context(), caller(r), r.PathValue("id"), r.PathValue("folder_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toFolderJSON(folder))
}

func (s *Server) updateFolder(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     *string         `json:"name"`
		ParentID json.RawMessage `json:"parent_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	parent, err := parentID(in.ParentID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	folder, err := s.svc.Access.UpdateFolder(r.Context(), caller(r), r.PathValue("id"), r.PathValue("folder_id"),
		access.FolderPatch{Name: in.Name, ParentID: parent})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toFolderJSON(folder))
}

func (s *Server) deleteFolder(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Access.DeleteFolder(r.Context(), caller(r), r.PathValue("id"), r.PathValue("folder_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type grantJSON struct {
	ID        string    `json:"id"`
	FolderID  string    `json:"folder_id"`
	UserID    *string   `json:"user_id"`
	GroupID   *string   `json:"group_id"`
	Role      string    `json:"role"`
	RoleID    string    `json:"role_id"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the grant ends by itself; null for never.
	ExpiresAt *time.Time `json:"expires_at"`
}

func toGrantJSON(g access.GrantView) grantJSON {
	out := grantJSON{ID: g.ID, FolderID: g.FolderID, Role: g.Role, RoleID: g.RoleID, CreatedAt: g.CreatedAt,
		ExpiresAt: optionalTime(g.ExpiresAt)}
	if g.UserID != "" {
		out.UserID = &g.UserID
	}
	if g.GroupID != "" {
		out.GroupID = &g.GroupID
	}
	return out
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID    string          `json:"user_id"`
		GroupID   string          `json:"group_id"`
		Role      string          `json:"role"`
		ExpiresAt json.RawMessage `json:"expires_at"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	end, err := accessEnd(in.ExpiresAt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req := access.NewGrant{UserID: in.UserID, GroupID: in.GroupID, Role: in.Role, ExpiresAt: end}
	grant, err := s.svc.Access.CreateGrant(r.Context(), caller(r), r.PathValue("id"), r.PathValue("folder_id"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toGrantJSON(grant))
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	grants, err := s.svc.Access.Grants(r.Context(), caller(r), r.PathValue("id"), r.PathValue("folder_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(gatehouse.Page[access.GrantView]{Items: grants}, toGrantJSON))
}

func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Access.DeleteGrant(r.Context(), caller(r), r.PathValue("id"), r.PathValue("folder_id"), r.PathValue("grant_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type groupJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	UserIDs   *[]string `json:"user_ids,omitempty"` // one group's view only
	CreatedAt time.Time `json:"created_at"`
}

func toGroupJSON(g access.GroupView) groupJSON {
	out := groupJSON{ID: g.ID, Name: g.Name, Roles: g.Roles, CreatedAt: g.CreatedAt}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	return out
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	group, err := s.svc.Access.CreateGroup(r.Context(), caller(r), r.PathValue("id"), in.Name, in.Roles)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toGroupJSON(group))
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	groups, err := s.svc.Access.Groups(r.Context(), caller(r), r.PathValue("id"), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(groups, toGroupJSON))
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	group, members, err := s.svc.Access.Group(r.Context(), caller(r), r.PathValue("id"), r.PathValue("group_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toGroupJSON(group)
	if members == nil {
		members = []string{}
	}
	out.UserIDs = &members
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  *string   `json:"name"`
		Roles *[]string `json:"roles"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	group, err := s.svc.Access.UpdateGroup(r.Context(), caller(r), r.PathValue("id"), r.PathValue("group_id"),
		access.GroupPatch{Name: in.Name, Roles: in.Roles})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGroupJSON(group))
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Access.DeleteGroup(r.Context(), caller(r), r.PathValue("id"), r.PathValue("group_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) addGroupMember(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string `json:"user_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.Access.AddGroupMember(r.Context(), caller(r), r.PathValue("id"), r.PathValue("group_id"), in.UserID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) removeGroupMember(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Access.RemoveGroupMember(r.Context(), caller(r), r.PathValue("id"), r.PathValue("group_id"), r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Level         *gatehouse.Level   `json:"level"`
		Roles         *[]string          `json:"roles"`
		HomeFolderID  json.RawMessage    `json:"home_folder_id"`
		Notifications *notificationsJSON `json:"notifications"`
		ExpiresAt     json.RawMessage    `json:"expires_at"`
		Suspended     *bool              `json:"suspended"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	patch := people.MemberPatch{Level: in.Level, Roles: in.Roles, Suspended: in.Suspended}
	if in.Notifications != nil {
		n := gatehouse.Notifications(*in.Notifications)
		patch.Notifications = &n
	}
	if in.HomeFolderID != nil {
		var id *string
		if err := json.Unmarshal(in.HomeFolderID, &id); err != nil {
			s.writeError(w, r, gatehouse.Invalid("home_folder_id", "home_folder_id must be a folder id or null"))
			return
		}
		if id == nil {
			id = new(string)
		}
		patch.HomeFolderID = id
	}
	if in.ExpiresAt != nil {
		// A time ends the membership then; null makes it permanent.
		end, err := accessEnd(in.ExpiresAt)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		patch.ExpiresAt = &end
	}
	member, err := s.svc.People.UpdateMember(r.Context(), caller(r), r.PathValue("id"), r.PathValue("membership_id"), patch)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMembershipJSON(member))
}

// accessEnd reads the expires_at of a membership or a grant: a time in RFC
// 3339, or null (or nothing) for none, the zero time.
func accessEnd(raw json.RawMessage) (time.Time, error) {
	var end *time.Time
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &end); err != nil {
			return time.Time{}, gatehouse.Invalid("expires_at", "expires_at must be a time in RFC 3339, such as 2026-12-01T18:00:00Z, or null")
		}
	}
	if end == nil {
		return time.Time{}, nil
	}
	return *end, nil
}

type permissionSourceJSON struct {
	Permission string  `json:"permission"`
	FolderID   *string `json:"folder_id"`
	FolderPath *string `json:"folder_path"`
	Via        string  `json:"via"`
	Level      string  `json:"level,omitempty"`
	Role       string  `json:"role,omitempty"`
	RoleID     string  `json:"role_id,omitempty"`
	GroupID    string  `json:"group_id,omitempty"`
	Group      string  `json:"group,omitempty"`
	GrantID    string  `json:"grant_id,omitempty"`
}

func (s *Server) memberPermissions(w http.ResponseWriter, r *http.Request) {
	member, sources, err := s.svc.People.EffectivePermissions(r.Context(), caller(r), r.PathValue("id"), r.PathValue("membership_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		MembershipID string                 `json:"membership_id"`
		UserID       string                 `json:"user_id"`
		Level        string                 `json:"level"`
		Status       string                 `json:"status"`
		Effective    bool                   `json:"effective"`
		HomeFolderID *string                `json:"home_folder_id"`
		AccountWide  []string               `json:"account_wide"`
		Sources      []permissionSourceJSON `json:"sources"`
	}{MembershipID: member.ID, UserID: member.UserID, Level: string(member.Level), Status: string(member.Status),
		Effective: member.Status == gatehouse.MembershipActive && !member.Expired(s.svc.Now()), Sources: []permissionSourceJSON{}}
	if member.HomeFolderID != "" {
		out.HomeFolderID = &member.HomeFolderID
	}
	var accountWide gatehouse.PermissionSet
	for _, src := range sources {
		item := permissionSourceJSON{Permission: src.Permission, Via: src.Via, Level: string(src.Level),
			RoleID: src.RoleID, Role: src.RoleName, GroupID: src.GroupID, Group: src.GroupName, GrantID: src.GrantID}
		if src.FolderID == "" {
			accountWide |= gatehouse.PermissionBit(src.Permission)
		} else {
			item.FolderID, item.FolderPath = &src.FolderID, &src.FolderPath
		}
		out.Sources = append(out.Sources, item)
	}
	out.AccountWide = accountWide.Names()
	writeJSON(w, http.StatusOK, out)
}
