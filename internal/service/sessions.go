package service

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Session limits (R-S4): a session ends 12 hours after sign-in, or after an
// hour without use; a second-factor challenge lives five minutes.
const (
	SessionLifetime   = 12 * time.Hour
	SessionIdle       = time.Hour
	ChallengeLifetime = 5 * time.Minute
	// touchEvery bounds how often a session's last use is written.
	touchEvery = time.Minute
)

var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// SignInResult is the outcome of a right password: a session, or a
// second-factor challenge (with a new authenticator key to enroll when the
// identity must use one and has none).
type SignInResult struct {
	Session       *NewSession
	Challenge     string
	Enroll        bool
	TOTPSecret    string // enrollment only: shown once, for the authenticator app
	OTPAuthURI    string
	ChallengeEnds time.Time
}

// NewSession is a session as created: the only moment its secret exists
// outside the client.
type NewSession struct {
	Token     string
	UserID    string
	ExpiresAt time.Time
}

// Brute-force limits (R-S3, API.md "Profiles"): ten wrong passwords in a row
// for one username lock it for five minutes, the right password included;
// three hundred failures a minute from one source address lock that source
// for a minute. Unknown usernames are counted and locked like known ones, so
// the answers tell nothing about which exist.
const (
	usernameFailureLimit = 10
	usernameLock         = 5 * time.Minute
	sourceFailureLimit   = 300
	sourceWindow         = time.Minute
	sourceLock           = time.Minute
)

func usernameSubject(username string) string {
	return "username:" + truncate(gatehouse.UsernameKey(username), gatehouse.MaxEmailLen)
}

func sourceSubject(ip string) string { return "source:" + ip }

func unauthenticated() error {
	return gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "wrong username or password")
}

// SignIn checks a username and password (R-S1, R-S2, R-P4). The answer and
// the work done are the same whether or not the username exists: an unknown
// username still costs one password hash.
func (s *Service) SignIn(ctx context.Context, ip, requestID, username, pw string) (SignInResult, error) {
	if until, err := s.store.SignInLockedUntil(ctx, []string{usernameSubject(username), sourceSubject(ip)}, s.now()); err != nil {
		return SignInResult{}, err
	} else if !until.IsZero() {
		return SignInResult{}, gatehouse.Errorf(gatehouse.ERATELIMITED, "too many failed sign-ins; try again after %s", until.Format(time.RFC3339))
	}
	creds, err := s.store.Credentials(ctx, username)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return SignInResult{}, err
	}
	hash := creds.PasswordHash
	if hash == "" {
		hash = s.dummyHash
	}
	ok, err := s.hasher.Verify(ctx, pw, hash)
	if err != nil {
		return SignInResult{}, err
	}
	now := s.now()
	c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: creds.UserID}, IP: ip, RequestID: requestID}
	if !ok || creds.PasswordHash == "" || creds.Status != gatehouse.UserActive {
		// Every attempt is recorded; for an unknown username, the name typed
		// (cut to an e-mail address's length).
		targetType, targetID := "user", creds.UserID
		if targetID == "" {
			targetType, targetID = "username", gatehouse.UsernameKey(username)
			if len(targetID) > gatehouse.MaxEmailLen {
				targetID = targetID[:gatehouse.MaxEmailLen]
			}
		}
		err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
			if err := tx.InsertAuditEvent(ctx, s.audit(c, now, "", "session.password_refused", targetType, targetID)); err != nil {
				return err
			}
			// Each failure is counted in one atomic statement: N at once
			// count N, on every node.
			if locked, err := tx.CountSignInFailure(ctx, usernameSubject(username), now, 0, usernameFailureLimit, usernameLock); err != nil {
				return err
			} else if locked {
				if err := tx.InsertAuditEvent(ctx, s.audit(c, now, "", "session.username_locked", targetType, targetID)); err != nil {
					return err
				}
			}
			if locked, err := tx.CountSignInFailure(ctx, sourceSubject(ip), now, sourceWindow, sourceFailureLimit, sourceLock); err != nil {
				return err
			} else if locked {
				return tx.InsertAuditEvent(ctx, s.audit(c, now, "", "session.source_locked", "source", ip))
			}
			return nil
		})
		if err != nil {
			return SignInResult{}, err
		}
		return SignInResult{}, unauthenticated()
	}

	var result SignInResult
	err = s.store.Write(ctx, func(tx gatehouse.Tx) error {
		// The right password ends a run of wrong ones.
		if err := tx.ClearSignInFailures(ctx, usernameSubject(username)); err != nil {
			return err
		}
		if creds.TOTPSecret == "" {
			admin, err := tx.HasActiveAdminMembership(ctx, creds.UserID)
			if err != nil {
				return err
			}
			if !admin {
				session, err := s.startSession(ctx, tx, c, creds.UserID, now)
				result.Session = session
				return err
			}
			// Administrators must use a second factor: enroll one now (R-P4).
			key, err := totp.Generate(totp.GenerateOpts{Issuer: "Gatehouse", AccountName: creds.Username})
			if err != nil {
				return err
			}
			result.Enroll, result.TOTPSecret, result.OTPAuthURI = true, key.Secret(), key.URL()
		}
		secret, hash := gatehouse.NewToken(gatehouse.TokenChallenge)
		challenge := gatehouse.MFAChallenge{ID: s.newID(), Hash: hash, UserID: creds.UserID, Kind: gatehouse.ChallengeVerify,
			ExpiresAt: now.Add(ChallengeLifetime)}
		if result.Enroll {
			challenge.Kind, challenge.TOTPSecret = gatehouse.ChallengeEnroll, s.box.Seal(result.TOTPSecret, "totp:"+creds.UserID)
		}
		result.Challenge, result.ChallengeEnds = secret, challenge.ExpiresAt
		if err := tx.InsertMFAChallenge(ctx, challenge); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.audit(c, now, "", "session.password_accepted", "user", creds.UserID))
	})
	return result, err
}

