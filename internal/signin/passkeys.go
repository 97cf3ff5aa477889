package signin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Passkeys (R-S6): WebAuthn credentials, registered from a person's
// profile or when activating an invitation, used to sign in without a
// password (a discoverable credential that verified the person) or as the
// second factor after a password. Every ceremony's challenge is kept in the
// database (passkey_ceremonies), so any node may finish what another began,
// and is used by its first answer, right or wrong.

// PasskeyConfig is the relying party: its id (the host of the public URL)
// and the origins allowed to answer, and, when set, the authenticator
// models (AAGUIDs) administrators' passkeys must be of.
type PasskeyConfig struct {
	RPID         string
	Origins      []string
	AdminAAGUIDs []uuid.UUID
}

// PasskeyConfigFor is the relying party of a public URL: its host (without
// port) is the id, its origin the one origin allowed.
func PasskeyConfigFor(publicURL string) (PasskeyConfig, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return PasskeyConfig{}, fmt.Errorf("passkeys need a public URL such as https://gatehouse.example.com, not %q", publicURL)
	}
	return PasskeyConfig{RPID: u.Hostname(), Origins: []string{u.Scheme + "://" + u.Host}}, nil
}

// ConfigurePasskeys sets the relying party. Until it is called, passkeys
// follow the public URL.
func (s *Service) ConfigurePasskeys(cfg PasskeyConfig) error {
	w, err := webauthn.New(&webauthn.Config{RPID: cfg.RPID, RPDisplayName: "Gatehouse", RPOrigins: cfg.Origins,
		AttestationPreference: protocol.PreferNoAttestation})
	if err != nil {
		return fmt.Errorf("passkeys: %w", err)
	}
	s.webauthn, s.adminAAGUIDs = w, cfg.AdminAAGUIDs
	return nil
}

// relyingParty is the relying party configured when the service was made
// (ConfigurePasskeys). Without one — the public URL names an IP address,
// which cannot be a relying party id — passkeys are unavailable, and every
// ceremony says why.
func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	if s.webauthn == nil {
		return nil, gatehouse.Errorf(gatehouse.EUNAVAILABLE,
			"passkeys are not available: the server's public URL must name a host, not an IP address (for example --public-url http://localhost:8080)")
	}
	return s.webauthn, nil
}

// PasskeysAvailable tells whether passkeys can be used on this server.
func (s *Service) PasskeysAvailable() bool { return s.webauthn != nil }

// PasskeyCeremony is what the browser needs to create or use a passkey: the
// secret that names the ceremony, and the options for
// navigator.credentials (a JSON object with "publicKey").
type PasskeyCeremony struct {
	Ceremony  string
	Options   json.RawMessage
	ExpiresAt time.Time
}

// passkeyUser is a person as the WebAuthn library sees them. The user
// handle is the identity's id: random, stable, and no personal data.
type passkeyUser struct {
	user gatehouse.User
	keys []gatehouse.Passkey
}

func (u passkeyUser) WebAuthnID() []byte   { return []byte(u.user.ID) }
func (u passkeyUser) WebAuthnName() string { return u.user.Username }
func (u passkeyUser) WebAuthnDisplayName() string {
	if name := strings.TrimSpace(u.user.FirstName + " " + u.user.LastName); name != "" {
		return name
	}
	return u.user.Username
}

func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(u.keys))
	for _, k := range u.keys {
		transports := make([]protocol.AuthenticatorTransport, len(k.Transports))
		for i, t := range k.Transports {
			transports[i] = protocol.AuthenticatorTransport(t)
		}
		out = append(out, webauthn.Credential{ID: k.CredentialID, PublicKey: k.PublicKey, AttestationType: k.AttestationType,
			AttestationFormat: k.AttestationFormat, Transport: transports,
			Flags:         webauthn.CredentialFlags{UserPresent: true, UserVerified: k.UserVerified, BackupEligible: k.BackupEligible, BackupState: k.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount}})
	}
	return out
}

