package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Second factors (R-S2, R-P4). An SMS code has six digits and lives as long
// as its challenge (five minutes); a new one may be asked for 30 seconds
// after the last, five texts per challenge at most. Recovery codes come ten
// at a time, each good once.
const (
	smsResendGap      = 30 * time.Second
	smsMaxSends       = 5
	recoveryCodeCount = 10
	// MethodRecoveryCode is listed among a challenge's methods while the
	// identity has unused recovery codes.
	MethodRecoveryCode = "recovery_code"
)

// secondStep follows a first factor that succeeded (a password, or an
// identity provider): a session when no second factor is needed, else a
// challenge for the chosen one, or the enrollment of an authenticator for
// administrators who have none (R-P4).
// secondStepTx is what the step after any first factor reads and writes.
type secondStepTx interface {
	sessionStarter
	kernel.Reader // the brand a text names
	User(ctx context.Context, id string) (gatehouse.User, error)
	HasActiveAdminMembership(ctx context.Context, userID string) (bool, error)
	InsertMFAChallenge(ctx context.Context, c gatehouse.MFAChallenge) error
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	PasskeysOf(ctx context.Context, userID string) ([]gatehouse.Passkey, error)
}

func (s *Service) secondStep(ctx context.Context, tx secondStepTx, c gatehouse.Caller, creds gatehouse.Credentials, now time.Time) (SignInResult, error) {
	var result SignInResult
	// mfa_method is written with every key (and was backfilled by the
	// migration that added it), so it alone says which factor to ask.
	method := creds.MFAMethod
	passkeys, err := tx.PasskeysOf(ctx, creds.UserID)
	if err != nil {
		return result, err
	}
	if method == gatehouse.MFANone && len(passkeys) > 0 {
		// Passkeys are a second factor of their own (R-S6).
		method = gatehouse.MFAPasskey
	}
	ch := gatehouse.MFAChallenge{ID: s.NewID(), UserID: creds.UserID, Kind: gatehouse.ChallengeVerify, Method: method,
		ExpiresAt: now.Add(ChallengeLifetime)}
	switch method {
	case gatehouse.MFANone:
		admin, err := tx.HasActiveAdminMembership(ctx, creds.UserID)
		if err != nil {
			return result, err
		}
		if !admin {
			result.Session, err = s.startSession(ctx, tx, c, creds.UserID, false, now)
			return result, err
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "Gatehouse", AccountName: creds.Username})
		if err != nil {
			return result, err
		}
		result.Enroll, result.TOTPSecret, result.OTPAuthURI = true, key.Secret(), key.URL()
		ch.Kind, ch.Method, ch.TOTPSecret = gatehouse.ChallengeEnroll, gatehouse.MFATOTP, s.Box.Seal(key.Secret(), TOTPContext(creds.UserID))
	case gatehouse.MFASMS:
		if err := s.textCode(ctx, tx, &ch, creds.MFAPhone, now); err != nil {
			return result, err
		}
		result.SMSSent = true
	}
	secret, hash := gatehouse.NewToken(gatehouse.TokenChallenge)
	ch.Hash = hash
	result.Challenge, result.ChallengeEnds = secret, ch.ExpiresAt
	if err := tx.InsertMFAChallenge(ctx, ch); err != nil {
		return result, err
	}
	result.Methods = []string{ch.Method}
	if ch.Kind == gatehouse.ChallengeVerify && ch.Method != gatehouse.MFAPasskey && len(passkeys) > 0 {
		result.Methods = append(result.Methods, gatehouse.MFAPasskey)
	}
	if ch.Kind == gatehouse.ChallengeVerify {
		if left, err := tx.RecoveryCodesLeft(ctx, creds.UserID); err != nil {
			return result, err
		} else if left > 0 {
			result.Methods = append(result.Methods, MethodRecoveryCode)
		}
	}
	return result, nil
}

