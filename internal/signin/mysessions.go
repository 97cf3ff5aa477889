package signin

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/password"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// MySessions lists the caller's live sessions; the one in use is marked.
func (s *Service) MySessions(ctx context.Context, c gatehouse.Caller) ([]gatehouse.Session, error) {
	if err := kernel.Decide(c, policy.ManageOwnSessions, policy.Target{Self: true}); err != nil {
		return nil, err
	}
	return s.mySessionsStore.SessionsOf(ctx, c.Principal.UserID, s.Now())
}

// EndMySession ends one of the caller's own sessions (another device's, or
// this one).
func (s *Service) EndMySession(ctx context.Context, c gatehouse.Caller, id string) error {
	if err := kernel.Decide(c, policy.ManageOwnSessions, policy.Target{Self: true}); err != nil {
		return err
	}
	return s.mySessionsStore.Write(ctx, func(tx MySessionsTx) error {
		now := s.Now()
		if err := tx.RevokeUserSession(ctx, c.Principal.UserID, id, now); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.ended", "session", id))
	})
}

// EndSessionsOf ends every session of an identity: for operators and the
// administrators who may manage the person in one of their accounts (a
// stolen laptop, a person who left).
func (s *Service) EndSessionsOf(ctx context.Context, c gatehouse.Caller, userID string) error {
	return s.mySessionsStore.Write(ctx, func(tx MySessionsTx) error {
		user, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if _, err := s.AuthorizeIdentity(ctx, tx, c, user, policy.EndSessionsOf, ""); err != nil {
			return err
		}
		now := s.Now()
		if err := tx.RevokeSessionsOf(ctx, user.ID, now); err != nil {
			return err
		}
		if err := tx.RevokeOIDCTokensOf(ctx, user.ID, now); err != nil {
			return err
		}
		return s.AuditPerson(ctx, tx, s.Audit(c, now, "", "session.ended_by_administrator", "user", user.ID), user.ID)
	})
}

// ResetSecondFactor clears the second factor of a person who lost it (a
// phone gone, no recovery code left): their authenticator key, phone for
// codes and recovery codes go, every session ends, and they set up a new
// factor at their next sign-in. The same people who may end the person's
// sessions may do it; the person is told by e-mail who did.
func (s *Service) ResetSecondFactor(ctx context.Context, c gatehouse.Caller, userID string) error {
	err := s.mySessionsStore.Write(ctx, func(tx MySessionsTx) error {
		user, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if _, err := s.AuthorizeIdentity(ctx, tx, c, user, policy.ResetSecondFactor, ""); err != nil {
			return err
		}
		now := s.Now()
		if err := tx.DeletePasskeysOf(ctx, user.ID); err != nil {
			return err
		}
		if err := tx.SetMFAMethod(ctx, user.ID, gatehouse.MFANone, "", ""); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, user.ID, nil); err != nil {
			return err
		}
		if err := tx.RevokeSessionsOf(ctx, user.ID, now); err != nil {
			return err
		}
		if err := tx.RevokeOIDCTokensOf(ctx, user.ID, now); err != nil {
			return err
		}
		requester, err := s.RequesterName(ctx, tx, c, user.Language)
		if err != nil {
			return err
		}
		if err := s.QueueMail(ctx, tx, now, kernel.MailScope{UserID: user.ID}, user.Username, user.Language, messages.SecondFactorReset, messages.Data{
			FirstName: user.FirstName, Username: user.Username, RequestedBy: requester}); err != nil {
			return err
		}
		return s.AuditPerson(ctx, tx, s.Audit(c, now, "", "mfa.reset_by_administrator", "user", user.ID), user.ID)
	})
	if err == nil {
		s.MailQueued()
	}
	return err
}

// ChangePassword replaces the caller's password, given the current one
// (a wrong one counts as a failed sign-in, R-S3). The person's other
// sessions end; this one goes on.
func (s *Service) ChangePassword(ctx context.Context, c gatehouse.Caller, current, next string) error {
	if err := kernel.Decide(c, policy.ChangeOwnPassword, policy.Target{Self: true}); err != nil {
		return err
	}
	user, err := s.mySessionsStore.User(ctx, c.Principal.UserID)
	if err != nil {
		return err
	}
	creds, err := s.mySessionsStore.Credentials(ctx, user.Username)
	if err != nil {
		return err
	}
	t := policy.Target{Self: true, ServiceIdentity: kernel.IsServiceUser(user), ProviderIdentity: creds.PasswordHash == ""}
	if err := kernel.Decide(c, policy.ChangeOwnPassword, t); err != nil {
		return err
	}
	ok, err := s.Hasher.Verify(ctx, current, creds.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		now := s.Now()
		err := s.mySessionsStore.Write(ctx, func(tx MySessionsTx) error {
			if _, _, err := tx.CountSignInFailure(ctx, UsernameSubject(user.Username), now, 0, usernameFailureLimit, usernameLock); err != nil {
				return err
			}
			return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "password.change_refused", "user", user.ID))
		})
		if err != nil {
			return err
		}
		return gatehouse.Invalid("current_password", "the current password is not right")
	}
	if err := password.Check(next, user.Username); err != nil {
		// The policy names the field "password"; here it is the new one.
		var e *gatehouse.Error
		if errors.As(err, &e) {
			return &gatehouse.Error{Code: e.Code, Field: "new_password", Message: e.Message}
		}
		return err
	}
	hash, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.mySessionsStore.Write(ctx, func(tx MySessionsTx) error {
		now := s.Now()
		if err := tx.SetPassword(ctx, user.ID, hash); err != nil {
			return err
		}
		if err := tx.RevokeOtherSessions(ctx, user.ID, c.Principal.SessionID, now); err != nil {
			return err
		}
		// The applications signed in with the old password sign in again.
		if err := tx.RevokeOIDCTokensOf(ctx, user.ID, now); err != nil {
			return err
		}
		return s.AuditPerson(ctx, tx, s.Audit(c, now, "", "password.changed", "user", user.ID), user.ID)
	})
}