func (u passkeyUser) descriptors() []protocol.CredentialDescriptor {
	var out []protocol.CredentialDescriptor
	for _, c := range u.WebAuthnCredentials() {
		out = append(out, c.Descriptor())
	}
	return out
}

// passkeyReader is what starting a ceremony for a known person reads.
type passkeyReader interface {
	User(ctx context.Context, id string) (gatehouse.User, error)
	PasskeysOf(ctx context.Context, userID string) ([]gatehouse.Passkey, error)
}

func loadPasskeyUser(ctx context.Context, r passkeyReader, userID string) (passkeyUser, error) {
	user, err := r.User(ctx, userID)
	if err != nil {
		return passkeyUser{}, err
	}
	keys, err := r.PasskeysOf(ctx, userID)
	return passkeyUser{user: user, keys: keys}, err
}

// newCeremony stores the library's session data under a new secret.
func (s *Service) newCeremony(ctx context.Context, tx PasskeysTx, c gatehouse.PasskeyCeremony, session *webauthn.SessionData, options any) (PasskeyCeremony, error) {
	data, err := json.Marshal(session)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	secret, hash := gatehouse.NewToken(gatehouse.TokenPasskey)
	c.ID, c.Hash, c.SessionData, c.ExpiresAt = s.NewID(), hash, string(data), s.Now().Add(ChallengeLifetime)
	if err := tx.InsertPasskeyCeremony(ctx, c); err != nil {
		return PasskeyCeremony{}, err
	}
	return PasskeyCeremony{Ceremony: secret, Options: opts, ExpiresAt: c.ExpiresAt}, nil
}

// useCeremony uses up the live ceremony of this purpose named by its
// secret: a second answer to one challenge (a replay) finds it used.
func (s *Service) useCeremony(ctx context.Context, tx PasskeysTx, secret, purpose string, now time.Time) (gatehouse.PasskeyCeremony, webauthn.SessionData, bool, error) {
	var session webauthn.SessionData
	if gatehouse.TokenKind(secret) != gatehouse.TokenPasskey {
		return gatehouse.PasskeyCeremony{}, session, false, nil
	}
	c, err := tx.UsePasskeyCeremony(ctx, gatehouse.HashToken(secret), purpose, now)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return c, session, false, nil
	} else if err != nil {
		return c, session, false, err
	}
	if err := json.Unmarshal([]byte(c.SessionData), &session); err != nil {
		return c, session, false, err
	}
	return c, session, true, nil
}

func passkeyRefused() error {
	return gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "the passkey was not accepted; try again")
}

// registrationOptions are those of every new passkey: discoverable (it
// names the person at sign-in) and verifying the person, so that it signs
// in alone; attestation "none" unless administrators' authenticators are
// restricted.
func (s *Service) registrationOptions(u passkeyUser, admin bool) []webauthn.RegistrationOption {
	required := true
	opts := []webauthn.RegistrationOption{
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{RequireResidentKey: &required,
			ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationRequired}),
		webauthn.WithExclusions(u.descriptors()),
	}
	if admin && len(s.adminAAGUIDs) > 0 {
		opts = append(opts, webauthn.WithConveyancePreference(protocol.PreferDirectAttestation))
	}
	return opts
}

// BeginPasskeyRegistration starts adding a passkey to the caller's own
// identity: the options for navigator.credentials.create.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, c gatehouse.Caller) (PasskeyCeremony, error) {
	if err := s.mayChangeOwnFactor(ctx, c); err != nil {
		return PasskeyCeremony{}, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return PasskeyCeremony{}, err
	}
	var out PasskeyCeremony
	err = s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		u, err := loadPasskeyUser(ctx, tx, c.Principal.UserID)
		if err != nil {
			return err
		}
		admin, err := tx.HasActiveAdminMembership(ctx, u.user.ID)
		if err != nil {
			return err
		}
		creation, session, err := rp.BeginRegistration(u, s.registrationOptions(u, admin)...)
		if err != nil {
			return err
		}
		out, err = s.newCeremony(ctx, tx, gatehouse.PasskeyCeremony{Purpose: gatehouse.CeremonyRegister, UserID: u.user.ID}, session, creation)
		return err
	})
	return out, err
}