// textCode makes a new six-digit code for an SMS challenge, keeps its hash
// in ch and queues the text in tx.
func (s *Service) textCode(ctx context.Context, tx secondStepTx, ch *gatehouse.MFAChallenge, phone string, now time.Time) error {
	if phone == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "no phone number to send the code to; ask an administrator")
	}
	user, err := tx.User(ctx, ch.UserID)
	if err != nil {
		return err
	}
	// The text names the product as the person's brand does, as their
	// e-mails do.
	brand, err := s.MailBrand(ctx, tx, kernel.MailScope{UserID: ch.UserID})
	if err != nil {
		return err
	}
	code := newSMSCode()
	ch.Phone, ch.CodeHash, ch.Sends, ch.LastSentAt = phone, smsCodeHash(ch.ID, code), ch.Sends+1, now
	return s.QueueSMS(ctx, tx, now, phone, user.Language, messages.SMSCode, messages.Data{Code: code, ProductName: brand.ProductName})
}

// queueSMS renders a text in the recipient's language and queues it.
func (s *Service) queueSMS(ctx context.Context, tx FactorsTx, now time.Time, phone, lang, kind string, data messages.Data) error {
	m, err := s.Mail(now, phone, lang, kind, data)
	if err != nil {
		return err
	}
	m.Channel, m.Subject = gatehouse.ChannelSMS, ""
	return tx.EnqueueMessage(ctx, m)
}

// newSMSCode draws six uniformly random digits.
func newSMSCode() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := binary.BigEndian.Uint64(b[:]) % 1_000_000 // bias below 1e-13
	code := []byte("000000")
	for i := 5; i >= 0; i-- {
		code[i] = byte('0' + n%10)
		n /= 10
	}
	return string(code)
}

// smsCodeHash binds a code to its challenge, so a stored hash says nothing
// about another challenge's code.
func smsCodeHash(challengeID, code string) []byte {
	sum := sha256.Sum256([]byte("sms:" + challengeID + ":" + code))
	return sum[:]
}

// CompleteMFA checks the code of a challenge and starts the session. A
// challenge is used by its first answer, right or wrong: the refusal is
// committed with its audit event, so codes cannot be guessed on one
// challenge; a TOTP code's time step is used once (RFC 6238, no replay).
func (s *Service) CompleteMFA(ctx context.Context, ip, requestID, challengeSecret, code string) (*NewSession, error) {
	var (
		session *NewSession
		refused bool
		retry   *EnrollmentRetry
	)
	err := s.factorsStore.Write(ctx, func(tx FactorsTx) error {
		now := s.Now()
		ch, ok, err := s.answerChallenge(ctx, tx, ip, requestID, "", challengeSecret, code, now)
		if err != nil || !ok {
			refused = !ok
			if err == nil && refused && ch.Kind == gatehouse.ChallengeEnroll && ch.Method == gatehouse.MFATOTP && now.Before(ch.ExpiresAt) {
				// Only a wrong code that this answer used the challenge up
				// with earns a retry: not a used or raced one.
				if used, err := tx.MFAChallengeByHash(ctx, gatehouse.HashToken(challengeSecret)); err == nil && used.UsedAt.Equal(now) {
					retry, err = s.retryEnrollment(ctx, tx, ch)
					return err
				}
			}
			return err
		}
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: ch.UserID}, IP: ip, RequestID: requestID}
		session, err = s.startSession(ctx, tx, c, ch.UserID, true, now)
		return err
	})
	if err == nil && retry != nil {
		return nil, retry
	}
	if err == nil && refused {
		return nil, codeRefused()
	}
	return session, err
}

