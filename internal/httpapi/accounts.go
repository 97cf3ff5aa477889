package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

type accountJSON struct {
	ID           string       `json:"id"`
	Kind         string       `json:"kind"`
	Name         string       `json:"name"`
	Address      string       `json:"address"`
	IntegratorID *string      `json:"integrator_id"`
	Settings     settingsJSON `json:"settings"`
	TimeZone     string       `json:"time_zone"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	// Status is active, suspended or deleted; PurgeAfter is when a deleted
	// account goes for good.
	Status     string     `json:"status"`
	PurgeAfter *time.Time `json:"purge_after,omitempty"`
}

type settingsJSON struct {
	MaxClientUsers                     int  `json:"max_client_users"`
	ClientAdminsCanAddRemoteMonitoring bool `json:"client_admins_can_add_remote_monitoring"`
}

func toAccountJSON(a gatehouse.Account) accountJSON {
	out := accountJSON{
		ID: a.ID, Kind: string(a.Kind), Name: a.Name, Address: a.Address,
		Settings: settingsJSON{
			MaxClientUsers:                     a.Settings.MaxClientUsers,
			ClientAdminsCanAddRemoteMonitoring: a.Settings.ClientAdminsCanAddRemoteMonitoring,
		},
		TimeZone:  a.TimeZone,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Status: string(a.Status),
	}
	if out.Status == "" {
		out.Status = string(gatehouse.AccountActive)
	}
	if a.IntegratorID != "" {
		out.IntegratorID = &a.IntegratorID
	}
	if !a.PurgeAfter.IsZero() {
		out.PurgeAfter = &a.PurgeAfter
	}
	return out
}

// suspendAccount, restoreAccount and deleteAccount move an account through
// its life.
func (s *Server) suspendAccount(w http.ResponseWriter, r *http.Request) {
	account, err := s.svc.Accounts.SuspendAccount(r.Context(), caller(r), r.PathValue("id"))
	s.answerAccount(w, r, account, err)
}

func (s *Server) restoreAccount(w http.ResponseWriter, r *http.Request) {
	account, err := s.svc.Accounts.RestoreAccount(r.Context(), caller(r), r.PathValue("id"))
	s.answerAccount(w, r, account, err)
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ConfirmName string `json:"confirm_name"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	account, err := s.svc.Accounts.DeleteAccount(r.Context(), caller(r), r.PathValue("id"), in.ConfirmName)
	s.answerAccount(w, r, account, err)
}

func (s *Server) answerAccount(w http.ResponseWriter, r *http.Request, account gatehouse.Account, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAccountJSON(account))
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind         string `json:"kind"`
		Name         string `json:"name"`
		Address      string `json:"address"`
		IntegratorID string `json:"integrator_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	account, err := s.svc.Accounts.CreateAccount(r.Context(), caller(r), accounts.NewAccount{
		Kind: gatehouse.AccountKind(in.Kind), Name: in.Name, Address: in.Address, IntegratorID: in.IntegratorID,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/accounts/"+account.ID)
	writeJSON(w, http.StatusCreated, toAccountJSON(account))
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	accounts, err := s.svc.Accounts.ListAccounts(r.Context(), caller(r), gatehouse.AccountFilter{
		Kind: gatehouse.AccountKind(q.Get("kind")), IntegratorID: q.Get("integrator_id"), Query: q.Get("q"), Page: page,
		Status: gatehouse.AccountStatus(q.Get("status")),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(accounts, toAccountJSON))
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	account, err := s.svc.Accounts.Account(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAccountJSON(account))
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     *string `json:"name"`
		Address  *string `json:"address"`
		TimeZone *string `json:"time_zone"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	account, err := s.svc.Accounts.UpdateAccount(r.Context(), caller(r), r.PathValue("id"), accounts.AccountPatch{Name: in.Name, Address: in.Address,
		TimeZone: in.TimeZone})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAccountJSON(account))
}

func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MaxClientUsers                     *int  `json:"max_client_users"`
		ClientAdminsCanAddRemoteMonitoring *bool `json:"client_admins_can_add_remote_monitoring"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	account, err := s.svc.Accounts.UpdateSettings(r.Context(), caller(r), r.PathValue("id"), accounts.SettingsPatch{
		MaxClientUsers: in.MaxClientUsers, ClientAdminsCanAddRemoteMonitoring: in.ClientAdminsCanAddRemoteMonitoring,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAccountJSON(account))
}

type auditEventJSON struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	AccountID  string    `json:"account_id"`
	ActorID    string    `json:"actor_id"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	IP         string    `json:"ip"`
	RequestID  string    `json:"request_id"`
	// Changes is left out of events that changed no field.
	Changes []auditChangeJSON `json:"changes,omitempty"`
}

type auditChangeJSON struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

func toAuditEventJSON(e gatehouse.AuditEvent) auditEventJSON {
	out := auditEventJSON{ID: e.ID, At: e.At, AccountID: e.AccountID, ActorID: e.ActorID, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, IP: e.IP, RequestID: e.RequestID}
	for _, c := range e.Changes {
		out.Changes = append(out.Changes, auditChangeJSON(c))
	}
	return out
}

func (s *Server) listAuditEvents(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := gatehouse.AuditFilter{Page: page, ActionPrefix: q.Get("action"), ActorID: q.Get("actor_id")}
	for _, bound := range []struct {
		name string
		into *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if raw := q.Get(bound.name); raw != "" {
			at, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				s.writeError(w, r, gatehouse.Invalid(bound.name, "%s must be a time such as 2026-12-01T00:00:00Z", bound.name))
				return
			}
			*bound.into = at.UTC()
		}
	}
	events, err := s.svc.Accounts.AuditEvents(r.Context(), caller(r), r.PathValue("id"), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(events, toAuditEventJSON))
}