// passkeyName checks the name a person gives a passkey.
func passkeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > gatehouse.MaxPasskeyNameLen || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", gatehouse.Invalid("name", "name the passkey (at most %d characters), for example after the device that holds it", gatehouse.MaxPasskeyNameLen)
	}
	return name, nil
}

// ParsePasskeyCreation reads the browser's answer to
// navigator.credentials.create (the PublicKeyCredential as JSON).
func ParsePasskeyCreation(credential []byte) (*protocol.ParsedCredentialCreationData, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return nil, gatehouse.Invalid("credential", "the browser's answer is not a passkey: %s", protocolDetails(err))
	}
	return parsed, nil
}

// ParsePasskeyAssertion reads the browser's answer to
// navigator.credentials.get (the PublicKeyCredential as JSON).
func ParsePasskeyAssertion(credential []byte) (*protocol.ParsedCredentialAssertionData, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return nil, gatehouse.Invalid("credential", "the browser's answer is not a passkey assertion: %s", protocolDetails(err))
	}
	return parsed, nil
}

func protocolDetails(err error) string {
	var e *protocol.Error
	if errors.As(err, &e) && e.Details != "" {
		return e.Details
	}
	return "it cannot be read"
}

// newPasskey makes the stored passkey of a credential the library checked.
func (s *Service) newPasskey(userID, name string, cred *webauthn.Credential, now time.Time) gatehouse.Passkey {
	transports := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		transports[i] = string(t)
	}
	return gatehouse.Passkey{ID: s.NewID(), UserID: userID, CredentialID: cred.ID, Name: name, PublicKey: cred.PublicKey,
		AttestationType: cred.AttestationType, AttestationFormat: cred.AttestationFormat, Transports: transports,
		AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount, UserVerified: cred.Flags.UserVerified,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, CreatedAt: now}
}

// aaguidAllowed tells whether an administrator may use an authenticator of
// this model: always when the operator set no list.
func (s *Service) aaguidAllowed(aaguid []byte) bool {
	if len(s.adminAAGUIDs) == 0 {
		return true
	}
	id, err := uuid.FromBytes(aaguid)
	return err == nil && slices.Contains(s.adminAAGUIDs, id)
}

// FinishPasskeyRegistration checks the browser's answer to a registration
// ceremony of the caller's and keeps the passkey under name. The person's
// other sessions end, as for any new factor.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, c gatehouse.Caller, ceremony, name string, credential []byte) (gatehouse.Passkey, error) {
	if err := s.mayChangeOwnFactor(ctx, c); err != nil {
		return gatehouse.Passkey{}, err
	}
	name, err := passkeyName(name)
	if err != nil {
		return gatehouse.Passkey{}, err
	}
	parsed, err := ParsePasskeyCreation(credential)
	if err != nil {
		return gatehouse.Passkey{}, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return gatehouse.Passkey{}, err
	}
	var (
		key     gatehouse.Passkey
		refusal error
	)
	err = s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		now := s.Now()
		cer, session, ok, err := s.useCeremony(ctx, tx, ceremony, gatehouse.CeremonyRegister, now)
		if err != nil {
			return err
		}
		if !ok || cer.UserID != c.Principal.UserID {
			return passkeyRefused() // nothing of the caller's was used: roll back
		}
		u, err := loadPasskeyUser(ctx, tx, c.Principal.UserID)
		if err != nil {
			return err
		}
		admin, err := tx.HasActiveAdminMembership(ctx, u.user.ID)
		if err != nil {
			return err
		}
		key, refusal, err = s.registerPasskey(ctx, tx, c, rp, u, session, parsed, name, admin, now)
		if err != nil || refusal != nil {
			return err
		}
		// A new factor ends the sessions opened without it.
		return tx.RevokeOtherSessions(ctx, u.user.ID, c.Principal.SessionID, now)
	})
	if err == nil && refusal != nil {
		return gatehouse.Passkey{}, refusal
	}
	return key, err
}

