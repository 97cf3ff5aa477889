package accounts

import (
	"context"
	"strconv"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// NewAccount is the input of CreateAccount.
type NewAccount struct {
	Kind         gatehouse.AccountKind
	Name         string
	Address      string
	IntegratorID string
}

// CreateAccount creates an integrator account (operators only) or a client
// account under an integrator (operators and that integrator's staff)
// (R-T1…R-T3).
func (s *Service) CreateAccount(ctx context.Context, c gatehouse.Caller, in NewAccount) (gatehouse.Account, error) {
	name, err := gatehouse.ValidateAccountName("name", in.Name)
	if err != nil {
		return gatehouse.Account{}, err
	}
	address, err := gatehouse.ValidateAddress("address", in.Address)
	if err != nil {
		return gatehouse.Account{}, err
	}
	now := s.Now()
	account := gatehouse.Account{
		ID: s.NewID(), Kind: in.Kind, Name: name, Address: address, Status: gatehouse.AccountActive,
		Settings: gatehouse.AccountSettings{MaxClientUsers: gatehouse.DefaultMaxClientUsers},
		TimeZone: gatehouse.DefaultTimeZone, CreatedAt: now, UpdatedAt: now,
	}
	switch in.Kind {
	case gatehouse.KindIntegrator:
		if in.IntegratorID != "" {
			return gatehouse.Account{}, gatehouse.Invalid("integrator_id", "an integrator account has no integrator")
		}
		if err := kernel.Decide(c, policy.CreateIntegrator, policy.Target{}); err != nil {
			return gatehouse.Account{}, err
		}
	case gatehouse.KindClient:
		if in.IntegratorID == "" {
			return gatehouse.Account{}, gatehouse.Invalid("integrator_id", "a client account needs the id of its integrator")
		}
		account.IntegratorID = in.IntegratorID
	case "":
		return gatehouse.Account{}, gatehouse.Invalid("kind", `kind is required: "integrator" or "client"`)
	default:
		return gatehouse.Account{}, gatehouse.Invalid("kind", `kind must be "integrator" or "client"`)
	}

	err = s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		if account.Kind == gatehouse.KindClient {
			owner, err := s.Authorize(ctx, tx, c, account.IntegratorID, policy.CreateClient)
			if code := gatehouse.ErrorCode(err); code == gatehouse.ENOTFOUND {
				return &gatehouse.Error{Code: code, Message: "integrator not found", Field: "integrator_id"}
			} else if err != nil {
				return err
			}
			if owner.Kind != gatehouse.KindIntegrator {
				return gatehouse.Invalid("integrator_id", "integrator_id must name an integrator account")
			}
		}
		if err := tx.InsertAccount(ctx, account); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "account.created", "account", account.ID))
	})
	if err != nil {
		return gatehouse.Account{}, err
	}
	return account, nil
}

// Account returns one account the caller may see.
func (s *Service) Account(ctx context.Context, c gatehouse.Caller, id string) (gatehouse.Account, error) {
	return s.Authorize(ctx, s.accountsStore, c, id, policy.ReadAccount)
}

// ListAccounts lists the accounts the caller may see (R-T4).
func (s *Service) ListAccounts(ctx context.Context, c gatehouse.Caller, f gatehouse.AccountFilter) (gatehouse.Page[gatehouse.Account], error) {
	switch f.Kind {
	case "", gatehouse.KindIntegrator, gatehouse.KindClient:
	default:
		return gatehouse.Page[gatehouse.Account]{}, gatehouse.Invalid("kind", `kind must be "integrator" or "client"`)
	}
	switch f.Status {
	case "", gatehouse.AccountActive, gatehouse.AccountSuspended, gatehouse.AccountDeleted:
	default:
		return gatehouse.Page[gatehouse.Account]{}, gatehouse.Invalid("status", `status must be "active", "suspended" or "deleted"`)
	}
	if !c.Principal.Operator {
		if c.Principal.UserID == "" {
			return gatehouse.Page[gatehouse.Account]{}, gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "missing or invalid token")
		}
		if err := kernel.Decide(c, policy.ListAccounts, policy.Target{}); err != nil {
			return gatehouse.Page[gatehouse.Account]{}, err
		}
		f.Visible = &gatehouse.Visibility{UserID: c.Principal.UserID, ScopeAccountID: c.Principal.ScopeAccountID, At: s.Now()}
	}
	return s.accountsStore.ListAccounts(ctx, f)
}

// AccountPatch changes the fields that are set.
type AccountPatch struct {
	Name    *string
	Address *string
	// TimeZone is an IANA name, such as Europe/Paris (R-PV2).
	TimeZone *string
}