// EnrollBySMS turns a sign-in's authenticator enrollment into enrollment by
// text, for a person with no authenticator app: a code goes to the phone
// given (country reads a number typed without its +code), or else to the
// phone of their profile, and answering it makes SMS their second factor
// (R-S2). The enrollment challenge is used up and replaced by one that
// keeps its deadline and its count of texts, so switching back and forth
// neither prolongs the sign-in nor sends more texts than a resend would.
func (s *Service) EnrollBySMS(ctx context.Context, ip, requestID, challengeSecret, phone, country string) (SignInResult, error) {
	var result SignInResult
	if gatehouse.TokenKind(challengeSecret) != gatehouse.TokenChallenge {
		return result, codeRefused()
	}
	err := s.factorsStore.Write(ctx, func(tx FactorsTx) error {
		now := s.Now()
		ch, err := tx.MFAChallengeByHash(ctx, gatehouse.HashToken(challengeSecret))
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && (!ch.UsedAt.IsZero() || !now.Before(ch.ExpiresAt) || ch.Kind != gatehouse.ChallengeEnroll)) {
			return codeRefused()
		} else if err != nil {
			return err
		}
		if ch.Sends >= smsMaxSends || (!ch.LastSentAt.IsZero() && now.Sub(ch.LastSentAt) < smsResendGap) {
			return gatehouse.Errorf(gatehouse.ERATELIMITED, "a new code can be sent %d seconds after the last", int(smsResendGap/time.Second))
		}
		user, err := tx.User(ctx, ch.UserID)
		if err != nil {
			return err
		}
		number, err := gatehouse.NormalizePhone(phone, country)
		if err != nil {
			return err
		}
		if number == "" {
			number = user.Phone
		}
		if number == "" {
			return gatehouse.Invalid("phone", "type the mobile phone number to receive codes on, with its country code")
		}
		if err := tx.UseMFAChallenge(ctx, ch.ID, now); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return codeRefused() // another answer came first
		} else if err != nil {
			return err
		}
		next := gatehouse.MFAChallenge{ID: s.NewID(), UserID: ch.UserID, Kind: gatehouse.ChallengeEnroll, Method: gatehouse.MFASMS,
			ExpiresAt: ch.ExpiresAt, Sends: ch.Sends}
		if err := s.textCode(ctx, tx, &next, number, now); err != nil {
			return err
		}
		secret, hash := gatehouse.NewToken(gatehouse.TokenChallenge)
		next.Hash = hash
		result = SignInResult{Enroll: true, SMSSent: true, Challenge: secret, ChallengeEnds: next.ExpiresAt, Methods: []string{gatehouse.MFASMS}}
		return tx.InsertMFAChallenge(ctx, next)
	})
	if err == nil {
		s.MailQueued()
	}
	return result, err
}

// EnrollmentRetry refuses a wrong code typed while enrolling an
// authenticator, with a new challenge for the same key: the entry the person
// just added to their app stays good, until the first challenge's deadline.
// It unwraps to the refusal, so a program sees 401 as for any wrong code.
type EnrollmentRetry struct {
	Refusal error
	Retry   SignInResult
}

func (e *EnrollmentRetry) Error() string { return e.Refusal.Error() }
func (e *EnrollmentRetry) Unwrap() error { return e.Refusal }

// retryEnrollment makes a new enrollment challenge for the key of ch, which
// a wrong code has just used up.
func (s *Service) retryEnrollment(ctx context.Context, tx FactorsTx, ch gatehouse.MFAChallenge) (*EnrollmentRetry, error) {
	user, err := tx.User(ctx, ch.UserID)
	if err != nil {
		return nil, err
	}
	plain, err := s.Box.Open(ch.TOTPSecret, TOTPContext(ch.UserID))
	if err != nil {
		return nil, err
	}
	key, err := otp.NewKeyFromURL((&url.URL{Scheme: "otpauth", Host: "totp", Path: "/Gatehouse:" + user.Username,
		RawQuery: url.Values{"secret": {plain}, "issuer": {"Gatehouse"}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}.Encode()}).String())
	if err != nil {
		return nil, err
	}
	next := gatehouse.MFAChallenge{ID: s.NewID(), UserID: ch.UserID, Kind: gatehouse.ChallengeEnroll, Method: gatehouse.MFATOTP,
		TOTPSecret: ch.TOTPSecret, ExpiresAt: ch.ExpiresAt}
	secret, hash := gatehouse.NewToken(gatehouse.TokenChallenge)
	next.Hash = hash
	if err := tx.InsertMFAChallenge(ctx, next); err != nil {
		return nil, err
	}
	return &EnrollmentRetry{Refusal: gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "wrong code; type the code your app shows now"),
		Retry: SignInResult{Enroll: true, Challenge: secret, ChallengeEnds: next.ExpiresAt, TOTPSecret: plain,
			OTPAuthURI: key.URL(), Methods: []string{gatehouse.MFATOTP}}}, nil
}

func codeRefused() error {
	return gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "wrong or expired code; sign in again")
}

