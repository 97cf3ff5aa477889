package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/httperr"
	"github.com/gatehouse/gatehouse/internal/scim"
)

// SCIM 2.0 (docs/scim.md): an account's directory calls
// /scim/v2/accounts/{id}/… with one of the account's SCIM tokens. Bodies
// are application/scim+json, errors are in SCIM's error schema, and every
// call its token authenticates is written in the account's call log.

// scimAnswer is what a SCIM handler answers: a status and a body, and what
// the call did in a few words for the call log.
type scimAnswer struct {
	status int
	body   any
	detail string
}

type scimHandler func(r *http.Request, d scim.Directory) (scimAnswer, error)

// registerSCIM serves the SCIM routes.
func (s *Server) registerSCIM() {
	s.handleSCIM("GET /scim/v2/accounts/{id}/ServiceProviderConfig", s.scimServiceProviderConfig)
	s.handleSCIM("GET /scim/v2/accounts/{id}/ResourceTypes", s.scimResourceTypes)
	s.handleSCIM("GET /scim/v2/accounts/{id}/ResourceTypes/{name}", s.scimResourceType)
	s.handleSCIM("GET /scim/v2/accounts/{id}/Schemas", s.scimSchemas)
	s.handleSCIM("GET /scim/v2/accounts/{id}/Schemas/{schema_id}", s.scimSchema)
	s.handleSCIM("GET /scim/v2/accounts/{id}/Users", s.scimListUsers)
	s.handleSCIM("POST /scim/v2/accounts/{id}/Users", s.scimCreateUser)
	s.handleSCIM("GET /scim/v2/accounts/{id}/Users/{scim_id}", s.scimGetUser)
	s.handleSCIM("PUT /scim/v2/accounts/{id}/Users/{scim_id}", s.scimReplaceUser)
	s.handleSCIM("PATCH /scim/v2/accounts/{id}/Users/{scim_id}", s.scimPatchUser)
	s.handleSCIM("DELETE /scim/v2/accounts/{id}/Users/{scim_id}", s.scimDeleteUser)
	s.handleSCIM("GET /scim/v2/accounts/{id}/Groups", s.scimListGroups)
	s.handleSCIM("POST /scim/v2/accounts/{id}/Groups", s.scimCreateGroup)
	s.handleSCIM("GET /scim/v2/accounts/{id}/Groups/{scim_id}", s.scimGetGroup)
	s.handleSCIM("PUT /scim/v2/accounts/{id}/Groups/{scim_id}", s.scimReplaceGroup)
	s.handleSCIM("PATCH /scim/v2/accounts/{id}/Groups/{scim_id}", s.scimPatchGroup)
	s.handleSCIM("DELETE /scim/v2/accounts/{id}/Groups/{scim_id}", s.scimDeleteGroup)
}

// handleSCIM registers a SCIM route: the bearer must be a live SCIM token
// of the account named in the path (else 401, whatever the token is
// otherwise), the body is at most scim.MaxBodyBytes, and the call is
// logged for the account's administrators once answered.
func (s *Server) handleSCIM(pattern string, h scimHandler) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Pattern: path})
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accountID := r.PathValue("id")
		secret, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-scim"`)
			s.writeSCIMError(w, r, gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "an Authorization: Bearer header with a SCIM token of this account is required"))
			return
		}
		d, err := s.svc.SCIM.Authenticate(r.Context(), accountID, secret, clientIP(r), requestID(r.Context()))
		if err != nil {
			// Not logged: a call no token of the account vouches for is
			// nothing its administrators asked for.
			if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHENTICATED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-scim", error="invalid_token"`)
			}
			s.writeSCIMError(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, scim.MaxBodyBytes)
		answer, err := h(r, d)
		status, detail := answer.status, answer.detail
		if err != nil {
			status, detail = s.writeSCIMError(w, r, err)
		} else {
			writeSCIM(w, answer.status, answer.body)
		}
		call := gatehouse.SCIMCall{AccountID: d.Token.AccountID, TokenID: d.Token.ID, Method: r.Method,
			Path: scimCallPath(r, accountID), Status: status, Detail: detail}
		if err := s.svc.SCIM.RecordCall(r.Context(), call); err != nil {
			s.log.ErrorContext(r.Context(), "scim call log", slog.String("request_id", requestID(r.Context())), slog.Any("error", err))
		}
	}))
}

