package httpapi

import (
	"encoding/json"
	"mime"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/photo"
)

type membershipJSON struct {
	ID            string            `json:"id"`
	AccountID     string            `json:"account_id"`
	UserID        string            `json:"user_id"`
	Username      string            `json:"username"`
	FirstName     string            `json:"first_name"`
	LastName      string            `json:"last_name"`
	Email         string            `json:"email"`
	Language      string            `json:"language"`
	Level         string            `json:"level"`
	Status        string            `json:"status"`
	Roles         []string          `json:"roles"`
	HomeFolderID  *string           `json:"home_folder_id"`
	Notifications notificationsJSON `json:"notifications"`
	Description   string            `json:"description,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	// ExpiresAt is when the membership ends by itself; null for never.
	ExpiresAt *time.Time `json:"expires_at"`
	// ExternalID is the account's directory's id for the person (SCIM);
	// SuspendedAt when the directory suspended the membership, null while
	// it is not.
	ExternalID  *string    `json:"external_id"`
	SuspendedAt *time.Time `json:"suspended_at"`
}

type notificationsJSON struct {
	Enabled bool `json:"enabled"`
	Email   bool `json:"email"`
	SMS     bool `json:"sms"`
}

func toMembershipJSON(m gatehouse.Member) membershipJSON {
	out := membershipJSON{ID: m.ID, AccountID: m.AccountID, UserID: m.UserID, Username: m.Username,
		FirstName: m.FirstName, LastName: m.LastName, Email: m.Email, Language: m.Language,
		Level: string(m.Level), Status: string(m.Status), Roles: m.Roles,
		Notifications: notificationsJSON(m.Notifications), Description: m.Description, CreatedAt: m.CreatedAt}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	if m.HomeFolderID != "" {
		out.HomeFolderID = &m.HomeFolderID
	}
	out.ExpiresAt, out.SuspendedAt = optionalTime(m.ExpiresAt), optionalTime(m.SuspendedAt)
	if m.ExternalID != "" {
		out.ExternalID = &m.ExternalID
	}
	return out
}

// optionalTime is a time for JSON: null for none.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username         string             `json:"username"`
		FirstName        string             `json:"first_name"`
		LastName         string             `json:"last_name"`
		Email            string             `json:"email"`
		Language         string             `json:"language"`
		Level            string             `json:"level"`
		IdentityProvider string             `json:"identity_provider"`
		Roles            []string           `json:"roles"`
		HomeFolderID     string             `json:"home_folder_id"`
		Phone            string             `json:"phone"`
		UserType         string             `json:"user_type"`
		MFARequired      bool               `json:"mfa_required"`
		Notifications    *notificationsJSON `json:"notifications"`
		ExpiresAt        json.RawMessage    `json:"expires_at"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var notify gatehouse.Notifications
	if in.Notifications != nil {
		notify = gatehouse.Notifications(*in.Notifications)
	}
	expiresAt, err := accessEnd(in.ExpiresAt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	member, err := s.svc.People.AddUser(r.Context(), caller(r), r.PathValue("id"), people.NewMember{
		Username: in.Username, FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Language: in.Language,
		Level: gatehouse.Level(in.Level), IdentityProvider: in.IdentityProvider, Roles: in.Roles,
		HomeFolderID: in.HomeFolderID, Phone: in.Phone, UserType: in.UserType, Notifications: notify, MFARequired: in.MFARequired,
		ExpiresAt: expiresAt,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/accounts/"+member.AccountID+"/users/"+member.ID)
	writeJSON(w, http.StatusCreated, toMembershipJSON(member))
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	members, err := s.svc.People.FindMembers(r.Context(), caller(r), r.PathValue("id"), gatehouse.MemberFilter{Query: q.Get("q"),
		Status: gatehouse.MembershipStatus(q.Get("status")), Level: gatehouse.Level(q.Get("level")), Page: page})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(members, toMembershipJSON))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	member, err := s.svc.People.Member(r.Context(), caller(r), r.PathValue("id"), r.PathValue("membership_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMembershipJSON(member))
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.People.RemoveUser(r.Context(), caller(r), r.PathValue("id"), r.PathValue("membership_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type userJSON struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Language  string `json:"language"`
	Phone     string `json:"phone"`
	UserType  string `json:"user_type"`
	Status    string `json:"status"`
	// PendingUsername is a new username waiting for the link mailed to it.
	PendingUsername string `json:"pending_username,omitempty"`
}

func toUserJSON(u gatehouse.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Language: u.Language,
		Phone: u.Phone, UserType: u.UserType, Status: string(u.Status)}
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FirstName *string `json:"first_name"`
		LastName  *string `json:"last_name"`
		Language  *string `json:"language"`
		Phone     *string `json:"phone"`
		UserType  *string `json:"user_type"`
		Username  *string `json:"username"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	update, err := s.svc.People.UpdateProfile(r.Context(), caller(r), r.PathValue("user_id"), people.ProfilePatch{
		FirstName: in.FirstName, LastName: in.LastName, Language: in.Language, Phone: in.Phone, UserType: in.UserType,
		Username: in.Username})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toUserJSON(update.User)
	out.PendingUsername = update.PendingUsername
	writeJSON(w, http.StatusOK, out)
}

// confirmUsername follows the link mailed to a new username (no token
// needed: the link's secret is the proof).
func (s *Server) confirmUsername(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	user, err := s.svc.People.ConfirmUsernameChange(r.Context(), clientIP(r), requestID(r.Context()), in.Token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(user))
}

// putPhoto stores a profile photo (the API reference at /api/docs): the body is the image,
// image/jpeg or image/png, at most 5 MiB.
func (s *Server) putPhoto(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > photo.MaxUpload {
		s.writeError(w, r, gatehouse.Errorf(gatehouse.ETOOLARGE, "a photo is at most %d bytes", photo.MaxUpload))
		return
	}
	contentType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	userID := r.PathValue("user_id")
	if err := s.svc.People.SetPhoto(r.Context(), caller(r), userID, contentType, r.Body); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": userID, "content_type": photo.ContentType,
		"width": photo.Size, "height": photo.Size})
}

func (s *Server) getPhoto(w http.ResponseWriter, r *http.Request) {
	image, err := s.svc.People.Photo(r.Context(), caller(r), r.PathValue("user_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", photo.ContentType)
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(image)
}