// answerChallenge uses up a challenge and checks its code; for an
// enrollment challenge a right code enrolls the factor. userID, when set,
// is the only identity whose challenge is accepted. A wrong code answers
// ok=false with the challenge used and the refusal audited in tx, for the
// caller to commit.
func (s *Service) answerChallenge(ctx context.Context, tx FactorsTx, ip, requestID, userID, challengeSecret, code string, now time.Time) (gatehouse.MFAChallenge, bool, error) {
	if gatehouse.TokenKind(challengeSecret) != gatehouse.TokenChallenge {
		return gatehouse.MFAChallenge{}, false, nil
	}
	ch, err := tx.MFAChallengeByHash(ctx, gatehouse.HashToken(challengeSecret))
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && (!ch.UsedAt.IsZero() || !now.Before(ch.ExpiresAt) || (userID != "" && ch.UserID != userID))) {
		return ch, false, nil
	} else if err != nil {
		return ch, false, err
	}
	if err := tx.UseMFAChallenge(ctx, ch.ID, now); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return ch, false, nil // another answer came first
	} else if err != nil {
		return ch, false, err
	}
	c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: ch.UserID}, IP: ip, RequestID: requestID}
	refuse := func() (gatehouse.MFAChallenge, bool, error) {
		return ch, false, tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.code_refused", "user", ch.UserID))
	}
	code = strings.TrimSpace(code)
	if ch.Kind == gatehouse.ChallengeVerify && looksLikeRecoveryCode(code) {
		if err := tx.UseRecoveryCode(ctx, ch.UserID, recoveryCodeHash(code), now); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return refuse()
		} else if err != nil {
			return ch, false, err
		}
		return ch, true, tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "mfa.recovery_code_used", "user", ch.UserID))
	}
	if ch.Method == gatehouse.MFAPasskey {
		return refuse() // answered by a passkey, or a recovery code
	}
	if ch.Method == gatehouse.MFASMS {
		if len(code) != 6 || subtle.ConstantTimeCompare(smsCodeHash(ch.ID, code), ch.CodeHash) != 1 {
			return refuse()
		}
		if ch.Kind == gatehouse.ChallengeEnroll {
			if err := tx.SetMFAMethod(ctx, ch.UserID, gatehouse.MFASMS, "", ch.Phone); err != nil {
				return ch, false, err
			}
			return ch, true, tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "mfa.sms_enrolled", "user", ch.UserID))
		}
		return ch, true, nil
	}
	sealed := ch.TOTPSecret
	if ch.Kind == gatehouse.ChallengeVerify {
		user, err := tx.User(ctx, ch.UserID)
		if err != nil {
			return ch, false, err
		}
		creds, err := tx.Credentials(ctx, user.Username)
		if err != nil {
			return ch, false, err
		}
		sealed = creds.TOTPSecret
	}
	secret, err := s.Box.Open(sealed, TOTPContext(ch.UserID))
	if err != nil {
		return ch, false, err
	}
	step := matchTOTP(secret, code, now)
	enroll := ""
	if ch.Kind == gatehouse.ChallengeEnroll {
		enroll = sealed
	}
	if step < 0 {
		return refuse()
	}
	if err := tx.UseTOTPStep(ctx, ch.UserID, step, enroll); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return refuse() // this code was used already
	} else if err != nil {
		return ch, false, err
	}
	if enroll != "" {
		return ch, true, tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "mfa.enrolled", "user", ch.UserID))
	}
	return ch, true, nil
}

