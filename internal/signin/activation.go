package signin

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/password"
)

// Activate uses an invitation link to set the identity's password (R-M3,
// R-M4, R-S1). The link is single use: it is consumed in the same
// transaction that activates, under a guarded update, so two requests with
// one link cannot both succeed. Every other pending membership of the
// identity whose invitation is still valid becomes active too. A GET of the
// link consumes nothing (mail scanners follow links).
func (s *Service) Activate(ctx context.Context, ip, requestID, secret, newPassword string) (gatehouse.User, error) {
	inv, err := s.validInvitation(ctx, s.activationsStore, secret)
	if err != nil {
		return gatehouse.User{}, err
	}
	user, err := s.activationsStore.User(ctx, inv.UserID)
	if err != nil {
		return gatehouse.User{}, err
	}
	if user.IdentityProviderID != "" {
		return gatehouse.User{}, gatehouse.Invalid("password", "this account signs in through its identity provider: open the activation link in a browser")
	}
	if err := password.Check(newPassword, user.Username); err != nil {
		return gatehouse.User{}, err
	}
	// Hash before taking the write lock: it is the slow part.
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return gatehouse.User{}, err
	}
	c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: user.ID}, IP: ip, RequestID: requestID}
	err = s.activationsStore.Write(ctx, func(tx ActivationsTx) error {
		inv, err := s.validInvitation(ctx, tx, secret)
		if err != nil {
			return err
		}
		return s.activate(ctx, tx, c, inv, hash)
	})
	if err != nil {
		return gatehouse.User{}, err
	}
	user.Status = gatehouse.UserActive
	return user, nil
}

// activate makes the identity of a valid invitation active, with its
// password hash ("" for identities of a provider), and every pending
// membership of it whose invitation is still valid (R-M3).
// activationTx is what activating an invitation writes.
type activationTx interface {
	kernel.Writer
	ActivateUser(ctx context.Context, userID, passwordHash string, now time.Time) error
	EndInvitation(ctx context.Context, accountID, id string, status gatehouse.InvitationStatus, now time.Time) error
	PendingInvitationsOf(ctx context.Context, userID string) ([]gatehouse.Invitation, error)
	SetMembershipStatus(ctx context.Context, accountID, membershipID string, status gatehouse.MembershipStatus) error
}

func (s *Service) activate(ctx context.Context, tx activationTx, c gatehouse.Caller, inv gatehouse.Invitation, passwordHash string) error {
	invalid := gatehouse.Errorf(gatehouse.EINVITEINVALID, "this activation link is not valid: it was used, replaced by a newer one, or cancelled")
	now := s.Now()
	if err := tx.ActivateUser(ctx, inv.UserID, passwordHash, now); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return invalid // activated meanwhile through another link
	} else if err != nil {
		return err
	}
	if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, inv.AccountID, "user.activated", "user", inv.UserID)); err != nil {
		return err
	}
	pending, err := tx.PendingInvitationsOf(ctx, inv.UserID)
	if err != nil {
		return err
	}
	for _, p := range pending {
		if p.StatusAt(now) != gatehouse.InvitationPending {
			continue // expired: a new invitation must be sent (R-M4)
		}
		if err := tx.EndInvitation(ctx, p.AccountID, p.ID, gatehouse.InvitationAccepted, now); err != nil {
			return err
		}
		if err := tx.SetMembershipStatus(ctx, p.AccountID, p.MembershipID, gatehouse.MembershipActive); err != nil {
			return err
		}
		if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, p.AccountID, "invitation.accepted", "invitation", p.ID)); err != nil {
			return err
		}
	}
	return nil
}

// CheckActivationLink tells whether a link may still be used, without
// using it: the activation page calls it on GET.
func (s *Service) CheckActivationLink(ctx context.Context, secret string) (gatehouse.User, error) {
	inv, err := s.validInvitation(ctx, s.activationsStore, secret)
	if err != nil {
		return gatehouse.User{}, err
	}
	return s.activationsStore.User(ctx, inv.UserID)
}

// validInvitation finds the pending, unexpired invitation of a link.
// invitationReader finds an invitation by the hash of its link's secret.
type invitationReader interface {
	InvitationByTokenHash(ctx context.Context, hash []byte) (gatehouse.Invitation, error)
}

func (s *Service) validInvitation(ctx context.Context, r invitationReader, secret string) (gatehouse.Invitation, error) {
	if gatehouse.TokenKind(secret) != gatehouse.TokenInvitation {
		return gatehouse.Invitation{}, gatehouse.Errorf(gatehouse.EINVITEINVALID, "this activation link is not valid: it was used, replaced by a newer one, or cancelled")
	}
	return s.validInvitationByHash(ctx, r, gatehouse.HashToken(secret))
}

// validInvitationByHash is validInvitation for the hash of a link's secret.
func (s *Service) validInvitationByHash(ctx context.Context, r invitationReader, hash []byte) (gatehouse.Invitation, error) {
	invalid := gatehouse.Errorf(gatehouse.EINVITEINVALID, "this activation link is not valid: it was used, replaced by a newer one, or cancelled")
	inv, err := r.InvitationByTokenHash(ctx, hash)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return inv, invalid
	} else if err != nil {
		return inv, err
	}
	switch inv.StatusAt(s.Now()) {
	case gatehouse.InvitationPending:
		return inv, nil
	case gatehouse.InvitationExpired:
		return inv, gatehouse.Errorf(gatehouse.EINVITEEXPIRED, "this activation link has expired; ask your administrator to send a new invitation")
	}
	return inv, invalid
}