// UpdateAccount renames an account, changes its address or its time zone.
func (s *Service) UpdateAccount(ctx context.Context, c gatehouse.Caller, id string, p AccountPatch) (gatehouse.Account, error) {
	var err error
	var name, address, timeZone string
	if p.TimeZone != nil {
		if timeZone, err = gatehouse.ValidateTimeZone("time_zone", *p.TimeZone); err != nil {
			return gatehouse.Account{}, err
		}
	}
	if p.Name != nil {
		if name, err = gatehouse.ValidateAccountName("name", *p.Name); err != nil {
			return gatehouse.Account{}, err
		}
	}
	if p.Address != nil {
		if address, err = gatehouse.ValidateAddress("address", *p.Address); err != nil {
			return gatehouse.Account{}, err
		}
	}
	var account gatehouse.Account
	err = s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		account, err = s.Authorize(ctx, tx, c, id, policy.UpdateAccount)
		if err != nil {
			return err
		}
		before := account
		if p.Name != nil {
			account.Name = name
		}
		if p.Address != nil {
			account.Address = address
		}
		if p.TimeZone != nil {
			account.TimeZone = timeZone
		}
		account.UpdatedAt = s.Now()
		if err := tx.UpdateAccount(ctx, account); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, account.UpdatedAt, account.ID, "account.updated", "account", account.ID).
			With("name", before.Name, account.Name).
			With("address", before.Address, account.Address).
			With("time_zone", before.TimeZone, account.TimeZone))
	})
	return account, err
}

// SettingsPatch changes the settings that are set.
type SettingsPatch struct {
	MaxClientUsers                     *int
	ClientAdminsCanAddRemoteMonitoring *bool
}

// MaxClientUsersCeiling bounds max_client_users; the product is built for
// small sites, and a typo of 90000 should not pass.
const MaxClientUsersCeiling = 10000

// UpdateSettings changes the per-account switches; operators only (R-L1, R-RM3).
func (s *Service) UpdateSettings(ctx context.Context, c gatehouse.Caller, id string, p SettingsPatch) (gatehouse.Account, error) {
	if p.MaxClientUsers != nil && (*p.MaxClientUsers < 0 || *p.MaxClientUsers > MaxClientUsersCeiling) {
		return gatehouse.Account{}, gatehouse.Invalid("max_client_users", "max_client_users must be between 0 and %d", MaxClientUsersCeiling)
	}
	var account gatehouse.Account
	err := s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		var err error
		account, err = s.Authorize(ctx, tx, c, id, policy.ChangeSettings)
		if err != nil {
			return err
		}
		if account.Kind != gatehouse.KindClient {
			return gatehouse.Invalid("settings", "settings apply to client accounts only")
		}
		before := account.Settings
		if p.MaxClientUsers != nil {
			account.Settings.MaxClientUsers = *p.MaxClientUsers
		}
		if p.ClientAdminsCanAddRemoteMonitoring != nil {
			account.Settings.ClientAdminsCanAddRemoteMonitoring = *p.ClientAdminsCanAddRemoteMonitoring
		}
		account.UpdatedAt = s.Now()
		if err := tx.UpdateAccount(ctx, account); err != nil {
			return err
		}
		after := account.Settings
		return tx.InsertAuditEvent(ctx, s.Audit(c, account.UpdatedAt, account.ID, "account.settings_changed", "account", account.ID).
			With("max_client_users", strconv.Itoa(before.MaxClientUsers), strconv.Itoa(after.MaxClientUsers)).
			With("client_admins_can_add_remote_monitoring", strconv.FormatBool(before.ClientAdminsCanAddRemoteMonitoring),
				strconv.FormatBool(after.ClientAdminsCanAddRemoteMonitoring)))
	})
	return account, err
}

// AuditEvents lists an account's audit log, newest first (R-X1).
func (s *Service) AuditEvents(ctx context.Context, c gatehouse.Caller, accountID string, f gatehouse.AuditFilter) (gatehouse.Page[gatehouse.AuditEvent], error) {
	if _, err := s.Authorize(ctx, s.accountsStore, c, accountID, policy.ReadAudit); err != nil {
		return gatehouse.Page[gatehouse.AuditEvent]{}, err
	}
	if len(f.ActionPrefix) > 100 || len(f.ActorID) > 100 {
		return gatehouse.Page[gatehouse.AuditEvent]{}, gatehouse.Invalid("action", "filters are at most 100 characters")
	}
	f.AccountID = accountID
	return s.accountsStore.ListAuditEvents(ctx, f)
}