// ResendSMSCode texts a new code for an SMS challenge; the old code stops
// working. Resends are throttled: 30 seconds apart, five texts in all
// (429 rate_limited beyond).
func (s *Service) ResendSMSCode(ctx context.Context, ip, requestID, challengeSecret string) (time.Time, error) {
	var expires time.Time
	err := s.factorsStore.Write(ctx, func(tx FactorsTx) error {
		now := s.Now()
		if gatehouse.TokenKind(challengeSecret) != gatehouse.TokenChallenge {
			return codeRefused()
		}
		ch, err := tx.MFAChallengeByHash(ctx, gatehouse.HashToken(challengeSecret))
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && (!ch.UsedAt.IsZero() || !now.Before(ch.ExpiresAt) || ch.Method != gatehouse.MFASMS)) {
			return codeRefused()
		} else if err != nil {
			return err
		}
		sends := ch.Sends
		if err := s.textCode(ctx, tx, &ch, ch.Phone, now); err != nil {
			return err
		}
		if err := tx.ResendSMSCode(ctx, ch.ID, ch.CodeHash, now, now.Add(-smsResendGap), smsMaxSends); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			if sends >= smsMaxSends {
				return gatehouse.Errorf(gatehouse.ERATELIMITED, "no more codes for this sign-in; sign in again")
			}
			return gatehouse.Errorf(gatehouse.ERATELIMITED, "a new code can be sent %d seconds after the last", int(smsResendGap/time.Second))
		} else if err != nil {
			return err
		}
		expires = ch.ExpiresAt
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: ch.UserID}, IP: ip, RequestID: requestID}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "mfa.sms_resent", "user", ch.UserID))
	})
	if err == nil {
		s.MailQueued()
	}
	return expires, err
}

// mayChangeOwnFactor asks the policy whether the caller may change their
// own second factor or recovery codes: signed in with a session (not a
// token), and not a remote monitoring user, whose credentials are generated.
func (s *Service) mayChangeOwnFactor(ctx context.Context, c gatehouse.Caller) error {
	if err := kernel.Decide(c, policy.ChangeOwnSecondFactor, policy.Target{Self: true}); err != nil {
		return err
	}
	user, err := s.factorsStore.User(ctx, c.Principal.UserID)
	if err != nil {
		return err
	}
	return kernel.Decide(c, policy.ChangeOwnSecondFactor, policy.Target{Self: true, ServiceIdentity: kernel.IsServiceUser(user)})
}

// SMSEnrollment is a code texted to confirm SMS as a person's second factor.
type SMSEnrollment struct {
	Challenge string
	Phone     string
	ExpiresAt time.Time
}

// StartSMSEnrollment texts a code to the caller's profile phone; answering
// it makes SMS their second factor (R-S2).
func (s *Service) StartSMSEnrollment(ctx context.Context, c gatehouse.Caller) (SMSEnrollment, error) {
	if err := s.mayChangeOwnFactor(ctx, c); err != nil {
		return SMSEnrollment{}, err
	}
	var out SMSEnrollment
	err := s.factorsStore.Write(ctx, func(tx FactorsTx) error {
		user, err := tx.User(ctx, c.Principal.UserID)
		if err != nil {
			return err
		}
		if user.Phone == "" {
			return gatehouse.Invalid("phone", "add a mobile phone number to your profile first")
		}
		now := s.Now()
		secret, hash := gatehouse.NewToken(gatehouse.TokenChallenge)
		ch := gatehouse.MFAChallenge{ID: s.NewID(), Hash: hash, UserID: user.ID, Kind: gatehouse.ChallengeEnroll,
			Method: gatehouse.MFASMS, ExpiresAt: now.Add(ChallengeLifetime)}
		if err := s.textCode(ctx, tx, &ch, user.Phone, now); err != nil {
			return err
		}
		out = SMSEnrollment{Challenge: secret, Phone: user.Phone, ExpiresAt: ch.ExpiresAt}
		return tx.InsertMFAChallenge(ctx, ch)
	})
	if err == nil {
		s.MailQueued()
	}
	return out, err
}

// ConfirmEnrollment enrolls the factor of an enrollment challenge of the
// caller's own (authenticator key or SMS) when its code is right.
func (s *Service) ConfirmEnrollment(ctx context.Context, c gatehouse.Caller, challengeSecret, code string) error {
	if err := s.mayChangeOwnFactor(ctx, c); err != nil {
		return err
	}
	refused := false
	err := s.factorsStore.Write(ctx, func(tx FactorsTx) error {
		ch, ok, err := s.answerChallenge(ctx, tx, c.IP, c.RequestID, c.Principal.UserID, challengeSecret, code, s.Now())
		refused = !ok || ch.Kind != gatehouse.ChallengeEnroll
		if err == nil && ok && refused {
			return codeRefused() // a sign-in challenge is no enrollment; roll back its use
		}
		if err == nil && ok {
			// A new factor ends the sessions opened without it (ASVS 7.4.3).
			err = tx.RevokeOtherSessions(ctx, c.Principal.UserID, c.Principal.SessionID, s.Now())
		}
		if err == nil && ok && c.Principal.SessionID != "" {
			// This session has just proved the factor: an application that
			// requires a second factor accepts it from now on.
			err = tx.MarkSessionSecondFactor(ctx, c.Principal.SessionID)
		}
		return err
	})
	if err == nil && refused {
		return codeRefused()
	}
	return err
}