// registerPasskey has the library check a new credential against the
// ceremony, and keeps it. A refusal is audited in tx and returned apart,
// for the caller to commit with the ceremony used.
func (s *Service) registerPasskey(ctx context.Context, tx PasskeysTx, c gatehouse.Caller, rp *webauthn.WebAuthn, u passkeyUser,
	session webauthn.SessionData, parsed *protocol.ParsedCredentialCreationData, name string, admin bool, now time.Time) (gatehouse.Passkey, error, error) {
	refuse := func(msg string) (gatehouse.Passkey, error, error) {
		return gatehouse.Passkey{}, gatehouse.Invalid("credential", "%s", msg), tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "passkey.refused", "user", u.user.ID))
	}
	cred, err := rp.CreateCredential(u, session, parsed)
	if err != nil {
		return refuse("the passkey could not be registered: " + protocolDetails(err))
	}
	if admin && !s.aaguidAllowed(cred.Authenticator.AAGUID) {
		return refuse("administrators' passkeys must be on an authenticator the operator allows")
	}
	if _, err := tx.PasskeyByCredentialID(ctx, cred.ID); err == nil {
		return refuse("this passkey is registered already")
	} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return gatehouse.Passkey{}, nil, err
	}
	key := s.newPasskey(u.user.ID, name, cred, now)
	if err := tx.InsertPasskey(ctx, key); err != nil {
		return key, nil, err
	}
	return key, nil, tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "passkey.added", "passkey", key.ID))
}

// Passkeys lists the caller's own passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, c gatehouse.Caller) ([]gatehouse.Passkey, error) {
	if err := kernel.Decide(c, policy.ReadSelf, policy.Target{Self: true}); err != nil {
		return nil, err
	}
	if c.Principal.UserID == "" {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "the bootstrap operator token has no identity")
	}
	return s.passkeysStore.PasskeysOf(ctx, c.Principal.UserID)
}

// RemovePasskey removes one of the caller's passkeys and ends their other
// sessions. An administrator's last second factor stays (R-P4): 409
// mfa_required when it is this passkey.
func (s *Service) RemovePasskey(ctx context.Context, c gatehouse.Caller, id string) error {
	if err := s.mayChangeOwnFactor(ctx, c); err != nil {
		return err
	}
	return s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		now := s.Now()
		u, err := loadPasskeyUser(ctx, tx, c.Principal.UserID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(u.keys, func(k gatehouse.Passkey) bool { return k.ID == id }) {
			return gatehouse.NotFound("passkey")
		}
		creds, err := tx.Credentials(ctx, u.user.Username)
		if err != nil {
			return err
		}
		last := creds.MFAMethod == gatehouse.MFANone && len(u.keys) == 1
		if last {
			admin, err := tx.HasActiveAdminMembership(ctx, u.user.ID)
			if err != nil {
				return err
			}
			if admin {
				return gatehouse.Errorf(gatehouse.EMFAREQUIRED, "administrators (and people an administrator required it of) must keep a second factor; add another passkey or an authenticator app first")
			}
			// No factor left: the recovery codes that stood for one go too.
			if err := tx.ReplaceRecoveryCodes(ctx, u.user.ID, nil); err != nil {
				return err
			}
		}
		if err := tx.DeletePasskey(ctx, u.user.ID, id); err != nil {
			return err
		}
		if err := tx.RevokeOtherSessions(ctx, u.user.ID, c.Principal.SessionID, now); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "passkey.removed", "passkey", id))
	})
}

// BeginPasskeySignIn starts a sign-in without a password: any passkey of
// this site may answer (a discoverable credential names its person), and it
// must verify the person (a PIN, a fingerprint). Nothing about any username
// is asked or told.
func (s *Service) BeginPasskeySignIn(ctx context.Context) (PasskeyCeremony, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return PasskeyCeremony{}, err
	}
	assertion, session, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return PasskeyCeremony{}, err
	}
	var out PasskeyCeremony
	err = s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		out, err = s.newCeremony(ctx, tx, gatehouse.PasskeyCeremony{Purpose: gatehouse.CeremonySignIn}, session, assertion)
		return err
	})
	return out, err
}

