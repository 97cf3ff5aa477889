package signin

import (
	"context"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/password"
)

// "Forgot your password?". A link lives an hour and works once;
// using it ends the identity's other links and sessions. A username gets
// at most five links an hour; past that, and for usernames nobody has, the
// request is answered the same and nothing is sent.
const (
	PasswordResetLifetime = time.Hour
	resetsPerHour         = 5
)

func resetSubject(username string) string {
	return "reset:" + gatehouse.Truncate(gatehouse.UsernameKey(username), gatehouse.MaxEmailLen)
}

// RequestPasswordReset mails a reset link to an active identity with a
// local password. The caller learns nothing: the answer, and the work done
// (one write transaction), are the same whether or not the username exists,
// is pending, signs in through a provider, or asked too often.
func (s *Service) RequestPasswordReset(ctx context.Context, ip, requestID, username string) error {
	if len(username) > 2*gatehouse.MaxEmailLen {
		username = username[:2*gatehouse.MaxEmailLen]
	}
	creds, err := s.resetsStore.Credentials(ctx, username)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return err
	}
	sent := false
	err = s.resetsStore.Write(ctx, func(tx ResetsTx) error {
		now := s.Now()
		sent = false
		// Counted for every username, known or not, so both cost the same
		// statement; a window of an hour forgets older requests.
		n, _, err := tx.CountSignInFailure(ctx, resetSubject(username), now, time.Hour, 1<<30, 0)
		if err != nil {
			return err
		}
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: creds.UserID}, IP: ip, RequestID: requestID}
		if creds.UserID == "" || creds.Status != gatehouse.UserActive || creds.PasswordHash == "" || n > resetsPerHour {
			return nil
		}
		user, err := tx.User(ctx, creds.UserID)
		if err != nil {
			return err
		}
		secret, hash := gatehouse.NewToken(gatehouse.TokenReset)
		expires := now.Add(PasswordResetLifetime)
		if err := tx.InsertPasswordReset(ctx, s.NewID(), user.ID, hash, now, expires); err != nil {
			return err
		}
		if err := s.QueueMail(ctx, tx, now, kernel.MailScope{UserID: user.ID}, user.Username, user.Language, messages.PasswordReset, messages.Data{FirstName: user.FirstName,
			Username: user.Username, Link: s.PublicURL() + "/reset-password?token=" + url.QueryEscape(secret), ExpiresAt: expires}); err != nil {
			return err
		}
		sent = true
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "password.reset_requested", "user", user.ID))
	})
	if sent {
		s.MailQueued()
	}
	return err
}

// ResetPassword follows a reset link: the new password (checked against
// the policy, R-S1) replaces the old one, every session of the identity
// ends, and the link is used. The second factor is still asked at the next
// sign-in: a reset link is one factor.
func (s *Service) ResetPassword(ctx context.Context, ip, requestID, secret, newPassword string) (gatehouse.User, error) {
	invalid := gatehouse.Errorf(gatehouse.ECONFIRMINVALID, "this link was used, replaced or has expired; ask for a new one")
	if gatehouse.TokenKind(secret) != gatehouse.TokenReset {
		return gatehouse.User{}, invalid
	}
	// The policy needs the username: the link's identity is read first,
	// without using the link, so a refused password leaves it usable.
	userID, err := s.resetsStore.PasswordResetUserID(ctx, gatehouse.HashToken(secret), s.Now())
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return gatehouse.User{}, invalid
	} else if err != nil {
		return gatehouse.User{}, err
	}
	user, err := s.resetsStore.User(ctx, userID)
	if err != nil {
		return gatehouse.User{}, err
	}
	if err := password.Check(newPassword, user.Username); err != nil {
		return gatehouse.User{}, err
	}
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return gatehouse.User{}, err
	}
	err = s.resetsStore.Write(ctx, func(tx ResetsTx) error {
		now := s.Now()
		userID, err := tx.UsePasswordReset(ctx, gatehouse.HashToken(secret), now)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && userID != user.ID) {
			return invalid // used meanwhile
		} else if err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, user.ID, hash); err != nil {
			return err
		}
		if err := tx.RevokeSessionsOf(ctx, user.ID, now); err != nil {
			return err
		}
		if err := tx.RevokeOIDCTokensOf(ctx, user.ID, now); err != nil {
			return err
		}
		if err := tx.ClearSignInFailures(ctx, UsernameSubject(user.Username)); err != nil {
			return err
		}
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: user.ID}, IP: ip, RequestID: requestID}
		return s.AuditPerson(ctx, tx, s.Audit(c, now, "", "password.reset", "user", user.ID), user.ID)
	})
	return user, err
}
