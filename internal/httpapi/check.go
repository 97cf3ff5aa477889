package httpapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/service"
)

func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID     string `json:"user_id"`
		AccountID  string `json:"account_id"`
		Permission string `json:"permission"`
		FolderID   string `json:"folder_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	allowed, err := s.svc.Check(r.Context(), caller(r), service.CheckQuestion{UserID: in.UserID, AccountID: in.AccountID,
		Permission: in.Permission, FolderID: in.FolderID})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"allowed": allowed})
}
