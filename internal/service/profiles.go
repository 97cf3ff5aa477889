package service

import (
	"context"
	"io"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/photo"
)

// ProfilePatch changes the profile fields that are set (API.md "Profiles";
// photo, user type and the confirmation mail of a new username come with
// issue 7).
type ProfilePatch struct {
	FirstName *string
	LastName  *string
	Language  *string
	Phone     *string
	Username  *string
}

// UpdateProfile changes an identity's profile: by the person, an operator,
// or an administrator who may manage them in one of their accounts. A new
// username needs an activated identity (R-U4) and must be free (R-U1).
// Language changes take effect at the next sign-in (R-U6): pages and mail
// read it when they are made.
func (s *Service) UpdateProfile(ctx context.Context, c gatehouse.Caller, userID string, p ProfilePatch) (gatehouse.User, error) {
	if err := needScope(c, gatehouse.ScopeUsersWrite); err != nil {
		return gatehouse.User{}, err
	}
	var user gatehouse.User
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		var err error
		user, err = tx.User(ctx, userID)
		if err != nil {
			return err
		}
		accounts, err := s.mayEditProfile(ctx, tx, c, user)
		if err != nil {
			return err
		}
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
			if user.Phone, err = normalizePhone(*p.Phone); err != nil {
				return err
			}
		}
		action := "user.updated"
		if p.Username != nil {
			username, err := gatehouse.ParseEmail("username", *p.Username)
			if err != nil {
				return err
			}
			if user.Status != gatehouse.UserActive {
				return &gatehouse.Error{Code: gatehouse.ENOTACTIVATED, Field: "username",
					Message: "the username can change only once the user has activated their account"}
			}
			if gatehouse.UsernameKey(username) != gatehouse.UsernameKey(user.Username) {
				action = "user.username_changed"
			}
			user.Username = username
		}
		if err := tx.UpdateUser(ctx, user); gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			return &gatehouse.Error{Code: gatehouse.EUSERNAMETAKEN, Field: "username", Message: "this username is taken"}
		} else if err != nil {
			return err
		}
		now := s.now()
		// The change shows in the audit log of every account the person is in.
		for _, accountID := range accounts {
			if err := tx.InsertAuditEvent(ctx, s.audit(c, now, accountID, action, "user", user.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	return user, err
}

// mayEditProfile decides who may change an identity's profile, and returns
// the accounts the identity belongs to. Identities the caller may not see
// are ENOTFOUND.
func (s *Service) mayEditProfile(ctx context.Context, r gatehouse.Reader, c gatehouse.Caller, user gatehouse.User) ([]string, error) {
	memberships, err := r.MembershipsOf(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	accounts := make([]string, len(memberships))
	for i, m := range memberships {
		accounts[i] = m.AccountID
	}
	if c.Principal.Operator || (c.Principal.UserID == user.ID && c.Principal.ScopeAccountID == "") {
		return accounts, nil
	}
	seen := false
	for _, m := range memberships {
		account, err := r.Account(ctx, m.AccountID)
		if err != nil {
			return nil, err
		}
		access, err := r.AccessTo(ctx, c.Principal, account)
		if err != nil {
			return nil, err
		}
		if !allowed(readMembers, access, account) {
			continue
		}
		seen = true
		if mayManageLevel(access, account, m.Level) {
			return accounts, nil
		}
	}
	if c.Principal.UserID == user.ID {
		return accounts, nil // the person themself, through a scoped token
	}
	if seen {
		return nil, gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may not change this user's profile")
	}
	return nil, gatehouse.NotFound("user")
}

// UnlockSignIn ends a username's sign-in lock and forgets its failed
// attempts (R-S3): for operators and the administrators who may manage the
// person in one of their accounts, not for the person themself.
func (s *Service) UnlockSignIn(ctx context.Context, c gatehouse.Caller, userID string) error {
	if err := needScope(c, gatehouse.ScopeUsersWrite); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		user, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if c.Principal.UserID == user.ID {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "ask an administrator to unlock your sign-in")
		}
		if _, err := s.mayEditProfile(ctx, tx, c, user); err != nil {
			return err
		}
		if err := tx.ClearSignInFailures(ctx, usernameSubject(user.Username)); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.audit(c, s.now(), "", "session.username_unlocked", "user", user.ID))
	})
}

// SetPhoto stores an identity's profile photo as the square thumbnail made
// from the upload (R-U7): by the person or an administrator over them.
func (s *Service) SetPhoto(ctx context.Context, c gatehouse.Caller, userID, contentType string, upload io.Reader) error {
	if _, err := s.profileOf(ctx, c, userID, gatehouse.ScopeUsersWrite); err != nil {
		return err
	}
	thumbnail, err := photo.Thumbnail(upload, contentType)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		user, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if err := tx.SetUserPhoto(ctx, user.ID, thumbnail, s.now()); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.audit(c, s.now(), "", "user.photo_changed", "user", user.ID))
	})
}

// Photo returns an identity's thumbnail, to those who may edit the profile.
func (s *Service) Photo(ctx context.Context, c gatehouse.Caller, userID string) ([]byte, error) {
	if _, err := s.profileOf(ctx, c, userID, gatehouse.ScopeUsersRead); err != nil {
		return nil, err
	}
	return s.store.UserPhoto(ctx, userID)
}

// profileOf reads an identity the caller may edit the profile of, through a
// token whose scopes include scope.
func (s *Service) profileOf(ctx context.Context, c gatehouse.Caller, userID, scope string) (gatehouse.User, error) {
	if err := needScope(c, scope); err != nil {
		return gatehouse.User{}, err
	}
	user, err := s.store.User(ctx, userID)
	if err != nil {
		return user, err
	}
	_, err = s.mayEditProfile(ctx, s.store, c, user)
	return user, err
}
