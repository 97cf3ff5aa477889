package accounts

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Rights are what the caller may do on one account: the portal shows only
// the sections and buttons that would work. Every action still asks
// authorize itself; these only decide what to show.
type Rights struct {
	Account        gatehouse.Account
	ReadMembers    bool
	ManageMembers  bool
	ReadAudit      bool
	ChangeSettings bool
	CreateClient   bool
	RemoteMonitor  bool
	// APITokens: the caller may make personal API tokens for this account.
	APITokens bool
	// IdentityProviders: the caller manages this integrator's identity
	// providers (its administrators and operators).
	IdentityProviders bool
	// Applications: the caller registers this integrator's own
	// applications (its administrators and operators).
	Applications bool
	// Brand: the caller sets the integrator's brand (its administrators,
	// operators); clients wear their integrator's.
	Brand bool
	// Webhooks: the caller subscribes endpoints to the account's events
	// (its administrators and operators).
	Webhooks bool
	// SCIM: the caller makes the account's SCIM tokens, reads its
	// directory's calls and maps its groups (its administrators, its
	// integrator's administrators, operators); SCIMAdminLevel: the caller
	// may map a group to the administrators' level.
	SCIM, SCIMAdminLevel bool
	// Suspend, Restore and Delete: the caller may move the account through
	// its life from where it is now.
	Suspend, Restore, Delete bool
	// ProviderAccess: the caller sees whether the client's service provider
	// reaches its cameras and media (R-PV1); DecideProviderAccess: the
	// caller opens it and answers the provider's requests.
	ProviderAccess, DecideProviderAccess bool
	// ClientUsers and MaxClientUsers are the limit's use, for client
	// accounts whose members the caller sees (R-L1).
	ClientUsers, MaxClientUsers int
}

// adminLevelOf is the administrators' level of an account of kind.
func adminLevelOf(kind gatehouse.AccountKind) gatehouse.Level {
	if kind == gatehouse.KindIntegrator {
		return gatehouse.LevelIntegratorAdmin
	}
	return gatehouse.LevelClientAdmin
}

// AccountRights reads the account (ENOTFOUND when the caller may not see
// it) and what the caller may do there.
func (s *Service) AccountRights(ctx context.Context, c gatehouse.Caller, accountID string) (Rights, error) {
	account, access, err := s.AuthorizeAccess(ctx, s.accountsStore, c, accountID, policy.ReadAccount, policy.Target{})
	if err != nil {
		return Rights{}, err
	}
	r := Rights{Account: account,
		ReadMembers:    kernel.May(c, access, account, policy.ReadMembers),
		ManageMembers:  kernel.May(c, access, account, policy.AddMember),
		ReadAudit:      kernel.May(c, access, account, policy.ReadAudit),
		ChangeSettings: kernel.May(c, access, account, policy.ChangeSettings) && account.Kind == gatehouse.KindClient,
		CreateClient:   account.Kind == gatehouse.KindIntegrator && kernel.May(c, access, account, policy.CreateClient),
		RemoteMonitor:  account.Kind == gatehouse.KindClient && kernel.May(c, access, account, policy.ManageRemoteMonitoring),
		APITokens:      kernel.May(c, access, account, policy.CreateAPIToken),
		IdentityProviders: account.Kind == gatehouse.KindIntegrator &&
			kernel.May(c, access, account, policy.ManageIntegratorProviders),
		Applications: account.Kind == gatehouse.KindIntegrator &&
			kernel.May(c, access, account, policy.ManageIntegratorApplications),
		Webhooks: kernel.May(c, access, account, policy.ManageWebhooks),
		Brand:    account.Kind == gatehouse.KindIntegrator && kernel.May(c, access, account, policy.ManageBrand),
		SCIM:     kernel.May(c, access, account, policy.ManageSCIM),
		SCIMAdminLevel: kernel.DecideOn(c, access, account, policy.ManageSCIM,
			policy.Target{Level: adminLevelOf(account.Kind)}) == nil,
		Suspend: account.Status == gatehouse.AccountActive && kernel.May(c, access, account, policy.SuspendAccount),
		Restore: account.Status != gatehouse.AccountActive && kernel.May(c, access, account, policy.RestoreAccount),
		Delete: account.Kind == gatehouse.KindClient && account.Status != gatehouse.AccountDeleted &&
			kernel.May(c, access, account, policy.DeleteAccount),
		ProviderAccess:       account.Kind == gatehouse.KindClient && kernel.May(c, access, account, policy.ReadProviderAccess),
		DecideProviderAccess: account.Kind == gatehouse.KindClient && kernel.May(c, access, account, policy.DecideProviderAccess),
	}
	if r.ReadMembers && account.Kind == gatehouse.KindClient {
		if r.ClientUsers, err = s.accountsStore.ClientUsers(ctx, account.ID); err != nil {
			return r, err
		}
		r.MaxClientUsers = account.Settings.MaxClientUsers
	}
	return r, nil
}
