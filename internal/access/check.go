package access

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// CheckQuestion asks whether a user may do something in an account, and on
// one folder of it when FolderID is set (R-A5).
type CheckQuestion struct {
	UserID     string
	AccountID  string
	Permission string
	FolderID   string
	// SubjectToken, instead of UserID, asks about the holder of an access
	// token the OpenID Provider issued: the person it was issued to, in the
	// account it carries. AccountID may then be left out; given, it must be
	// the token's account, else the answer is no (a token is valid for its
	// account alone). A token that is no longer live allows nothing.
	SubjectToken string
}

// TokenSubjects resolves an access token of the OpenID Provider to the
// person and the account it was issued for, ENOTFOUND when it is not live.
type TokenSubjects interface {
	AccessTokenSubject(ctx context.Context, raw string) (userID, accountID string, err error)
}

// MaxBatchChecks bounds one batch of checks.
const MaxBatchChecks = 1000

// Check answers a question of the platform's other services. Only active
// memberships count. Integrator staff hold the whole catalogue in the
// clients of their integrator (a client's model carries them), but its
// cameras and media only while the client allows it (R-PV1). The answer
// comes from the account's model
// (internal/access), which is rebuilt whenever the account's authz version
// moved, so it reflects every change committed before the check began, on
// every node.
//
// A check token the node trusted from memory is confirmed by the same read
// as the account's version, so a revocation committed before the check
// began refuses it on every node, at the cost of no round trip of its own.
// A question about a subject token confirms it first: a revoked token must
// not learn whether the subject token is live.
func (s *Service) Check(ctx context.Context, c gatehouse.Caller, q CheckQuestion) (bool, error) {
	if err := s.mayCheck(ctx, c); err != nil {
		return false, err
	}
	permission, err := validateQuestion(q, "")
	if err != nil {
		return false, err
	}
	unconfirmed := c.Principal.UnconfirmedCheckTokenID
	if unconfirmed != "" && q.SubjectToken != "" {
		if err := s.checksStore.ConfirmCheckToken(ctx, unconfirmed); err != nil {
			return false, err
		}
		unconfirmed = ""
	}
	q, live, err := s.resolveSubject(ctx, q)
	if err != nil || !live {
		return false, err
	}
	model, err := s.Models.ModelAsked(ctx, q.AccountID, unconfirmed)
	return s.answerFrom(model, err, q, permission, c.Principal.ScopeAccountID)
}

// resolveSubject puts the person and the account of a question's subject
// token in it; live is false when the token allows nothing: it is not live,
// it carries no account, or another account than the one asked about.
// Called only after the asker was allowed to ask, so that nobody else learns
// whether a token is live.
func (s *Service) resolveSubject(ctx context.Context, q CheckQuestion) (_ CheckQuestion, live bool, err error) {
	if q.SubjectToken == "" {
		return q, true, nil
	}
	if s.TokenSubjects == nil {
		return q, false, nil
	}
	userID, accountID, err := s.TokenSubjects.AccessTokenSubject(ctx, q.SubjectToken)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return q, false, nil
	} else if err != nil {
		return q, false, err
	}
	if accountID == "" || (q.AccountID != "" && q.AccountID != accountID) {
		return q, false, nil
	}
	q.UserID, q.AccountID = userID, accountID
	return q, true, nil
}