// FinishPasskeySignIn checks the browser's answer to a passwordless
// sign-in and opens a session, which counts as one with a second factor:
// the passkey is something held, unlocked by something known or by the
// person's body. Every refusal is the same 401, committed with its audit
// event and the ceremony used.
func (s *Service) FinishPasskeySignIn(ctx context.Context, ip, requestID, ceremony string, credential []byte) (*NewSession, error) {
	parsed, err := ParsePasskeyAssertion(credential)
	if err != nil {
		return nil, passkeyRefused()
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	var session *NewSession
	refused := false
	err = s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		now := s.Now()
		c := gatehouse.Caller{IP: ip, RequestID: requestID}
		_, data, ok, err := s.useCeremony(ctx, tx, ceremony, gatehouse.CeremonySignIn, now)
		if err != nil || !ok {
			refused = !ok
			return err
		}
		key, err := tx.PasskeyByCredentialID(ctx, parsed.RawID)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			refused = true
			return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.passkey_refused", "passkey", "unknown"))
		} else if err != nil {
			return err
		}
		u, err := loadPasskeyUser(ctx, tx, key.UserID)
		if err != nil {
			return err
		}
		c.Principal.UserID = u.user.ID
		ok, err = s.checkAssertion(ctx, tx, c, u, key, now, func() error {
			_, _, err := rp.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
				if !bytes.Equal(userHandle, u.WebAuthnID()) {
					return nil, errors.New("the passkey belongs to someone else")
				}
				return u, nil
			}, data, parsed)
			return err
		}, parsed)
		if err != nil || !ok {
			refused = !ok
			return err
		}
		session, err = s.startPasskeySession(ctx, tx, c, u.user.ID, []string{"hwk", "user"}, now)
		return err
	})
	if err == nil && refused {
		return nil, passkeyRefused()
	}
	return session, err
}

// checkAssertion runs the library's checks of an assertion (validate),
// then Gatehouse's: an active identity, an allowed authenticator for
// administrators, and a counter that moved forward, recorded in the same
// statement that checks it. A refusal is audited in tx.
func (s *Service) checkAssertion(ctx context.Context, tx PasskeysTx, c gatehouse.Caller, u passkeyUser, key gatehouse.Passkey, now time.Time,
	validate func() error, parsed *protocol.ParsedCredentialAssertionData) (bool, error) {
	refuse := func() (bool, error) {
		return false, tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.passkey_refused", "passkey", key.ID))
	}
	if u.user.Status != gatehouse.UserActive {
		return refuse()
	}
	if err := validate(); err != nil {
		return refuse()
	}
	if len(s.adminAAGUIDs) > 0 && !s.aaguidAllowed(key.AAGUID) {
		admin, err := tx.HasActiveAdminMembership(ctx, u.user.ID)
		if err != nil {
			return false, err
		}
		if admin {
			return refuse()
		}
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if err := tx.UsePasskey(ctx, key.ID, parsed.Response.AuthenticatorData.Counter, flags.HasBackupState(), now); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		// The counter went back or stood still: a copy of the key may be
		// in use somewhere.
		if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "passkey.counter_refused", "passkey", key.ID)); err != nil {
			return false, err
		}
		return refuse()
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// startPasskeySession opens a session with a passkey's methods.
func (s *Service) startPasskeySession(ctx context.Context, tx PasskeysTx, c gatehouse.Caller, userID string, amr []string, now time.Time) (*NewSession, error) {
	secret, hash := gatehouse.NewToken(gatehouse.TokenSession)
	session := gatehouse.Session{ID: s.NewID(), UserID: userID, Hash: hash, CreatedAt: now,
		ExpiresAt: now.Add(SessionLifetime), LastSeenAt: now, SecondFactor: true, AMR: amr}
	if err := tx.InsertSession(ctx, session); err != nil {
		return nil, err
	}
	if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.created", "session", session.ID)); err != nil {
		return nil, err
	}
	if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.passkey_accepted", "user", userID)); err != nil {
		return nil, err
	}
	return &NewSession{Token: secret, UserID: userID, ExpiresAt: session.ExpiresAt}, nil
}

