package people

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Access that ends by itself (docs/access.md): a membership or a folder
// grant may carry the instant it ends. From that instant it counts for
// nothing, on every node, without waiting for anything here: the store's
// reads of who holds what and the access model compare the end with the
// clock of the question. The sweeper below then removes it for good,
// exactly as removing the member or deleting the grant would, and records
// that the system did.

// ExpiryResult counts what one sweep removed on this node.
type ExpiryResult struct {
	Memberships int
	Grants      int
}

// expiryBatch is how many ended memberships or grants a sweep reads at a
// time; each is then ended in its own transaction.
const expiryBatch = 200

// EndExpiredAccess removes every membership and grant that ended by now,
// one transaction each, and counts those this node removed. Several nodes
// may sweep at once: each delete is guarded, so a membership or grant is
// removed, and its audit event written, once; what another node removed
// first, or what was extended meanwhile, is left and not counted.
func (s *Service) EndExpiredAccess(ctx context.Context) (ExpiryResult, error) {
	var res ExpiryResult
	now := s.Now()
	for {
		ended, err := s.expiryStore.ExpiredMemberships(ctx, now, expiryBatch)
		if err != nil {
			return res, err
		}
		removed := 0
		for _, m := range ended {
			ok, err := s.endMembership(ctx, m, now)
			if err != nil {
				return res, err
			}
			if ok {
				removed++
			}
		}
		res.Memberships += removed
		if len(ended) < expiryBatch || removed == 0 {
			break
		}
	}
	for {
		ended, err := s.expiryStore.ExpiredGrants(ctx, now, expiryBatch)
		if err != nil {
			return res, err
		}
		removed := 0
		for _, g := range ended {
			ok, err := s.endGrant(ctx, g, now)
			if err != nil {
				return res, err
			}
			if ok {
				removed++
			}
		}
		res.Grants += removed
		if len(ended) < expiryBatch || removed == 0 {
			break
		}
	}
	return res, nil
}

// endMembership removes one membership that ended, as RemoveUser does: its
// invitations are cancelled, a client user's slot is freed, the person's
// grants and group places in the account go with it, and the tokens made
// through it die, the platform's applications' for the account included. A person left without any other active membership, and
// who is no operator, is signed out everywhere: their sessions could open
// nothing any more. It tells whether this call removed it.
func (s *Service) endMembership(ctx context.Context, m gatehouse.Membership, now time.Time) (bool, error) {
	err := s.expiryStore.Write(ctx, func(tx ExpiryTx) error {
		gone, err := tx.DeleteExpiredMembership(ctx, m.AccountID, m.ID, now)
		if err != nil {
			return err
		}
		if err := tx.CancelInvitationsOf(ctx, m.AccountID, m.ID, now); err != nil {
			return err
		}
		if err := tx.RevokeOIDCAccountTokens(ctx, m.AccountID, gone.UserID, now); err != nil {
			return err
		}
		if gone.Level == gatehouse.LevelClientUser {
			if err := tx.ReleaseClientUserSlot(ctx, m.AccountID); err != nil {
				return err
			}
		}
		if err := s.signOutIfNowhere(ctx, tx, gone.UserID, now); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.SystemAudit(now, m.AccountID, "user.expired", "membership", m.ID).About(gone.UserID))
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return false, nil // removed by another node, or extended meanwhile
	}
	return err == nil, err
}

// signOutIfNowhere ends the sessions of a person who holds no active
// membership left at now and is no operator.
func (s *Service) signOutIfNowhere(ctx context.Context, tx ExpiryTx, userID string, now time.Time) error {
	left, err := tx.MembershipsOf(ctx, userID, now)
	if err != nil {
		return err
	}
	for _, other := range left {
		if other.Status == gatehouse.MembershipActive {
			return nil
		}
	}
	operator, err := tx.IsOperator(ctx, userID)
	if err != nil || operator {
		return err
	}
	return tx.RevokeSessionsOf(ctx, userID, now)
}

// endGrant deletes one grant that ended. It tells whether this call
// deleted it.
func (s *Service) endGrant(ctx context.Context, g gatehouse.Grant, now time.Time) (bool, error) {
	err := s.expiryStore.Write(ctx, func(tx ExpiryTx) error {
		if err := tx.DeleteExpiredGrant(ctx, g.AccountID, g.ID, now); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.SystemAudit(now, g.AccountID, "grant.expired", "grant", g.ID))
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return false, nil
	}
	return err == nil, err
}

// RunExpirySweeper ends access that ended by itself, now and then every
// interval, until ctx ends; report, if not nil, hears of every sweep that
// removed something or failed. Every node runs it: see EndExpiredAccess.
func (s *Service) RunExpirySweeper(ctx context.Context, every time.Duration, report func(ExpiryResult, error)) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		res, err := s.EndExpiredAccess(ctx)
		if report != nil && (err != nil || res != (ExpiryResult{})) && ctx.Err() == nil {
			report(res, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