// DisableMFA turns the caller's second factor off. Administrators must keep
// one (R-P4): for them it is refused with 409 mfa_required.
func (s *Service) DisableMFA(ctx context.Context, c gatehouse.Caller) error {
	if err := s.mayChangeOwnFactor(ctx, c); err != nil {
		return err
	}
	return s.factorsStore.Write(ctx, func(tx FactorsTx) error {
		admin, err := tx.HasActiveAdminMembership(ctx, c.Principal.UserID)
		if err != nil {
			return err
		}
		passkeys, err := tx.PasskeysOf(ctx, c.Principal.UserID)
		if err != nil {
			return err
		}
		if admin && len(passkeys) == 0 {
			return gatehouse.Errorf(gatehouse.EMFAREQUIRED, "administrators (and people an administrator required it of) must keep a second factor; choose another method instead")
		}
		if err := tx.SetMFAMethod(ctx, c.Principal.UserID, gatehouse.MFANone, "", ""); err != nil {
			return err
		}
		if len(passkeys) == 0 {
			// No factor is left for recovery codes to stand in for.
			if err := tx.ReplaceRecoveryCodes(ctx, c.Principal.UserID, nil); err != nil {
				return err
			}
		}
		if err := tx.RevokeOtherSessions(ctx, c.Principal.UserID, c.Principal.SessionID, s.Now()); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), "", "mfa.disabled", "user", c.Principal.UserID))
	})
}

// NewRecoveryCodes makes the caller ten new recovery codes, shown this once;
// the old ones stop working. Only people with a second factor have them.
func (s *Service) NewRecoveryCodes(ctx context.Context, c gatehouse.Caller) ([]string, error) {
	if err := s.mayChangeOwnFactor(ctx, c); err != nil {
		return nil, err
	}
	codes := make([]string, recoveryCodeCount)
	hashes := make([][]byte, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = recoveryCodeHash(codes[i])
	}
	err := s.factorsStore.Write(ctx, func(tx FactorsTx) error {
		user, err := tx.User(ctx, c.Principal.UserID)
		if err != nil {
			return err
		}
		creds, err := tx.Credentials(ctx, user.Username)
		if err != nil {
			return err
		}
		passkeys, err := tx.PasskeysOf(ctx, user.ID)
		if err != nil {
			return err
		}
		if creds.MFAMethod == gatehouse.MFANone && len(passkeys) == 0 {
			return gatehouse.Errorf(gatehouse.EINVALID, "set up a second factor before making recovery codes")
		}
		if err := tx.ReplaceRecoveryCodes(ctx, user.ID, hashes); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), "", "mfa.recovery_codes_created", "user", user.ID))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Recovery codes are ten letters and digits from an alphabet without look-
// alikes, shown as xxxxx-xxxxx: 50 bits each.
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newRecoveryCode() string {
	out := make([]byte, 0, 11)
	var b [1]byte
	for len(out) < 11 {
		if len(out) == 5 {
			out = append(out, '-')
		}
		_, _ = rand.Read(b[:])
		// Bytes past the last whole multiple of the alphabet are drawn
		// again, so every letter is equally likely.
		if limit := 256 - 256%len(recoveryAlphabet); int(b[0]) < limit {
			out = append(out, recoveryAlphabet[int(b[0])%len(recoveryAlphabet)])
		}
	}
	return string(out)
}

// normalRecoveryCode accepts a code typed with or without its dash, in any
// case.
func normalRecoveryCode(code string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
}

func looksLikeRecoveryCode(code string) bool { return len(normalRecoveryCode(code)) == 10 }

func recoveryCodeHash(code string) []byte {
	sum := sha256.Sum256([]byte("recovery:" + normalRecoveryCode(code)))
	return sum[:]
}
