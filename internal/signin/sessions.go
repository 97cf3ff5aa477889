package signin

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
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
	Session   *NewSession
	Challenge string
	// Methods are the ways the challenge may be answered: the chosen
	// factor, and "recovery_code" while unused recovery codes are left.
	Methods []string
	// SMSSent tells that a code was texted for this challenge.
	SMSSent       bool
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

// Brute-force limits (R-S3, the API reference at /api/docs): ten wrong passwords in a row
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

// SignInDelay is how long the answer to a wrong password waits, given the
// username's wrong passwords in a row and the source's failures in the last
// minute, this one included (R-S3): nothing for the first three of a
// username, then 100 ms doubling to 1.6 s; 250 ms for a source past 100
// failures a minute. (The lock answers at once: it costs nothing.)
func SignInDelay(usernameFailures, sourceFailures int) time.Duration {
	var d time.Duration
	if usernameFailures > 3 {
		d = min(100*time.Millisecond<<(usernameFailures-4), 1600*time.Millisecond)
	}
	if sourceFailures > 100 {
		d = max(d, 250*time.Millisecond)
	}
	return d
}

func UsernameSubject(username string) string {
	return "username:" + gatehouse.Truncate(gatehouse.UsernameKey(username), gatehouse.MaxEmailLen)
}

func sourceSubject(ip string) string { return "source:" + ip }

func unauthenticated() error {
	return gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "wrong username or password")
}

// SignIn checks a username and password (R-S1, R-S2, R-P4). The answer and
// the work done are the same whether or not the username exists: an unknown
// username still costs one password hash.
func (s *Service) SignIn(ctx context.Context, ip, requestID, username, pw string) (SignInResult, error) {
	if until, err := s.sessionsStore.SignInLockedUntil(ctx, []string{UsernameSubject(username), sourceSubject(ip)}, s.Now()); err != nil {
		return SignInResult{}, err
	} else if !until.IsZero() {
		return SignInResult{}, gatehouse.Errorf(gatehouse.ERATELIMITED, "too many failed sign-ins; try again after %s", until.Format(time.RFC3339))
	}
	creds, err := s.sessionsStore.Credentials(ctx, username)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return SignInResult{}, err
	}
	hash := creds.PasswordHash
	if hash == "" {
		hash = s.dummyHash
	}
	ok, err := s.Hasher.Verify(ctx, pw, hash)
	if err != nil {
		return SignInResult{}, err
	}
	now := s.Now()
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
		var usernameFailures, sourceFailures int
		err := s.sessionsStore.Write(ctx, func(tx SessionsTx) error {
			if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.password_refused", targetType, targetID)); err != nil {
				return err
			}
			// Each failure is counted in one atomic statement: N at once
			// count N, on every node.
			var locked bool
			var err error
			if usernameFailures, locked, err = tx.CountSignInFailure(ctx, UsernameSubject(username), now, 0, usernameFailureLimit, usernameLock); err != nil {
				return err
			} else if locked {
				if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.username_locked", targetType, targetID)); err != nil {
					return err
				}
			}
			if sourceFailures, locked, err = tx.CountSignInFailure(ctx, sourceSubject(ip), now, sourceWindow, sourceFailureLimit, sourceLock); err != nil {
				return err
			} else if locked {
				return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.source_locked", "source", ip))
			}
			return nil
		})
		if err != nil {
			return SignInResult{}, err
		}
		// The answer is slowed before the lock comes: a person who mistypes
		// twice waits for nothing; a guesser waits longer at each try. The
		// wait is served after the commit, holding no connection.
		s.Sleep(ctx, SignInDelay(usernameFailures, sourceFailures))
		return SignInResult{}, unauthenticated()
	}

	var result SignInResult
	err = s.sessionsStore.Write(ctx, func(tx SessionsTx) error {
		// The right password ends a run of wrong ones.
		if err := tx.ClearSignInFailures(ctx, UsernameSubject(username)); err != nil {
			return err
		}
		if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.password_accepted", "user", creds.UserID)); err != nil {
			return err
		}
		result, err = s.secondStep(ctx, tx, c, creds, now)
		return err
	})
	if result.SMSSent {
		s.MailQueued()
	}
	return result, err
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
	if err := s.mayChangeOwnFactor(ctx, c); err != nil {
		return TOTPEnrollment{}, err
	}
	user, err := s.sessionsStore.User(ctx, c.Principal.UserID)
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
	now := s.Now()
	ch := gatehouse.MFAChallenge{ID: s.NewID(), Hash: hash, UserID: user.ID, Kind: gatehouse.ChallengeEnroll, Method: gatehouse.MFATOTP,
		TOTPSecret: s.Box.Seal(key.Secret(), TOTPContext(user.ID)), ExpiresAt: now.Add(ChallengeLifetime)}
	err = s.sessionsStore.Write(ctx, func(tx SessionsTx) error { return tx.InsertMFAChallenge(ctx, ch) })
	return TOTPEnrollment{Challenge: secret, TOTPSecret: key.Secret(), OTPAuthURI: key.URL(), ExpiresAt: ch.ExpiresAt}, err
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