// scimCallPath is the call's path below the account's SCIM base, with its
// query decoded so that the log reads as the directory wrote it.
func scimCallPath(r *http.Request, accountID string) string {
	path := strings.TrimPrefix(r.URL.Path, scim.BasePath(accountID))
	if r.URL.RawQuery != "" {
		query, err := url.QueryUnescape(r.URL.RawQuery)
		if err != nil {
			query = r.URL.RawQuery
		}
		path += "?" + query
	}
	return path
}

// writeSCIM answers a SCIM body; a resource's version goes in ETag too.
func writeSCIM(w http.ResponseWriter, status int, body any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	switch v := body.(type) {
	case scim.User:
		w.Header().Set("ETag", v.Meta.Version)
		w.Header().Set("Location", v.Meta.Location)
	case scim.Group:
		w.Header().Set("ETag", v.Meta.Version)
		w.Header().Set("Location", v.Meta.Location)
	}
	w.Header().Set("Content-Type", scim.ContentType+"; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeSCIMError answers an error in SCIM's error schema (RFC 7644 §3.12),
// with the status Gatehouse's code has and the scimType a directory acts
// on, and returns the status and detail for the call log.
func (s *Server) writeSCIMError(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		s.log.ErrorContext(r.Context(), "internal error", slog.String("request_id", requestID(r.Context())), slog.Any("error", err))
		e = &gatehouse.Error{Code: gatehouse.EINTERNAL, Message: "internal error"}
	}
	status, scimType := httperr.Status(e.Code), ""
	switch e.Code {
	case gatehouse.EINVALID:
		switch e.Field {
		case "filter":
			scimType = "invalidFilter"
		case "path", "op", "Operations":
			scimType = "invalidPath"
		case "mutability":
			scimType = "mutability"
		case "":
			scimType = "invalidSyntax"
		default:
			scimType = "invalidValue"
		}
	case gatehouse.ECONFLICT, gatehouse.EALREADYMEMBER, gatehouse.EUSERNAMETAKEN:
		scimType = "uniqueness"
	case gatehouse.EUSERLIMIT:
		// The nearest of RFC 7644's types; the detail says which limit, in
		// words the directory shows its administrator.
		scimType = "tooMany"
	case gatehouse.ENOTACTIVATED:
		status, scimType = http.StatusBadRequest, "mutability"
	case gatehouse.EUNAVAILABLE:
		w.Header().Set("Retry-After", "2")
	}
	writeSCIM(w, status, scim.Error{Schemas: []string{scim.SchemaError}, Status: strconv.Itoa(status), ScimType: scimType, Detail: e.Message})
	return status, e.Message
}

// scimQuery reads a list's filter, startIndex, count and
// excludedAttributes.
func scimQuery(r *http.Request) (scim.Query, error) {
	q := r.URL.Query()
	out := scim.Query{Filter: q.Get("filter"), StartIndex: 1, Count: scim.DefaultCount}
	for _, p := range []struct {
		name string
		into *int
	}{{"startIndex", &out.StartIndex}, {"count", &out.Count}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return out, gatehouse.Invalid(p.name, "%s is a whole number", p.name)
			}
			*p.into = n
		}
	}
	for _, attr := range strings.Split(q.Get("excludedAttributes"), ",") {
		if strings.EqualFold(strings.TrimSpace(attr), "members") {
			out.ExcludeMembers = true
		}
	}
	return out, nil
}

func (s *Server) base(r *http.Request) string { return s.svc.SCIM.Base(r.PathValue("id")) }