// CheckBatch answers up to MaxBatchChecks questions in one call, in order.
// One invalid question fails the batch, naming it.
func (s *Service) CheckBatch(ctx context.Context, c gatehouse.Caller, questions []CheckQuestion) ([]bool, error) {
	if err := s.mayCheck(ctx, c); err != nil {
		return nil, err
	}
	if id := c.Principal.UnconfirmedCheckTokenID; id != "" {
		// One read more for a whole batch.
		if err := s.checksStore.ConfirmCheckToken(ctx, id); err != nil {
			return nil, err
		}
	}
	if len(questions) == 0 {
		return nil, gatehouse.Invalid("checks", "checks must hold at least one question")
	}
	if len(questions) > MaxBatchChecks {
		return nil, gatehouse.Invalid("checks", "a batch holds at most %d questions", MaxBatchChecks)
	}
	permissions := make([]gatehouse.PermissionSet, len(questions))
	for i, q := range questions {
		p, err := validateQuestion(q, fmt.Sprintf("checks[%d].", i))
		if err != nil {
			return nil, err
		}
		permissions[i] = p
	}
	// One model per account for the whole batch: its version is read once.
	models := map[string]*Model{}
	answers := make([]bool, len(questions))
	for i, q := range questions {
		q, live, err := s.resolveSubject(ctx, q)
		if err != nil {
			return nil, err
		}
		if !live {
			continue
		}
		allowed, err := s.answer(ctx, q, permissions[i], models, c.Principal.ScopeAccountID)
		if err != nil {
			return nil, err
		}
		answers[i] = allowed
	}
	return answers, nil
}

// CheckInProcess answers a question without a caller, for code in this
// process (and its benchmark).
func (s *Service) CheckInProcess(ctx context.Context, q CheckQuestion) (bool, error) {
	permission, err := validateQuestion(q, "")
	if err != nil {
		return false, err
	}
	return s.answer(ctx, q, permission, nil, "")
}

// mayCheck lets operators, check tokens, and personal API tokens with the
// check scope ask checks; the last only while their owner is still a member
// of the token's account (R-M7), and only about that account (and its
// clients, for an integrator's token: see answer).
func (s *Service) mayCheck(ctx context.Context, c gatehouse.Caller) error {
	p := c.Principal
	var acc gatehouse.Access
	if p.ScopeAccountID != "" {
		account, err := s.checksStore.Account(ctx, p.ScopeAccountID)
		if err != nil {
			return err
		}
		if acc, err = s.checksStore.AccessTo(ctx, p, account, s.Now()); err != nil {
			return err
		}
	}
	return policy.Decide(kernel.ActorOf(c, acc), policy.AskChecks, policy.Target{})
}

func validateQuestion(q CheckQuestion, prefix string) (gatehouse.PermissionSet, error) {
	permission := gatehouse.PermissionBit(q.Permission)
	switch {
	case permission == 0:
		return 0, gatehouse.Invalid(prefix+"permission", "unknown permission %q", q.Permission)
	case q.SubjectToken != "" && q.UserID != "":
		return 0, gatehouse.Invalid(prefix+"user_id", "give user_id or subject_token, not both")
	case q.SubjectToken != "":
		return permission, nil
	case q.UserID == "":
		return 0, gatehouse.Invalid(prefix+"user_id", "user_id (or subject_token) is required")
	case q.AccountID == "":
		return 0, gatehouse.Invalid(prefix+"account_id", "account_id is required")
	}
	return permission, nil
}

// answer decides one question; seen, when not nil, keeps the models already
// read by this batch. within, when set, is the only account (with its
// clients) the asker may learn about: any other is answered no.
func (s *Service) answer(ctx context.Context, q CheckQuestion, permission gatehouse.PermissionSet, seen map[string]*Model, within string) (bool, error) {
	model, err := s.model(ctx, q.AccountID, seen)
	return s.answerFrom(model, err, q, permission, within)
}

// answerFrom decides one question from the model of its account (or the
// error of reading it).
func (s *Service) answerFrom(model *Model, err error, q CheckQuestion, permission gatehouse.PermissionSet, within string) (bool, error) {
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return false, nil // an unknown account allows nothing
	} else if err != nil {
		return false, err
	}
	if within != "" && model.Account.ID != within && model.Account.IntegratorID != within {
		return false, nil
	}
	return model.Allowed(q.UserID, permission, q.FolderID, s.Now()), nil
}

func (s *Service) model(ctx context.Context, accountID string, seen map[string]*Model) (*Model, error) {
	if m, ok := seen[accountID]; ok {
		return m, nil
	}
	m, err := s.Models.Model(ctx, accountID)
	if err == nil && seen != nil {
		seen[accountID] = m
	}
	return m, err
}