// CompleteMFA checks the code of a challenge and starts the session. A
// challenge is used by its first answer, right or wrong, and a code's time
// step is used once (RFC 6238, no replay).
func (s *Service) CompleteMFA(ctx context.Context, ip, requestID, challengeSecret, code string) (*NewSession, error) {
	var session *NewSession
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		now := s.now()
		ch, err := s.answerChallenge(ctx, tx, ip, requestID, "", challengeSecret, code, now)
		if err != nil {
			return err
		}
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: ch.UserID}, IP: ip, RequestID: requestID}
		session, err = s.startSession(ctx, tx, c, ch.UserID, now)
		return err
	})
	return session, err
}

// answerChallenge uses up a challenge and checks its code; for an
// enrollment challenge a right code enrolls the key. userID, when set, is
// the only identity whose challenge is accepted.
func (s *Service) answerChallenge(ctx context.Context, tx gatehouse.Tx, ip, requestID, userID, challengeSecret, code string, now time.Time) (gatehouse.MFAChallenge, error) {
	refused := gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "wrong or expired code; sign in again")
	if gatehouse.TokenKind(challengeSecret) != gatehouse.TokenChallenge {
		return gatehouse.MFAChallenge{}, refused
	}
	ch, err := tx.MFAChallengeByHash(ctx, gatehouse.HashToken(challengeSecret))
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && (!ch.UsedAt.IsZero() || !now.Before(ch.ExpiresAt) || (userID != "" && ch.UserID != userID))) {
		return ch, refused
	} else if err != nil {
		return ch, err
	}
	if err := tx.UseMFAChallenge(ctx, ch.ID, now); err != nil {
		return ch, refused
	}
	user, err := tx.User(ctx, ch.UserID)
	if err != nil {
		return ch, err
	}
	sealed := ch.TOTPSecret
	if ch.Kind == gatehouse.ChallengeVerify {
		creds, err := tx.Credentials(ctx, user.Username)
		if err != nil {
			return ch, err
		}
		sealed = creds.TOTPSecret
	}
	secret, err := s.box.Open(sealed, "totp:"+ch.UserID)
	if err != nil {
		return ch, err
	}
	c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: ch.UserID}, IP: ip, RequestID: requestID}
	step := matchTOTP(secret, code, now)
	enroll := ""
	if ch.Kind == gatehouse.ChallengeEnroll {
		enroll = sealed
	}
	if step < 0 || tx.UseTOTPStep(ctx, ch.UserID, step, enroll) != nil {
		// Recorded outside this transaction, which is rolled back.
		go s.auditAlone(context.WithoutCancel(ctx), c, now, "session.code_refused", ch.UserID)
		return ch, refused
	}
	if enroll != "" {
		if err := tx.InsertAuditEvent(ctx, s.audit(c, now, "", "mfa.enrolled", "user", ch.UserID)); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// TOTPEnrollment is a new authenticator key waiting for its first code.
type TOTPEnrollment struct {
	Challenge  string
	TOTPSecret string
	OTPAuthURI string
	ExpiresAt  time.Time
}

// StartTOTPEnrollment gives a signed-in person a new authenticator key to
// confirm (optional for users, R-S2); the current key, if any, stays until
// the new one is confirmed.
func (s *Service) StartTOTPEnrollment(ctx context.Context, c gatehouse.Caller) (TOTPEnrollment, error) {
	if c.Principal.SessionID == "" {
		return TOTPEnrollment{}, gatehouse.Errorf(gatehouse.EFORBIDDEN, "sign in with a session to enroll an authenticator")
	}
	user, err := s.store.User(ctx, c.Principal.UserID)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	return s.newEnrollment(ctx, c, user)
}

func (s *Service) newEnrollment(ctx context.Context, c gatehouse.Caller, user gatehouse.User) (TOTPEnrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Gatehouse", AccountName: user.Username})
	if err != nil {
		return TOTPEnrollment{}, err
	}
	secret, hash := gatehouse.NewToken(gatehouse.TokenChallenge)
	now := s.now()
	ch := gatehouse.MFAChallenge{ID: s.newID(), Hash: hash, UserID: user.ID, Kind: gatehouse.ChallengeEnroll,
		TOTPSecret: s.box.Seal(key.Secret(), "totp:"+user.ID), ExpiresAt: now.Add(ChallengeLifetime)}
	err = s.store.Write(ctx, func(tx gatehouse.Tx) error { return tx.InsertMFAChallenge(ctx, ch) })
	return TOTPEnrollment{Challenge: secret, TOTPSecret: key.Secret(), OTPAuthURI: key.URL(), ExpiresAt: ch.ExpiresAt}, err
}

// ConfirmTOTPEnrollment enrolls the key of an enrollment challenge of the
// caller's own when its code is right.
func (s *Service) ConfirmTOTPEnrollment(ctx context.Context, c gatehouse.Caller, challengeSecret, code string) error {
	if c.Principal.SessionID == "" {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "sign in with a session to enroll an authenticator")
	}
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		_, err := s.answerChallenge(ctx, tx, c.IP, c.RequestID, c.Principal.UserID, challengeSecret, code, s.now())
		return err
	})
}