func (s *Server) scimServiceProviderConfig(r *http.Request, d scim.Directory) (scimAnswer, error) {
	return scimAnswer{status: http.StatusOK, body: scim.ServiceProviderConfig(s.base(r)), detail: "read the configuration"}, nil
}

func (s *Server) scimResourceTypes(r *http.Request, d scim.Directory) (scimAnswer, error) {
	return scimAnswer{status: http.StatusOK, body: scim.ResourceTypes(s.base(r)), detail: "read the resource types"}, nil
}

func (s *Server) scimResourceType(r *http.Request, d scim.Directory) (scimAnswer, error) {
	t, ok := scim.ResourceType(s.base(r), r.PathValue("name"))
	if !ok {
		return scimAnswer{}, gatehouse.NotFound("resource type")
	}
	return scimAnswer{status: http.StatusOK, body: t, detail: "read a resource type"}, nil
}

func (s *Server) scimSchemas(r *http.Request, d scim.Directory) (scimAnswer, error) {
	return scimAnswer{status: http.StatusOK, body: scim.Schemas(s.base(r)), detail: "read the schemas"}, nil
}

func (s *Server) scimSchema(r *http.Request, d scim.Directory) (scimAnswer, error) {
	schema, ok := scim.Schema(s.base(r), r.PathValue("schema_id"))
	if !ok {
		return scimAnswer{}, gatehouse.NotFound("schema")
	}
	return scimAnswer{status: http.StatusOK, body: schema, detail: "read a schema"}, nil
}

func (s *Server) scimListUsers(r *http.Request, d scim.Directory) (scimAnswer, error) {
	q, err := scimQuery(r)
	if err != nil {
		return scimAnswer{}, err
	}
	list, err := s.svc.SCIM.ListUsers(r.Context(), d, r.PathValue("id"), q)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusOK, body: list, detail: fmt.Sprintf("found %d", list.TotalResults)}, nil
}

func (s *Server) scimGetUser(r *http.Request, d scim.Directory) (scimAnswer, error) {
	u, err := s.svc.SCIM.GetUser(r.Context(), d, r.PathValue("id"), r.PathValue("scim_id"))
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusOK, body: u, detail: "read " + u.UserName}, nil
}

func (s *Server) scimCreateUser(r *http.Request, d scim.Directory) (scimAnswer, error) {
	var in scim.User
	if err := decodeSCIM(r, &in); err != nil {
		return scimAnswer{}, err
	}
	u, err := s.svc.SCIM.CreateUser(r.Context(), d, r.PathValue("id"), in)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusCreated, body: u, detail: "added " + u.UserName}, nil
}

func (s *Server) scimReplaceUser(r *http.Request, d scim.Directory) (scimAnswer, error) {
	var in scim.User
	if err := decodeSCIM(r, &in); err != nil {
		return scimAnswer{}, err
	}
	u, err := s.svc.SCIM.ReplaceUser(r.Context(), d, r.PathValue("id"), r.PathValue("scim_id"), r.Header.Get("If-Match"), in)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusOK, body: u, detail: "replaced " + u.UserName + activeWord(u)}, nil
}

func (s *Server) scimPatchUser(r *http.Request, d scim.Directory) (scimAnswer, error) {
	var in scim.PatchRequest
	if err := decodeSCIM(r, &in); err != nil {
		return scimAnswer{}, err
	}
	u, err := s.svc.SCIM.PatchUser(r.Context(), d, r.PathValue("id"), r.PathValue("scim_id"), r.Header.Get("If-Match"), in)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusOK, body: u, detail: "changed " + u.UserName + activeWord(u)}, nil
}

// activeWord says, for the call log, when a person is suspended.
func activeWord(u scim.User) string {
	if u.Active != nil && !bool(*u.Active) {
		return " (suspended)"
	}
	return ""
}

