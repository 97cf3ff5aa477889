package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

type invitationJSON struct {
	ID           string    `json:"id"`
	AccountID    string    `json:"account_id"`
	MembershipID string    `json:"membership_id"`
	UserID       string    `json:"user_id"`
	Email        string    `json:"email"`
	Status       string    `json:"status"`
	SentAt       time.Time `json:"sent_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	InvitedBy    string    `json:"invited_by"`
}

// toInvitationJSON never includes the link's secret: no API returns it, not
// even to the administrator who sent it.
func toInvitationJSON(i gatehouse.Invitation) invitationJSON {
	return invitationJSON{ID: i.ID, AccountID: i.AccountID, MembershipID: i.MembershipID, UserID: i.UserID, Email: i.Email,
		Status: string(i.Status), SentAt: i.SentAt, ExpiresAt: i.ExpiresAt, InvitedBy: i.InvitedBy}
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	invs, err := s.svc.People.FindInvitations(r.Context(), caller(r), r.PathValue("id"), gatehouse.InvitationFilter{
		Status: gatehouse.InvitationStatus(q.Get("status")), Query: q.Get("q"), Page: page})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(invs, toInvitationJSON))
}

func (s *Server) getInvitation(w http.ResponseWriter, r *http.Request) {
	inv, err := s.svc.People.Invitation(r.Context(), caller(r), r.PathValue("id"))
	s.answerInvitation(w, r, inv, err)
}

func (s *Server) resendInvitation(w http.ResponseWriter, r *http.Request) {
	inv, err := s.svc.People.ResendInvitation(r.Context(), caller(r), r.PathValue("id"))
	s.answerInvitation(w, r, inv, err)
}

func (s *Server) cancelInvitation(w http.ResponseWriter, r *http.Request) {
	inv, err := s.svc.People.CancelInvitation(r.Context(), caller(r), r.PathValue("id"))
	s.answerInvitation(w, r, inv, err)
}

func (s *Server) answerInvitation(w http.ResponseWriter, r *http.Request, inv gatehouse.Invitation, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toInvitationJSON(inv))
}
