package people

import (
	"context"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/photo"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/signin"
)

// ProfilePatch changes the profile fields that are set (the API reference at /api/docs).
type ProfilePatch struct {
	FirstName *string
	LastName  *string
	Language  *string
	Phone     *string
	// PhoneCountry reads a Phone typed without its +country code (a
	// two-letter country code).
	PhoneCountry string
	UserType     *string
	Username     *string
}

// firstField names the first field the patch changes, where a refusal is
// shown.
func (p ProfilePatch) firstField() string {
	for _, f := range []struct {
		name string
		set  bool
	}{{"username", p.Username != nil}, {"first_name", p.FirstName != nil}, {"last_name", p.LastName != nil},
		{"language", p.Language != nil}, {"phone", p.Phone != nil}, {"user_type", p.UserType != nil}} {
		if f.set {
			return f.name
		}
	}
	return ""
}

// ProfileUpdate is an identity after a profile change, with the username it
// waits to confirm, if one was asked for.
type ProfileUpdate struct {
	gatehouse.User
	PendingUsername string
}

// UsernameChangeLifetime is how long the link confirming a new username
// works.
const UsernameChangeLifetime = 24 * time.Hour

// UpdateProfile changes an identity's profile: by the person, an operator,
// or an administrator who may manage them in one of their accounts. A new
// username needs an activated identity (R-U4) and must be free (R-U1); it
// takes effect when the link mailed to the new address is followed, so a
// typo cannot lock the person out and nobody can claim an address they do
// not read. Language changes take effect at the next sign-in (R-U6): pages
// and mail read it when they are made.
func (s *Service) UpdateProfile(ctx context.Context, c gatehouse.Caller, userID string, p ProfilePatch) (ProfileUpdate, error) {
	var (
		user    gatehouse.User
		pending string
	)
	err := s.profilesStore.Write(ctx, func(tx ProfilesTx) error {
		var err error
		user, err = tx.User(ctx, userID)
		if err != nil {
			return err
		}
		accounts, err := s.AuthorizeIdentity(ctx, tx, c, user, policy.EditIdentity, p.firstField())
		if err != nil {
			return err
		}
		before := user
		if p.FirstName != nil {
			if user.FirstName, err = gatehouse.ValidatePersonName("first_name", *p.FirstName); err != nil {
				return err
			}
		}
		if p.LastName != nil {
			if user.LastName, err = gatehouse.ValidatePersonName("last_name", *p.LastName); err != nil {
				return err
			}
		}
		if p.Language != nil {
			if !gatehouse.ValidLanguage(*p.Language) {
				return gatehouse.Invalid("language", "language must be one of %s", strings.Join(gatehouse.Languages, ", "))
			}
			user.Language = *p.Language
		}
		if p.Phone != nil {
			if user.Phone, err = gatehouse.NormalizePhone(*p.Phone, p.PhoneCountry); err != nil {
				return err
			}
		}
		if p.UserType != nil {
			if user.UserType, err = validateUserType(*p.UserType); err != nil {
				return err
			}
		}
		if err := tx.UpdateUser(ctx, user); err != nil {
			return err
		}
		now := s.Now()
		if p.Username != nil {
			if pending, err = s.askUsernameChange(ctx, tx, c, &user, *p.Username, now); err != nil {
				return err
			}
		}
		// The change shows in the audit log of every account the person is in.
		// A new username shows only once confirmed (user.username_changed),
		// unless it differs from the old one by case alone.
		changes := gatehouse.AuditEvent{}.
			With("username", before.Username, user.Username).
			With("first_name", before.FirstName, user.FirstName).
			With("last_name", before.LastName, user.LastName).
			With("language", before.Language, user.Language).
			With("phone", before.Phone, user.Phone).
			With("user_type", before.UserType, user.UserType).Changes
		for _, accountID := range accounts {
			event := s.Audit(c, now, accountID, "user.updated", "user", user.ID)
			event.Changes = changes
			if err := tx.InsertAuditEvent(ctx, event); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && pending != "" {
		s.MailQueued()
	}
	return ProfileUpdate{User: user, PendingUsername: pending}, err
}

// askUsernameChange checks a new username and mails the link that confirms
// it to the new address. It answers the username waiting for confirmation,
// or "" when the username is the same but for case (changed at once: it is
// the same address).
func (s *Service) askUsernameChange(ctx context.Context, tx ProfilesTx, c gatehouse.Caller, user *gatehouse.User, raw string, now time.Time) (string, error) {
	username, err := gatehouse.ParseUsername("username", raw)
	if err != nil {
		return "", err
	}
	if user.Status != gatehouse.UserActive {
		return "", &gatehouse.Error{Code: gatehouse.ENOTACTIVATED, Field: "username",
			Message: "the username can change only once the user has activated their account"}
	}
	if gatehouse.UsernameKey(username) == gatehouse.UsernameKey(user.Username) {
		user.Username = username
		return "", tx.UpdateUser(ctx, *user)
	}
	if _, err := tx.UserByUsername(ctx, username); err == nil {
		return "", usernameTaken()
	} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return "", err
	}
	secret, hash := gatehouse.NewToken(gatehouse.TokenConfirm)
	change := gatehouse.UsernameChange{ID: s.NewID(), UserID: user.ID, NewUsername: username, TokenHash: hash,
		RequestedBy: c.Principal.ActorID(), CreatedAt: now, ExpiresAt: now.Add(UsernameChangeLifetime)}
	if err := tx.InsertUsernameChange(ctx, change); err != nil {
		return "", err
	}
	if err := s.QueueMail(ctx, tx, now, kernel.MailScope{UserID: user.ID}, username, user.Language, messages.ConfirmUsername, messages.Data{FirstName: user.FirstName,
		Username: username, Link: s.PublicURL() + "/confirm-username?token=" + url.QueryEscape(secret), ExpiresAt: change.ExpiresAt}); err != nil {
		return "", err
	}
	// The old address hears of it too, with who asked: a person whose
	// username someone else changes learns it before the change happens.
	requester, err := s.RequesterName(ctx, tx, c, user.Language)
	if err != nil {
		return "", err
	}
	if err := s.QueueMail(ctx, tx, now, kernel.MailScope{UserID: user.ID}, user.Username, user.Language, messages.UsernameChangeNotice, messages.Data{FirstName: user.FirstName,
		Username: username, RequestedBy: requester, ExpiresAt: change.ExpiresAt}); err != nil {
		return "", err
	}
	return username, tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "user.username_change_requested", "user", user.ID))
}