func (s *Server) scimDeleteUser(r *http.Request, d scim.Directory) (scimAnswer, error) {
	id := r.PathValue("scim_id")
	if err := s.svc.SCIM.DeleteUser(r.Context(), d, r.PathValue("id"), id, r.Header.Get("If-Match")); err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusNoContent, detail: "removed user " + id}, nil
}

func (s *Server) scimListGroups(r *http.Request, d scim.Directory) (scimAnswer, error) {
	q, err := scimQuery(r)
	if err != nil {
		return scimAnswer{}, err
	}
	list, err := s.svc.SCIM.ListGroups(r.Context(), d, r.PathValue("id"), q)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusOK, body: list, detail: fmt.Sprintf("found %d", list.TotalResults)}, nil
}

func (s *Server) scimGetGroup(r *http.Request, d scim.Directory) (scimAnswer, error) {
	q, err := scimQuery(r)
	if err != nil {
		return scimAnswer{}, err
	}
	g, err := s.svc.SCIM.GetGroup(r.Context(), d, r.PathValue("id"), r.PathValue("scim_id"), q.ExcludeMembers)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusOK, body: g, detail: "read " + g.DisplayName}, nil
}

func (s *Server) scimCreateGroup(r *http.Request, d scim.Directory) (scimAnswer, error) {
	var in scim.Group
	if err := decodeSCIM(r, &in); err != nil {
		return scimAnswer{}, err
	}
	g, err := s.svc.SCIM.CreateGroup(r.Context(), d, r.PathValue("id"), in)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusCreated, body: g, detail: groupDetail("added", g)}, nil
}

func (s *Server) scimReplaceGroup(r *http.Request, d scim.Directory) (scimAnswer, error) {
	var in scim.Group
	if err := decodeSCIM(r, &in); err != nil {
		return scimAnswer{}, err
	}
	g, err := s.svc.SCIM.ReplaceGroup(r.Context(), d, r.PathValue("id"), r.PathValue("scim_id"), r.Header.Get("If-Match"), in)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusOK, body: g, detail: groupDetail("replaced", g)}, nil
}

func (s *Server) scimPatchGroup(r *http.Request, d scim.Directory) (scimAnswer, error) {
	var in scim.PatchRequest
	if err := decodeSCIM(r, &in); err != nil {
		return scimAnswer{}, err
	}
	g, err := s.svc.SCIM.PatchGroup(r.Context(), d, r.PathValue("id"), r.PathValue("scim_id"), r.Header.Get("If-Match"), in)
	if err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusOK, body: g, detail: groupDetail("changed", g)}, nil
}

func groupDetail(verb string, g scim.Group) string {
	return fmt.Sprintf("%s group %s (%d members)", verb, g.DisplayName, len(g.Members))
}

func (s *Server) scimDeleteGroup(r *http.Request, d scim.Directory) (scimAnswer, error) {
	id := r.PathValue("scim_id")
	if err := s.svc.SCIM.DeleteGroup(r.Context(), d, r.PathValue("id"), id, r.Header.Get("If-Match")); err != nil {
		return scimAnswer{}, err
	}
	return scimAnswer{status: http.StatusNoContent, detail: "removed group " + id}, nil
}

// decodeSCIM reads a SCIM body: JSON as the API reads it (strict, at most
// scim.MaxBodyBytes, 413 beyond), labelled application/scim+json or
// application/json.
func decodeSCIM(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		media, _, _ := strings.Cut(ct, ";")
		media = strings.ToLower(strings.TrimSpace(media))
		if media != scim.ContentType && media != "application/json" {
			return gatehouse.Invalid("", "the body is %s or application/json, not %s", scim.ContentType, gatehouse.Truncate(media, 60))
		}
	}
	return decodeJSON(nil, r, dst)
}

// The API's side: an account's administrators make and revoke its SCIM
// tokens, read its directory's calls and map directory groups.

