package service

import (
	"context"
	"slices"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// CheckQuestion asks whether a user may do something in an account (R-A5).
type CheckQuestion struct {
	UserID     string
	AccountID  string
	Permission string
	FolderID   string
}

// Check answers a question of the platform's other services. Only active
// memberships count; the answer reads the database, so it reflects every
// change at once. Integrator staff hold their level's permissions in the
// clients of their integrator too. Folders and custom roles arrive with the
// roles issue: until then a question about a folder is answered no.
func (s *Service) Check(ctx context.Context, c gatehouse.Caller, q CheckQuestion) (bool, error) {
	if !c.Principal.Operator {
		return false, gatehouse.Errorf(gatehouse.EFORBIDDEN, "only operators and checking tokens may ask")
	}
	if !gatehouse.ValidPermission(q.Permission) {
		return false, gatehouse.Invalid("permission", "unknown permission %q", q.Permission)
	}
	if q.UserID == "" {
		return false, gatehouse.Invalid("user_id", "user_id is required")
	}
	if q.AccountID == "" {
		return false, gatehouse.Invalid("account_id", "account_id is required")
	}
	if q.FolderID != "" {
		return false, nil
	}
	account, err := s.store.Account(ctx, q.AccountID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	access, err := s.store.AccessTo(ctx, gatehouse.Principal{UserID: q.UserID}, account)
	if err != nil {
		return false, err
	}
	if slices.Contains(gatehouse.LevelPermissions(access.Level), q.Permission) ||
		(access.IntegratorLevel.IsIntegratorStaff() && slices.Contains(gatehouse.LevelPermissions(access.IntegratorLevel), q.Permission)) {
		return true, nil
	}
	if access.Level == "" {
		return false, nil
	}
	roles, err := s.store.MemberRoles(ctx, q.UserID, account.ID)
	if err != nil {
		return false, err
	}
	for _, role := range roles {
		if slices.Contains(gatehouse.BuiltinRolePermissions[role], q.Permission) {
			return true, nil
		}
	}
	return false, nil
}