// auditAlone writes one account-less security event in its own transaction.
func (s *Service) auditAlone(ctx context.Context, c gatehouse.Caller, at time.Time, action, userID string) {
	_ = s.store.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.InsertAuditEvent(ctx, s.audit(c, at, "", action, "user", userID))
	})
}

// matchTOTP returns the time step whose code equals code, allowing one step
// of clock drift either way, or -1.
func matchTOTP(secret, code string, now time.Time) int64 {
	if len(code) != 6 {
		return -1
	}
	current := now.Unix() / 30
	for _, step := range []int64{current - 1, current, current + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return -1
}

func (s *Service) startSession(ctx context.Context, tx gatehouse.Tx, c gatehouse.Caller, userID string, now time.Time) (*NewSession, error) {
	secret, hash := gatehouse.NewToken(gatehouse.TokenSession)
	session := gatehouse.Session{ID: s.newID(), UserID: userID, Hash: hash, CreatedAt: now,
		ExpiresAt: now.Add(SessionLifetime), LastSeenAt: now}
	if err := tx.InsertSession(ctx, session); err != nil {
		return nil, err
	}
	if err := tx.InsertAuditEvent(ctx, s.audit(c, now, "", "session.created", "session", session.ID)); err != nil {
		return nil, err
	}
	return &NewSession{Token: secret, UserID: userID, ExpiresAt: session.ExpiresAt}, nil
}

// sessionPrincipal authenticates a session token: live, not revoked, used
// within the idle limit.
func (s *Service) sessionPrincipal(ctx context.Context, hash []byte) (gatehouse.Principal, error) {
	session, err := s.store.SessionByHash(ctx, hash)
	if err != nil {
		return gatehouse.Principal{}, err
	}
	now := s.now()
	if !session.RevokedAt.IsZero() || !now.Before(session.ExpiresAt) || !now.Before(session.LastSeenAt.Add(SessionIdle)) {
		return gatehouse.Principal{}, gatehouse.NotFound("session")
	}
	if now.Sub(session.LastSeenAt) >= touchEvery {
		if err := s.store.Write(ctx, func(tx gatehouse.Tx) error { return tx.TouchSession(ctx, session.ID, now) }); err != nil {
			return gatehouse.Principal{}, err
		}
	}
	return gatehouse.Principal{UserID: session.UserID, SessionID: session.ID}, nil
}

// SignOut ends the caller's session.
func (s *Service) SignOut(ctx context.Context, c gatehouse.Caller) error {
	if c.Principal.SessionID == "" {
		return gatehouse.Invalid("", "only a session can be signed out; API tokens are revoked instead")
	}
	return s.store.Write(ctx, func(tx gatehouse.Tx) error {
		now := s.now()
		if err := tx.RevokeSession(ctx, c.Principal.SessionID, now); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.audit(c, now, "", "session.ended", "session", c.Principal.SessionID))
	})
}

// Me is the signed-in identity and its memberships, for the account
// switcher (R-M6).
type Me struct {
	User        gatehouse.User
	MFAEnabled  bool
	Memberships []gatehouse.MembershipSummary
}

// WhoAmI returns the caller's identity and memberships.
func (s *Service) WhoAmI(ctx context.Context, c gatehouse.Caller) (Me, error) {
	if c.Principal.UserID == "" {
		return Me{}, gatehouse.Errorf(gatehouse.ENOTFOUND, "the bootstrap operator token has no identity")
	}
	user, err := s.store.User(ctx, c.Principal.UserID)
	if err != nil {
		return Me{}, err
	}
	creds, err := s.store.Credentials(ctx, user.Username)
	if err != nil {
		return Me{}, err
	}
	memberships, err := s.store.MembershipsOf(ctx, user.ID)
	if err != nil {
		return Me{}, err
	}
	if scope := c.Principal.ScopeAccountID; scope != "" {
		kept := memberships[:0]
		for _, m := range memberships {
			if m.AccountID == scope {
				kept = append(kept, m)
			}
		}
		memberships = kept
	}
	return Me{User: user, MFAEnabled: creds.TOTPSecret != "", Memberships: memberships}, nil
}