type scimTokenJSON struct {
	ID                 string     `json:"id"`
	AccountID          string     `json:"account_id"`
	Name               string     `json:"name"`
	ActsAs             string     `json:"acts_as"`
	IdentityProviderID *string    `json:"identity_provider_id"`
	BaseURL            string     `json:"base_url"`
	CreatedBy          string     `json:"created_by"`
	CreatedAt          time.Time  `json:"created_at"`
	LastUsedAt         *time.Time `json:"last_used_at"`
	// Token is the secret, shown once when the token is made.
	Token string `json:"token,omitempty"`
}

func (s *Server) toSCIMTokenJSON(t gatehouse.SCIMToken) scimTokenJSON {
	out := scimTokenJSON{ID: t.ID, AccountID: t.AccountID, Name: t.Name, ActsAs: string(t.ActsAs), BaseURL: s.svc.SCIM.Base(t.AccountID),
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt.UTC(), LastUsedAt: timeOrNull(t.LastUsedAt)}
	if t.IdentityProviderID != "" {
		out.IdentityProviderID = &t.IdentityProviderID
	}
	return out
}

func (s *Server) createSCIMToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name             string `json:"name"`
		IdentityProvider string `json:"identity_provider"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	tok, secret, err := s.svc.SCIM.CreateToken(r.Context(), caller(r), r.PathValue("id"), scim.NewToken{Name: in.Name, IdentityProvider: in.IdentityProvider})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := s.toSCIMTokenJSON(tok)
	out.Token = secret
	w.Header().Set("Location", "/api/v1/accounts/"+tok.AccountID+"/scim-tokens/"+tok.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listSCIMTokens(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.svc.SCIM.Tokens(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(gatehouse.Page[gatehouse.SCIMToken]{Items: tokens}, s.toSCIMTokenJSON))
}

func (s *Server) revokeSCIMToken(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SCIM.RevokeToken(r.Context(), caller(r), r.PathValue("id"), r.PathValue("token_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type scimCallJSON struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	TokenID string    `json:"token_id"`
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	Status  int       `json:"status"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail"`
}

func (s *Server) listSCIMCalls(w http.ResponseWriter, r *http.Request) {
	page, err := pageRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	calls, err := s.svc.SCIM.Calls(r.Context(), caller(r), r.PathValue("id"), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(calls, func(c gatehouse.SCIMCall) scimCallJSON {
		return scimCallJSON{ID: c.ID, At: c.At.UTC(), TokenID: c.TokenID, Method: c.Method, Path: c.Path, Status: c.Status,
			Outcome: c.Outcome, Detail: c.Detail}
	}))
}

type scimMappingJSON struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	Group     string    `json:"group"`
	Role      *string   `json:"role"`
	Level     *string   `json:"level"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func toSCIMMappingJSON(m gatehouse.SCIMGroupMapping) scimMappingJSON {
	out := scimMappingJSON{ID: m.ID, AccountID: m.AccountID, Group: m.GroupName, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt.UTC()}
	if m.RoleID != "" {
		out.Role = &m.Role
	}
	if m.Level != "" {
		level := string(m.Level)
		out.Level = &level
	}
	return out
}

func (s *Server) createSCIMMapping(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Group string `json:"group"`
		Role  string `json:"role"`
		Level string `json:"level"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.svc.SCIM.CreateMapping(r.Context(), caller(r), r.PathValue("id"), scim.NewMapping{Group: in.Group, Role: in.Role, Level: gatehouse.Level(in.Level)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/accounts/"+m.AccountID+"/scim-group-mappings/"+m.ID)
	writeJSON(w, http.StatusCreated, toSCIMMappingJSON(m))
}

func (s *Server) listSCIMMappings(w http.ResponseWriter, r *http.Request) {
	mappings, err := s.svc.SCIM.Mappings(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(gatehouse.Page[gatehouse.SCIMGroupMapping]{Items: mappings}, toSCIMMappingJSON))
}

func (s *Server) deleteSCIMMapping(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.SCIM.DeleteMapping(r.Context(), caller(r), r.PathValue("id"), r.PathValue("mapping_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