// BeginPasskeySecondFactor answers a sign-in's second-factor challenge
// with the options for one of the person's passkeys.
func (s *Service) BeginPasskeySecondFactor(ctx context.Context, challengeSecret string) (PasskeyCeremony, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return PasskeyCeremony{}, err
	}
	if gatehouse.TokenKind(challengeSecret) != gatehouse.TokenChallenge {
		return PasskeyCeremony{}, codeRefused()
	}
	var out PasskeyCeremony
	err = s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		ch, err := tx.MFAChallengeByHash(ctx, gatehouse.HashToken(challengeSecret))
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && (!ch.UsedAt.IsZero() || !s.Now().Before(ch.ExpiresAt) || ch.Kind != gatehouse.ChallengeVerify)) {
			return codeRefused()
		} else if err != nil {
			return err
		}
		u, err := loadPasskeyUser(ctx, tx, ch.UserID)
		if err != nil {
			return err
		}
		if len(u.keys) == 0 {
			return gatehouse.Invalid("challenge", "no passkey is registered for this sign-in; use your code")
		}
		assertion, session, err := rp.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
		if err != nil {
			return err
		}
		out, err = s.newCeremony(ctx, tx, gatehouse.PasskeyCeremony{Purpose: gatehouse.CeremonySecondFactor, UserID: u.user.ID, ChallengeID: ch.ID}, session, assertion)
		return err
	})
	return out, err
}

// CompletePasskeySecondFactor answers a sign-in's second-factor challenge
// with a passkey of the person's and opens the session. Like a code, the
// challenge is used by its first answer, right or wrong.
func (s *Service) CompletePasskeySecondFactor(ctx context.Context, ip, requestID, challengeSecret, ceremony string, credential []byte) (*NewSession, error) {
	parsed, err := ParsePasskeyAssertion(credential)
	if err != nil {
		return nil, passkeyRefused()
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if gatehouse.TokenKind(challengeSecret) != gatehouse.TokenChallenge {
		return nil, codeRefused()
	}
	var session *NewSession
	refused := false
	err = s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		now := s.Now()
		ch, err := tx.MFAChallengeByHash(ctx, gatehouse.HashToken(challengeSecret))
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && (!ch.UsedAt.IsZero() || !now.Before(ch.ExpiresAt) || ch.Kind != gatehouse.ChallengeVerify)) {
			refused = true
			return nil
		} else if err != nil {
			return err
		}
		cer, data, ok, err := s.useCeremony(ctx, tx, ceremony, gatehouse.CeremonySecondFactor, now)
		if err != nil {
			return err
		}
		if !ok || subtle.ConstantTimeCompare([]byte(cer.ChallengeID), []byte(ch.ID)) != 1 {
			refused = true
			return nil
		}
		if err := tx.UseMFAChallenge(ctx, ch.ID, now); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			refused = true
			return nil
		} else if err != nil {
			return err
		}
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: ch.UserID}, IP: ip, RequestID: requestID}
		u, err := loadPasskeyUser(ctx, tx, ch.UserID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(u.keys, func(k gatehouse.Passkey) bool { return bytes.Equal(k.CredentialID, parsed.RawID) })
		if i < 0 {
			// Not one of this person's passkeys (another person's, or none).
			refused = true
			return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.passkey_refused", "user", u.user.ID))
		}
		ok, err = s.checkAssertion(ctx, tx, c, u, u.keys[i], now, func() error {
			_, err := rp.ValidateLogin(u, data, parsed)
			return err
		}, parsed)
		if err != nil || !ok {
			refused = !ok
			return err
		}
		session, err = s.startPasskeySession(ctx, tx, c, u.user.ID, []string{"pwd", "hwk", "user"}, now)
		return err
	})
	if err == nil && refused {
		return nil, passkeyRefused()
	}
	return session, err
}

