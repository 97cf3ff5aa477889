package people

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Invitations lists an account's invitations, newest first (R-M5).
func (s *Service) Invitations(ctx context.Context, c gatehouse.Caller, accountID string, status gatehouse.InvitationStatus, page gatehouse.PageRequest) (gatehouse.Page[gatehouse.Invitation], error) {
	return s.FindInvitations(ctx, c, accountID, gatehouse.InvitationFilter{Status: status, Page: page})
}

// FindInvitations lists an account's invitations the filter keeps, newest
// first: a status, a search by address.
func (s *Service) FindInvitations(ctx context.Context, c gatehouse.Caller, accountID string, f gatehouse.InvitationFilter) (gatehouse.Page[gatehouse.Invitation], error) {
	if len(f.Query) > 200 {
		return gatehouse.Page[gatehouse.Invitation]{}, gatehouse.Invalid("q", "a search is 200 characters at most")
	}
	switch f.Status {
	case "", gatehouse.InvitationPending, gatehouse.InvitationAccepted, gatehouse.InvitationExpired, gatehouse.InvitationCancelled:
	default:
		return gatehouse.Page[gatehouse.Invitation]{}, gatehouse.Invalid("status", "status must be pending, accepted, expired or cancelled")
	}
	if _, err := s.Authorize(ctx, s.invitationsStore, c, accountID, policy.ReadMembers); err != nil {
		return gatehouse.Page[gatehouse.Invitation]{}, err
	}
	now := s.Now()
	invs, err := s.invitationsStore.FindInvitations(ctx, accountID, f, now)
	for i := range invs.Items {
		invs.Items[i].Status = invs.Items[i].StatusAt(now)
	}
	return invs, err
}

// Invitation returns one invitation the caller may see; others are
// ENOTFOUND, as unknown ones are (R-X2).
func (s *Service) Invitation(ctx context.Context, c gatehouse.Caller, id string) (gatehouse.Invitation, error) {
	inv, _, _, err := s.invitationFor(ctx, s.invitationsStore, c, id, policy.ReadMembers)
	return inv, err
}

// invitationFor reads an invitation and authorizes act on its account.
func (s *Service) invitationFor(ctx context.Context, r InvitationsReader, c gatehouse.Caller, id string, act policy.Action) (gatehouse.Invitation, gatehouse.Account, gatehouse.Access, error) {
	inv, err := r.Invitation(ctx, id)
	if err != nil {
		return inv, gatehouse.Account{}, gatehouse.Access{}, err
	}
	account, access, err := s.AuthorizeAccess(ctx, r, c, inv.AccountID, act, policy.Target{})
	if code := gatehouse.ErrorCode(err); code == gatehouse.ENOTFOUND {
		return gatehouse.Invitation{}, account, access, gatehouse.NotFound("invitation")
	} else if err != nil {
		return gatehouse.Invitation{}, account, access, err
	}
	inv.Status = inv.StatusAt(s.Now())
	return inv, account, access, nil
}

// ResendInvitation sends a pending or expired invitation again: a new link
// (the old one dies), a new expiry, a new e-mail (R-M5).
func (s *Service) ResendInvitation(ctx context.Context, c gatehouse.Caller, id string) (gatehouse.Invitation, error) {
	var out gatehouse.Invitation
	err := s.invitationsStore.Write(ctx, func(tx InvitationsTx) error {
		inv, account, err := s.manageableInvitation(ctx, tx, c, id)
		if err != nil {
			return err
		}
		user, err := tx.User(ctx, inv.UserID)
		if err != nil {
			return err
		}
		now := s.Now()
		member, err := tx.Member(ctx, inv.AccountID, inv.MembershipID)
		if err != nil {
			return err
		}
		if member.Expired(now) {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "this person's access ended on %s: extend it before sending the invitation again",
				member.ExpiresAt.Format(time.RFC3339))
		}
		secret, hash := gatehouse.NewToken(gatehouse.TokenInvitation)
		inv.TokenHash, inv.InvitedBy, inv.SentAt, inv.ExpiresAt = hash, c.Principal.ActorID(), now, invitationEnd(now.Add(s.invitationTTL), member.Membership)
		if err := tx.RenewInvitation(ctx, inv.AccountID, inv.ID, hash, inv.InvitedBy, inv.SentAt, inv.ExpiresAt); err != nil {
			return err
		}
		inv.Status = gatehouse.InvitationPending
		mail := messages.Data{FirstName: user.FirstName, AccountName: account.Name, Username: user.Username,
			Link: s.ActivationLink(secret), ExpiresAt: inv.ExpiresAt, AccessUntil: member.ExpiresAt}
		if err := s.QueueMail(ctx, tx, now, kernel.MailScope{AccountID: inv.AccountID}, inv.Email, user.Language, messages.Activation, mail); err != nil {
			return err
		}
		out = inv
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, inv.AccountID, "invitation.resent", "invitation", inv.ID))
	})
	if err == nil {
		s.MailQueued()
	}
	return out, err
}

// CancelInvitation kills the link and removes the pending membership,
// freeing its client-user slot (R-M5).
func (s *Service) CancelInvitation(ctx context.Context, c gatehouse.Caller, id string) (gatehouse.Invitation, error) {
	var out gatehouse.Invitation
	err := s.invitationsStore.Write(ctx, func(tx InvitationsTx) error {
		inv, _, err := s.manageableInvitation(ctx, tx, c, id)
		if err != nil {
			return err
		}
		now := s.Now()
		if err := tx.EndInvitation(ctx, inv.AccountID, inv.ID, gatehouse.InvitationCancelled, now); err != nil {
			return err
		}
		member, err := tx.Member(ctx, inv.AccountID, inv.MembershipID)
		switch gatehouse.ErrorCode(err) {
		case "":
			if member.Status != gatehouse.MembershipActive {
				if err := tx.DeleteMembership(ctx, inv.AccountID, inv.MembershipID); err != nil {
					return err
				}
				if member.Level == gatehouse.LevelClientUser {
					if err := tx.ReleaseClientUserSlot(ctx, inv.AccountID); err != nil {
						return err
					}
				}
			}
		case gatehouse.ENOTFOUND: // removed already
		default:
			return err
		}
		inv.Status, inv.EndedAt = gatehouse.InvitationCancelled, now
		out = inv
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, inv.AccountID, "invitation.cancelled", "invitation", inv.ID))
	})
	return out, err
}

// manageableInvitation reads an invitation that caller may resend or cancel:
// pending or expired, in an account where they may manage its member's level.
func (s *Service) manageableInvitation(ctx context.Context, tx InvitationsTx, c gatehouse.Caller, id string) (gatehouse.Invitation, gatehouse.Account, error) {
	inv, account, access, err := s.invitationFor(ctx, tx, c, id, policy.AddMember)
	if err != nil {
		return inv, account, err
	}
	if inv.Status != gatehouse.InvitationPending && inv.Status != gatehouse.InvitationExpired {
		return inv, account, gatehouse.Errorf(gatehouse.ECONFLICT, "this invitation is %s", inv.Status)
	}
	member, err := tx.Member(ctx, inv.AccountID, inv.MembershipID)
	if err != nil {
		return inv, account, err
	}
	return inv, account, kernel.DecideOn(c, access, account, policy.AddMember, policy.Target{Level: member.Level})
}
