package httpapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/people"
)

func (s *Server) createRemoteMonitoringUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Description string `json:"description"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	member, err := s.svc.People.CreateRemoteMonitoringUser(r.Context(), caller(r), r.PathValue("id"), in.Description)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/accounts/"+member.AccountID+"/users/"+member.ID)
	writeJSON(w, http.StatusCreated, toMembershipJSON(member))
}

func (s *Server) remoteMonitoringDetails(w http.ResponseWriter, r *http.Request) {
	creds, err := s.svc.People.RemoteMonitoringConnectionDetails(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="gatehouse-remote-monitoring.txt"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(creds.Text()))
}

func (s *Server) regenerateRemoteMonitoring(w http.ResponseWriter, r *http.Request) {
	creds, err := s.svc.People.RegenerateRemoteMonitoringCredentials(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, credentialsJSON(creds))
}

func credentialsJSON(c people.RemoteMonitoringCredentials) map[string]string {
	return map[string]string{"username": c.Username, "password": c.Password, "server": c.Server,
		"account_id": c.AccountID, "account_name": c.AccountName}
}