// sessionStarter is what starting a session writes.
type sessionStarter interface {
	kernel.Writer
	InsertSession(ctx context.Context, s gatehouse.Session) error
}

func (s *Service) startSession(ctx context.Context, tx sessionStarter, c gatehouse.Caller, userID string, secondFactor bool, now time.Time) (*NewSession, error) {
	secret, hash := gatehouse.NewToken(gatehouse.TokenSession)
	session := gatehouse.Session{ID: s.NewID(), UserID: userID, Hash: hash, CreatedAt: now,
		ExpiresAt: now.Add(SessionLifetime), LastSeenAt: now, SecondFactor: secondFactor}
	if err := tx.InsertSession(ctx, session); err != nil {
		return nil, err
	}
	if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.created", "session", session.ID)); err != nil {
		return nil, err
	}
	return &NewSession{Token: secret, UserID: userID, ExpiresAt: session.ExpiresAt}, nil
}

// sessionPrincipal authenticates a session token: live, not revoked, used
// within the idle limit.
func (s *Service) sessionPrincipal(ctx context.Context, hash []byte) (gatehouse.Principal, error) {
	session, err := s.sessionsStore.SessionByHash(ctx, hash)
	if err != nil {
		return gatehouse.Principal{}, err
	}
	now := s.Now()
	if !session.RevokedAt.IsZero() || !now.Before(session.ExpiresAt) || !now.Before(session.LastSeenAt.Add(SessionIdle)) {
		return gatehouse.Principal{}, gatehouse.NotFound("session")
	}
	if now.Sub(session.LastSeenAt) >= touchEvery {
		if err := s.sessionsStore.Write(ctx, func(tx SessionsTx) error { return tx.TouchSession(ctx, session.ID, now) }); err != nil {
			return gatehouse.Principal{}, err
		}
	}
	return gatehouse.Principal{UserID: session.UserID, SessionID: session.ID, Operator: session.Operator}, nil
}

// SignOut ends the caller's session.
func (s *Service) SignOut(ctx context.Context, c gatehouse.Caller) error {
	if c.Principal.SessionID == "" {
		return gatehouse.Invalid("", "only a session can be signed out; API tokens are revoked instead")
	}
	return s.sessionsStore.Write(ctx, func(tx SessionsTx) error {
		now := s.Now()
		if err := tx.RevokeSession(ctx, c.Principal.SessionID, now); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.ended", "session", c.Principal.SessionID))
	})
}

// Me is the signed-in identity and its memberships, for the account
// switcher (R-M6).
type Me struct {
	User gatehouse.User
	// MFAMethod is the chosen second factor, or "" for none; with
	// RecoveryCodesLeft, set by WhoAmI and SecondFactor, not by Visitor.
	MFAMethod         string
	RecoveryCodesLeft int
	Memberships       []gatehouse.MembershipSummary
}

// WhoAmI returns the caller's identity and memberships, and the state of
// its second factor.
func (s *Service) WhoAmI(ctx context.Context, c gatehouse.Caller) (Me, error) {
	me, err := s.Visitor(ctx, c)
	if err != nil {
		return Me{}, err
	}
	if me.MFAMethod, me.RecoveryCodesLeft, err = s.secondFactor(ctx, me.User); err != nil {
		return Me{}, err
	}
	return me, nil
}

// Visitor returns the caller's identity and memberships: what every portal
// page shows of the person. The second factor's state, which only the
// profile shows, is left out (SecondFactor reads it): two reads fewer a
// page, each a round trip on PostgreSQL.
func (s *Service) Visitor(ctx context.Context, c gatehouse.Caller) (Me, error) {
	if c.Principal.UserID == "" {
		return Me{}, gatehouse.Errorf(gatehouse.ENOTFOUND, "the bootstrap operator token has no identity")
	}
	user, err := s.sessionsStore.User(ctx, c.Principal.UserID)
	if err != nil {
		return Me{}, err
	}
	memberships, err := s.sessionsStore.MembershipsOf(ctx, user.ID, s.Now())
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
	return Me{User: user, Memberships: memberships}, nil
}

// SecondFactor adds to me, which Visitor returned for the caller, the state
// of the caller's second factor: its method and the recovery codes left.
func (s *Service) SecondFactor(ctx context.Context, c gatehouse.Caller, me *Me) error {
	if c.Principal.UserID == "" || me.User.ID != c.Principal.UserID {
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "not the caller's identity")
	}
	method, left, err := s.secondFactor(ctx, me.User)
	if err != nil {
		return err
	}
	me.MFAMethod, me.RecoveryCodesLeft = method, left
	return nil
}

func (s *Service) secondFactor(ctx context.Context, user gatehouse.User) (method string, recoveryLeft int, err error) {
	creds, err := s.sessionsStore.Credentials(ctx, user.Username)
	if err != nil {
		return "", 0, err
	}
	left, err := s.sessionsStore.RecoveryCodesLeft(ctx, user.ID)
	if err != nil {
		return "", 0, err
	}
	return creds.MFAMethod, left, nil
}
