package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
)

// checkJSON is one question of POST /api/v1/check and of its batch form.
type checkJSON struct {
	UserID     string `json:"user_id"`
	AccountID  string `json:"account_id"`
	Permission string `json:"permission"`
	FolderID   string `json:"folder_id"`
	// SubjectToken is an access token of the OpenID Provider naming the
	// subject instead of user_id.
	SubjectToken string `json:"subject_token"`
}

func (q checkJSON) question() access.CheckQuestion {
	return access.CheckQuestion{UserID: q.UserID, AccountID: q.AccountID, Permission: q.Permission, FolderID: q.FolderID,
		SubjectToken: q.SubjectToken}
}

func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	var in checkJSON
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	allowed, err := s.svc.Access.Check(r.Context(), caller(r), in.question())
	if err != nil {
		s.writeTokenError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"allowed": allowed})
}

type allowedJSON struct {
	Allowed bool `json:"allowed"`
}

// checkBatch answers {"checks":[question…]} with {"results":[{"allowed"}…]},
// in the same order.
func (s *Server) checkBatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Checks []checkJSON `json:"checks"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	questions := make([]access.CheckQuestion, len(in.Checks))
	for i, q := range in.Checks {
		questions[i] = q.question()
	}
	answers, err := s.svc.Access.CheckBatch(r.Context(), caller(r), questions)
	if err != nil {
		s.writeTokenError(w, r, err)
		return
	}
	results := make([]allowedJSON, len(answers))
	for i, a := range answers {
		results[i].Allowed = a
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

type checkTokenJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Token     string    `json:"token,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) createCheckToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	token, secret, err := s.svc.Accounts.CreateCheckToken(r.Context(), caller(r), in.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, checkTokenJSON{ID: token.ID, Name: token.Name, Token: secret, CreatedAt: token.CreatedAt})
}

func (s *Server) listCheckTokens(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.svc.Accounts.CheckTokens(r.Context(), caller(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]checkTokenJSON, len(tokens))
	for i, t := range tokens {
		items[i] = checkTokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
	}
	writeJSON(w, http.StatusOK, listBody[checkTokenJSON]{Items: items})
}

func (s *Server) revokeCheckToken(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Accounts.RevokeCheckToken(r.Context(), caller(r), r.PathValue("token_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