// validateUserType reads the free label of a person's role at the site
// (R-U7); "" clears it.
func validateUserType(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", nil
	}
	return gatehouse.ValidateLabel("user_type", raw)
}

func usernameTaken() error {
	return &gatehouse.Error{Code: gatehouse.EUSERNAMETAKEN, Field: "username", Message: "this username is taken"}
}

// ConfirmUsernameChange follows the link mailed to a new username: the
// identity takes it, if it is still free (R-U4, R-U1). Earlier links of the
// same identity stay good until they expire; each works once.
func (s *Service) ConfirmUsernameChange(ctx context.Context, ip, requestID, secret string) (gatehouse.User, error) {
	var user gatehouse.User
	err := s.profilesStore.Write(ctx, func(tx ProfilesTx) error {
		now := s.Now()
		if gatehouse.TokenKind(secret) != gatehouse.TokenConfirm {
			return gatehouse.Errorf(gatehouse.ECONFIRMINVALID, "this link is not valid")
		}
		change, err := tx.UseUsernameChange(ctx, gatehouse.HashToken(secret), now)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Errorf(gatehouse.ECONFIRMINVALID, "this link was used already or has expired; ask for the change again")
		} else if err != nil {
			return err
		}
		if user, err = tx.User(ctx, change.UserID); err != nil {
			return err
		}
		old := user.Username
		user.Username = change.NewUsername
		if err := tx.UpdateUser(ctx, user); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return usernameTaken()
		} else if err != nil {
			return err
		}
		memberships, err := tx.MembershipsOf(ctx, user.ID, now)
		if err != nil {
			return err
		}
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: user.ID}, IP: ip, RequestID: requestID}
		// A sign-in lock on the old name stays with the old name.
		if err := tx.ClearSignInFailures(ctx, signin.UsernameSubject(old)); err != nil {
			return err
		}
		for _, m := range memberships {
			if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, m.AccountID, "user.username_changed", "user", user.ID).
				With("username", old, user.Username)); err != nil {
				return err
			}
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "user.username_changed", "user", user.ID).With("username", old, user.Username))
	})
	return user, err
}

// UnlockSignIn ends a username's sign-in lock and forgets its failed
// attempts (R-S3): for operators and the administrators who may manage the
// person in one of their accounts, not for the person themself.
func (s *Service) UnlockSignIn(ctx context.Context, c gatehouse.Caller, userID string) error {
	return s.profilesStore.Write(ctx, func(tx ProfilesTx) error {
		user, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if _, err := s.AuthorizeIdentity(ctx, tx, c, user, policy.UnlockSignIn, ""); err != nil {
			return err
		}
		if err := tx.ClearSignInFailures(ctx, signin.UsernameSubject(user.Username)); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), "", "session.username_unlocked", "user", user.ID))
	})
}

// SetPhoto stores an identity's profile photo as the square thumbnail made
// from the upload (R-U7): by the person or an administrator over them.
func (s *Service) SetPhoto(ctx context.Context, c gatehouse.Caller, userID, contentType string, upload io.Reader) error {
	if _, err := s.profileOf(ctx, c, userID, policy.EditIdentity); err != nil {
		return err
	}
	thumbnail, err := photo.Thumbnail(upload, contentType)
	if err != nil {
		return err
	}
	return s.profilesStore.Write(ctx, func(tx ProfilesTx) error {
		user, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		// Decided again inside the write: a membership may have ended
		// while the image was being read.
		if _, err := s.AuthorizeIdentity(ctx, tx, c, user, policy.EditIdentity, "photo"); err != nil {
			return err
		}
		if err := tx.SetUserPhoto(ctx, user.ID, thumbnail, s.Now()); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), "", "user.photo_changed", "user", user.ID))
	})
}

// Photo returns an identity's thumbnail, to those who may edit the profile.
func (s *Service) Photo(ctx context.Context, c gatehouse.Caller, userID string) ([]byte, error) {
	if _, err := s.profileOf(ctx, c, userID, policy.ReadPhoto); err != nil {
		return nil, err
	}
	return s.profilesStore.UserPhoto(ctx, userID)
}

// profileOf reads an identity the caller may do act on (the photo).
func (s *Service) profileOf(ctx context.Context, c gatehouse.Caller, userID string, act policy.Action) (gatehouse.User, error) {
	user, err := s.profilesStore.User(ctx, userID)
	if err != nil {
		return user, err
	}
	_, err = s.AuthorizeIdentity(ctx, s.profilesStore, c, user, act, "photo")
	return user, err
}

// MayChangeIdentity answers what the policy would answer the caller for a
// change to the person's identity (nil when they may): pages offer only
// what would work, and say why the rest would not.
func (s *Service) MayChangeIdentity(ctx context.Context, c gatehouse.Caller, userID string) error {
	_, err := s.profileOf(ctx, c, userID, policy.EditIdentity)
	return err
}
