package service

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// action is something a caller may try to do on one account.
type action int

const (
	readAccount    action = iota // see the account
	updateAccount                // rename it, change its address
	changeSettings               // the switches only support may change (R-L1, R-RM3)
	readAudit                    // read its audit log (R-X1)
	createClient                 // create a client account under this integrator
)

// authorize is the one place that decides whether caller may do act on the
// account with the given id. An account the caller may not see is ENOTFOUND,
// exactly like an unknown one (R-X2); one they see but may not act on is
// EFORBIDDEN. It returns the account so the caller need not read it again.
func (s *Service) authorize(ctx context.Context, r gatehouse.Reader, c gatehouse.Caller, accountID string, act action) (gatehouse.Account, error) {
	account, err := r.Account(ctx, accountID)
	if err != nil {
		return account, err
	}
	access, err := r.AccessTo(ctx, c.Principal, account)
	if err != nil {
		return account, err
	}
	if !mayRead(access) {
		return gatehouse.Account{}, gatehouse.NotFound("account")
	}
	if !allowed(act, access, account) {
		return gatehouse.Account{}, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not do this on this account")
	}
	return account, nil
}

// mayRead: operators see everything; members see their account; integrator
// staff see their integrator's clients (R-T1, R-T2).
func mayRead(a gatehouse.Access) bool {
	return a.Operator || a.Level != "" || a.IntegratorLevel.IsIntegratorStaff()
}

// allowed is the permission table. See docs/access.md.
func allowed(act action, a gatehouse.Access, account gatehouse.Account) bool {
	if a.Operator {
		return true
	}
	// Integrator staff act on every client of their integrator (R-T2).
	staffOverClient := account.Kind == gatehouse.KindClient && a.IntegratorLevel.IsIntegratorStaff()
	switch act {
	case readAccount:
		return mayRead(a)
	case updateAccount, readAudit:
		if account.Kind == gatehouse.KindIntegrator {
			return a.Level == gatehouse.LevelIntegratorAdmin
		}
		return staffOverClient || a.Level == gatehouse.LevelClientAdmin
	case createClient:
		return account.Kind == gatehouse.KindIntegrator && a.Level.IsIntegratorStaff()
	case changeSettings:
		return false // operators only, handled above
	}
	return false
}
