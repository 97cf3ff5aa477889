package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The client's privacy (R-PV1…R-PV3): the service provider's access to a
// client's cameras and media, and the requests for it.

type providerAccessJSON struct {
	Open bool `json:"open"`
	// Until is when an open access ends; null while it is closed.
	Until        *time.Time `json:"until"`
	TimeZone     string     `json:"time_zone"`
	DefaultUntil time.Time  `json:"default_until"`
	MaxUntil     time.Time  `json:"max_until"`
}

func toProviderAccessJSON(st accounts.ProviderAccess) providerAccessJSON {
	out := providerAccessJSON{Open: st.Open, TimeZone: st.Account.TimeZone, DefaultUntil: st.DefaultUntil, MaxUntil: st.MaxUntil}
	if st.Open {
		out.Until = &st.Until
	}
	return out
}

type providerRequestJSON struct {
	ID              string     `json:"id"`
	AccountID       string     `json:"account_id"`
	Status          string     `json:"status"`
	Reason          string     `json:"reason"`
	RequestedBy     string     `json:"requested_by"`
	RequestedByName string     `json:"requested_by_name"`
	CreatedAt       time.Time  `json:"created_at"`
	DecidedBy       *string    `json:"decided_by"`
	DecidedByName   *string    `json:"decided_by_name"`
	DecidedAt       *time.Time `json:"decided_at"`
	Until           *time.Time `json:"until"`
}

func toProviderRequestJSON(v accounts.ProviderAccessRequestView) providerRequestJSON {
	out := providerRequestJSON{ID: v.ID, AccountID: v.AccountID, Status: string(v.Status), Reason: v.Reason,
		RequestedBy: v.RequestedBy, RequestedByName: v.RequestedByName, CreatedAt: v.CreatedAt}
	if v.DecidedBy != "" {
		out.DecidedBy, out.DecidedByName, out.DecidedAt = &v.DecidedBy, &v.DecidedByName, &v.DecidedAt
	}
	if !v.Until.IsZero() {
		out.Until = &v.Until
	}
	return out
}

// decodeUntil reads an optional {"until": RFC 3339} body; an empty body
// or a null until is none.
func decodeUntil(w http.ResponseWriter, r *http.Request) (*time.Time, error) {
	if r.ContentLength == 0 {
		return nil, nil
	}
	var in struct {
		Until *string `json:"until"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return nil, err
	}
	if in.Until == nil {
		return nil, nil
	}
	at, err := time.Parse(time.RFC3339, *in.Until)
	if err != nil {
		return nil, gatehouse.Invalid("until", "until must be a time such as 2026-12-01T18:00:00+01:00")
	}
	return &at, nil
}

func (s *Server) getProviderAccess(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Accounts.ProviderAccessOf(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toProviderAccessJSON(st))
}

// grantProviderAccess opens the client's cameras and media to its service
// provider until a time (by default the next midnight in its time zone).
func (s *Server) grantProviderAccess(w http.ResponseWriter, r *http.Request) {
	until, err := decodeUntil(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.svc.Accounts.GrantProviderAccess(r.Context(), caller(r), r.PathValue("id"), until)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toProviderAccessJSON(st))
}

func (s *Server) endProviderAccess(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Accounts.EndProviderAccess(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toProviderAccessJSON(st))
}

func (s *Server) askProviderAccess(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	req, err := s.svc.Accounts.RequestProviderAccess(r.Context(), caller(r), r.PathValue("id"), in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/accounts/"+req.AccountID+"/provider-access/requests/"+req.ID)
	writeJSON(w, http.StatusCreated, toProviderRequestJSON(req))
}

func (s *Server) listProviderRequests(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	requests, err := s.svc.Accounts.ProviderAccessRequests(r.Context(), caller(r), r.PathValue("id"), gatehouse.ProviderAccessRequestFilter{
		Status: gatehouse.ProviderAccessStatus(r.URL.Query().Get("status")), Page: page})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(requests, toProviderRequestJSON))
}

func (s *Server) getProviderRequest(w http.ResponseWriter, r *http.Request) {
	req, err := s.svc.Accounts.ProviderAccessRequest(r.Context(), caller(r), r.PathValue("id"), r.PathValue("request_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toProviderRequestJSON(req))
}

func (s *Server) approveProviderRequest(w http.ResponseWriter, r *http.Request) {
	until, err := decodeUntil(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := s.svc.Accounts.ApproveProviderAccessRequest(r.Context(), caller(r), r.PathValue("id"), r.PathValue("request_id"), until)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toProviderRequestJSON(req))
}

func (s *Server) refuseProviderRequest(w http.ResponseWriter, r *http.Request) {
	req, err := s.svc.Accounts.RefuseProviderAccessRequest(r.Context(), caller(r), r.PathValue("id"), r.PathValue("request_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toProviderRequestJSON(req))
}
