package accounts

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Operators are people too: an identity made an operator acts as
// one when signed in with a session, must use a second factor like
// administrators (R-P4), and is named in the audit log. A person becomes an
// operator as an existing identity (invited and activated the usual way,
// for example as a user of the operating company's own integrator account),
// so no second way to activate exists.

// Operators lists the identities that are operators.
func (s *Service) Operators(ctx context.Context, c gatehouse.Caller) ([]gatehouse.User, error) {
	if err := kernel.Decide(c, policy.ManageOperators, policy.Target{}); err != nil {
		return nil, err
	}
	return s.accountsStore.Operators(ctx)
}

// SetOperator makes an activated identity an operator, or takes the power
// away. Operators cannot take their own away: another must.
func (s *Service) SetOperator(ctx context.Context, c gatehouse.Caller, userID string, operator bool) (gatehouse.User, error) {
	if err := kernel.Decide(c, policy.ManageOperators, policy.Target{Self: userID == c.Principal.UserID, RevokeOperator: !operator}); err != nil {
		return gatehouse.User{}, err
	}
	var user gatehouse.User
	err := s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		var err error
		if user, err = tx.User(ctx, userID); err != nil {
			return err
		}
		if operator && (user.Status != gatehouse.UserActive || kernel.IsServiceUser(user)) {
			return gatehouse.Errorf(gatehouse.ENOTACTIVATED, "only a person who has activated their account can become an operator")
		}
		if err := tx.SetOperator(ctx, userID, operator); err != nil {
			return err
		}
		action := "operator.granted"
		if !operator {
			action = "operator.revoked"
			// Sessions opened as an operator end with the power.
			if err := tx.RevokeSessionsOf(ctx, userID, s.Now()); err != nil {
				return err
			}
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), "", action, "user", userID))
	})
	return user, err
}