// BeginPasskeyActivation starts activating an invitation with a passkey
// instead of a password. The link is checked, not used.
func (s *Service) BeginPasskeyActivation(ctx context.Context, invitationSecret string) (PasskeyCeremony, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return PasskeyCeremony{}, err
	}
	var out PasskeyCeremony
	err = s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		inv, err := s.validInvitation(ctx, tx, invitationSecret)
		if err != nil {
			return err
		}
		u, err := loadPasskeyUser(ctx, tx, inv.UserID)
		if err != nil {
			return err
		}
		if u.user.IdentityProviderID != "" {
			return gatehouse.Invalid("token", "this account signs in through its identity provider: open the activation link in a browser")
		}
		admin, err := s.invitedAsAdmin(ctx, tx, u.user.ID)
		if err != nil {
			return err
		}
		creation, session, err := rp.BeginRegistration(u, s.registrationOptions(u, admin)...)
		if err != nil {
			return err
		}
		out, err = s.newCeremony(ctx, tx, gatehouse.PasskeyCeremony{Purpose: gatehouse.CeremonyActivate, UserID: u.user.ID,
			InvitationHash: gatehouse.HashToken(invitationSecret)}, session, creation)
		return err
	})
	return out, err
}

// invitedAsAdmin tells whether a person being activated is invited as an
// administrator somewhere (or is an operator already), whose passkey the
// operator's list of authenticators governs.
func (s *Service) invitedAsAdmin(ctx context.Context, tx PasskeysTx, userID string) (bool, error) {
	if admin, err := tx.HasActiveAdminMembership(ctx, userID); err != nil || admin {
		return admin, err
	}
	memberships, err := tx.MembershipsOf(ctx, userID, s.Now())
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(memberships, func(m gatehouse.MembershipSummary) bool {
		return m.Level == gatehouse.LevelClientAdmin || m.Level == gatehouse.LevelIntegratorAdmin
	}), nil
}

// ActivateWithPasskey uses an invitation link with a passkey instead of a
// password (R-M3, R-S6): the identity becomes active without a password,
// and signs in with the passkey. The link is used in the same transaction,
// once, as with a password.
func (s *Service) ActivateWithPasskey(ctx context.Context, ip, requestID, invitationSecret, ceremony, name string, credential []byte) (gatehouse.User, error) {
	name, err := passkeyName(name)
	if err != nil {
		return gatehouse.User{}, err
	}
	parsed, err := ParsePasskeyCreation(credential)
	if err != nil {
		return gatehouse.User{}, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return gatehouse.User{}, err
	}
	var (
		user    gatehouse.User
		refusal error
	)
	err = s.passkeysStore.Write(ctx, func(tx PasskeysTx) error {
		now := s.Now()
		inv, err := s.validInvitation(ctx, tx, invitationSecret)
		if err != nil {
			return err
		}
		cer, session, ok, err := s.useCeremony(ctx, tx, ceremony, gatehouse.CeremonyActivate, now)
		if err != nil {
			return err
		}
		if !ok || subtle.ConstantTimeCompare(cer.InvitationHash, gatehouse.HashToken(invitationSecret)) != 1 || cer.UserID != inv.UserID {
			return passkeyRefused()
		}
		u, err := loadPasskeyUser(ctx, tx, inv.UserID)
		if err != nil {
			return err
		}
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: u.user.ID}, IP: ip, RequestID: requestID}
		admin, err := s.invitedAsAdmin(ctx, tx, u.user.ID)
		if err != nil {
			return err
		}
		if _, refusal, err = s.registerPasskey(ctx, tx, c, rp, u, session, parsed, name, admin, now); err != nil || refusal != nil {
			return err
		}
		user = u.user
		return s.activate(ctx, tx, c, inv, "")
	})
	if err == nil && refusal != nil {
		return gatehouse.User{}, refusal
	}
	user.Status = gatehouse.UserActive
	return user, err
}
