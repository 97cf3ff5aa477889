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
	readMembers                  // list and view the account's users and invitations
	manageMembers                // add, remove and invite users (then mayManageLevel decides which)
	notifyMembers                // send a notification to the members who enabled them (R-N3)
)

// authorize is the one place that decides whether caller may do act on the
// account with the given id. An account the caller may not see is ENOTFOUND,
// exactly like an unknown one (R-X2); one they see but may not act on is
// EFORBIDDEN. It returns the account so the caller need not read it again.
func (s *Service) authorize(ctx context.Context, r gatehouse.Reader, c gatehouse.Caller, accountID string, act action) (gatehouse.Account, error) {
	account, _, err := s.authorizeAccess(ctx, r, c, accountID, act)
	return account, err
}

// authorizeAccess is authorize that also returns what the caller holds over
// the account, for decisions finer than one action.
func (s *Service) authorizeAccess(ctx context.Context, r gatehouse.Reader, c gatehouse.Caller, accountID string, act action) (gatehouse.Account, gatehouse.Access, error) {
	account, err := r.Account(ctx, accountID)
	if err != nil {
		return account, gatehouse.Access{}, err
	}
	access, err := r.AccessTo(ctx, c.Principal, account)
	if err != nil {
		return account, access, err
	}
	if !mayRead(access) {
		return gatehouse.Account{}, access, gatehouse.NotFound("account")
	}
	if !allowed(act, access, account) {
		return gatehouse.Account{}, access, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not do this on this account")
	}
	if err := needScope(c, scopeOf(act)); err != nil {
		return gatehouse.Account{}, access, err
	}
	return account, access, nil
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
	case updateAccount, readAudit, notifyMembers:
		if account.Kind == gatehouse.KindIntegrator {
			return a.Level == gatehouse.LevelIntegratorAdmin
		}
		return staffOverClient || a.Level == gatehouse.LevelClientAdmin
	case createClient:
		return account.Kind == gatehouse.KindIntegrator && a.Level.IsIntegratorStaff()
	case readMembers, manageMembers:
		if account.Kind == gatehouse.KindIntegrator {
			return a.Level.IsIntegratorStaff()
		}
		return staffOverClient || a.Level == gatehouse.LevelClientAdmin
	case changeSettings:
		return false // operators only, handled above
	}
	return false
}

// mayManageLevel decides who may add or remove a member of the given level
// (R-P2): operators anyone; integrator administrators anyone in their
// integrator's accounts; integrator users client administrators and client
// users; client administrators client users of their own account; client
// users nobody.
func mayManageLevel(a gatehouse.Access, account gatehouse.Account, level gatehouse.Level) bool {
	if a.Operator {
		return true
	}
	if account.Kind == gatehouse.KindIntegrator {
		return a.Level == gatehouse.LevelIntegratorAdmin
	}
	switch {
	case a.IntegratorLevel == gatehouse.LevelIntegratorAdmin:
		return true
	case a.IntegratorLevel == gatehouse.LevelIntegratorUser:
		return level == gatehouse.LevelClientAdmin || level == gatehouse.LevelClientUser
	case a.Level == gatehouse.LevelClientAdmin:
		return level == gatehouse.LevelClientUser
	}
	return false
}
