package accounts

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// An account's life (R-T5): an integrator suspends a client who stopped
// paying and restores it later, and deletes a site that closed; an operator
// may bring a deleted client back for 30 days, after which it is purged.

// SuspendAccount suspends an account: its own members cannot act in it
// (403 account_suspended) and their checks answer no, while its
// integrator's staff still manage it and its remote monitoring user keeps
// working. The tokens the platform's applications hold for the account are
// revoked. An integrator suspended (operators only) stops its staff in
// every client as well. Suspending a suspended account changes nothing.
func (s *Service) SuspendAccount(ctx context.Context, c gatehouse.Caller, id string) (gatehouse.Account, error) {
	return s.moveAccount(ctx, c, id, policy.SuspendAccount, gatehouse.AccountSuspended, "account.suspended")
}

// RestoreAccount makes a suspended account active again; operators also
// bring back a deleted client within its 30 days, empty of people (they
// were removed at its deletion), under its name unless another client of
// the integrator took it meanwhile (409 conflict).
func (s *Service) RestoreAccount(ctx context.Context, c gatehouse.Caller, id string) (gatehouse.Account, error) {
	return s.moveAccount(ctx, c, id, policy.RestoreAccount, gatehouse.AccountActive, "account.restored")
}

func (s *Service) moveAccount(ctx context.Context, c gatehouse.Caller, id string, act policy.Action, to gatehouse.AccountStatus, action string) (gatehouse.Account, error) {
	var account gatehouse.Account
	err := s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		var err error
		if account, err = s.Authorize(ctx, tx, c, id, act); err != nil {
			return err
		}
		switch {
		case account.Status == to:
			return nil
		case account.Status == gatehouse.AccountDeleted && to == gatehouse.AccountSuspended:
			return gatehouse.Errorf(gatehouse.ECONFLICT, "a deleted account is restored, not suspended")
		}
		from := account.Status
		account.Status, account.PurgeAfter = to, time.Time{}
		if err := tx.SetAccountStatus(ctx, account.ID, to, time.Time{}); err != nil {
			return err
		}
		now := s.Now()
		if to == gatehouse.AccountSuspended {
			// The platform's applications lose the account at once; its
			// integrator's staff sign in to them again.
			if err := tx.RevokeOIDCAccountTokens(ctx, account.ID, "", now); err != nil {
				return err
			}
		}
		ev := s.Audit(c, now, account.ID, action, "account", account.ID).With("status", string(from), string(to))
		if err := tx.InsertAuditEvent(ctx, ev); err != nil {
			return err
		}
		return s.auditAtIntegrator(ctx, tx, c, account, now, action)
	})
	return account, err
}

// DeleteAccount deletes a client account, confirmed by its name typed
// again: every membership (its remote monitoring user's included),
// invitation link, API token, grant and group place in it ends at once,
// and the sessions of the people who belong nowhere else; identities that
// belong elsewhere stay. The account itself is kept, deleted, for an
// operator to restore until its purge 30 days later; its integrator's
// audit log keeps the record.
func (s *Service) DeleteAccount(ctx context.Context, c gatehouse.Caller, id, confirmName string) (gatehouse.Account, error) {
	var account gatehouse.Account
	err := s.accountsStore.Write(ctx, func(tx AccountsTx) error {
		var err error
		if account, err = s.Authorize(ctx, tx, c, id, policy.DeleteAccount); err != nil {
			return err
		}
		switch {
		case account.Kind != gatehouse.KindClient:
			return gatehouse.Errorf(gatehouse.ECONFLICT, "an integrator account is suspended, not deleted")
		case account.Status == gatehouse.AccountDeleted:
			return gatehouse.Errorf(gatehouse.ECONFLICT, "the account is deleted already")
		case gatehouse.NameKey(confirmName) != gatehouse.NameKey(account.Name) || strings.TrimSpace(confirmName) == "":
			return gatehouse.Invalid("confirm_name", "type the account's name to confirm its deletion")
		}
		now, before := s.Now(), account.Status
		people, err := tx.EndAccountPeople(ctx, account.ID, now)
		if err != nil {
			return err
		}
		account.Status, account.PurgeAfter = gatehouse.AccountDeleted, now.Add(gatehouse.DeletedAccountKept)
		if err := tx.SetAccountStatus(ctx, account.ID, account.Status, account.PurgeAfter); err != nil {
			return err
		}
		ev := s.Audit(c, now, account.ID, "account.deleted", "account", account.ID).
			With("status", string(before), string(gatehouse.AccountDeleted)).
			With("people", strconv.Itoa(len(people)), "0")
		if err := tx.InsertAuditEvent(ctx, ev); err != nil {
			return err
		}
		return s.auditAtIntegrator(ctx, tx, c, account, now, "account.deleted")
	})
	return account, err
}

// auditAtIntegrator records a change of a client's life in its
// integrator's audit log too, which outlives the client's own.
func (s *Service) auditAtIntegrator(ctx context.Context, tx AccountsTx, c gatehouse.Caller, account gatehouse.Account, now time.Time, action string) error {
	if account.IntegratorID == "" {
		return nil
	}
	return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.IntegratorID, action, "account", account.ID).
		With("name", "", account.Name))
}

// purgeBatch bounds how many accounts one pass purges.
const purgeBatch = 20

// PurgeDeletedAccounts removes for good the deleted accounts whose 30 days
// are over, each in its own transaction, and records it in the
// integrator's audit log. It returns how many it purged. Two nodes may run
// it at once: an account is purged by one of them.
func (s *Service) PurgeDeletedAccounts(ctx context.Context) (int, error) {
	due, err := s.accountsStore.AccountsToPurge(ctx, s.Now(), purgeBatch)
	if err != nil {
		return 0, err
	}
	purged := 0
	for _, account := range due {
		err := s.accountsStore.Write(ctx, func(tx AccountsTx) error {
			if err := tx.PurgeAccount(ctx, account.ID); err != nil {
				return err
			}
			ev := s.Audit(gatehouse.Caller{}, s.Now(), account.IntegratorID, "account.purged", "account", account.ID).With("name", "", account.Name)
			ev.ActorID = gatehouse.SystemActor
			return tx.InsertAuditEvent(ctx, ev)
		})
		switch gatehouse.ErrorCode(err) {
		case "":
			purged++
		case gatehouse.ENOTFOUND: // restored, or purged by another node
		default:
			return purged, err
		}
	}
	return purged, nil
}
