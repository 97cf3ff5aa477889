package signin

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// ManagedIdentityProviders lists the providers the caller manages, for the
// portal's pages that create and delete them (R-U5). With accountID "" it
// is every provider, the platform's and each integrator's, and only
// operators may ask; with an integrator account, the providers that account
// owns, for its administrators and operators. IdentityProviders is another
// list: the providers a person may pick for someone they add, which anyone
// signed in may read, so it cannot guard these pages.
//
// The policy is asked before the account's kind is checked, so a client
// account's administrator is told they may not (403) rather than that the
// request is malformed.
func (s *Service) ManagedIdentityProviders(ctx context.Context, c gatehouse.Caller, accountID string) ([]gatehouse.IdentityProvider, error) {
	if accountID == "" {
		if err := kernel.Decide(c, policy.ManagePlatformProviders, policy.Target{}); err != nil {
			return nil, err
		}
		return s.providersStore.IdentityProviders(ctx, nil)
	}
	account, access, err := s.AuthorizeAccess(ctx, s.providersStore, c, accountID, policy.ReadAccount, policy.Target{})
	if err != nil {
		return nil, err
	}
	if err := kernel.DecideOn(c, access, account, policy.ManageIntegratorProviders, policy.Target{}); err != nil {
		return nil, err
	}
	if account.Kind != gatehouse.KindIntegrator {
		return nil, gatehouse.Invalid("account_id", "identity providers belong to an integrator account, and serve its clients too")
	}
	return s.providersStore.IdentityProviders(ctx, []string{account.ID})
}
