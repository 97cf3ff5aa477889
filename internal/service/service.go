// Package service holds Gatehouse's use cases. Each public method takes the
// caller, decides in authorize whether the caller may act, and only then
// touches the store; every change writes its audit event in the same
// transaction as the change itself.
package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/password"
	"github.com/gatehouse/gatehouse/internal/secretbox"
)

// Service is the application: the store plus the rules.
type Service struct {
	store gatehouse.Store
	clock gatehouse.Clock
	newID func() string
	// bootstrapHash is the SHA-256 of GATEHOUSE_BOOTSTRAP_TOKEN, or nil.
	bootstrapHash []byte
	invitationTTL time.Duration
	publicURL     string
	mailDomain    string
	mailQueued    func()
	hasher        *password.Hasher
	// dummyHash is verified for unknown usernames, so they cost what known
	// ones do.
	dummyHash string
	box       *secretbox.Box
	// models caches each account's access rules for checks (R-A5).
	models *access.Cache
	// instance names this process in the leases of bulk jobs.
	instance string
	// bulkLease is how long a bulk job stays with a node that stopped
	// renewing it; bulkPoll how often a waiting confirm looks again.
	bulkLease, bulkPoll time.Duration
	// bulkWake wakes RunBulkJobs for a job confirmed without waiting.
	bulkWake chan struct{}
	// providers caches the discovery of OpenID Connect providers.
	providers *oidcProviders
	// sleep waits out the slow-down of wrong passwords.
	sleep func(ctx context.Context, d time.Duration)
}

// Options configures a Service. Zero values pick the production defaults.
type Options struct {
	Clock gatehouse.Clock
	NewID func() string
	// BootstrapToken, when set, is accepted as an operator API token.
	BootstrapToken string
	// InvitationTTL is how long an invitation link lives (default 7 days, R-M4).
	InvitationTTL time.Duration
	// PublicURL is the base of every link in e-mails; never a request's Host.
	PublicURL string
	// MailQueued, if set, is called after a change queued e-mail, to wake
	// the delivery worker.
	MailQueued func()
	// PasswordParams are argon2id's costs (default password.DefaultParams);
	// tests lower them.
	PasswordParams password.Params
	// SecretKey seals the secrets that must be read again (authenticator
	// keys); 32 bytes. Default: a random key, good for one process only.
	SecretKey []byte
	// ModelCacheSize is how many accounts' access models are kept in
	// memory (default access.DefaultCapacity).
	ModelCacheSize int
	// BulkLease is how long a bulk job's lease lasts without renewal
	// (default 15 s): after a crash, another node (or the restarted one)
	// takes the job over once it ends.
	BulkLease time.Duration
	// Sleep waits for d or until ctx ends (default: really); tests record
	// the slow-down of wrong passwords instead of waiting it out.
	Sleep func(ctx context.Context, d time.Duration)
}

// New returns a Service over store.
func New(store gatehouse.Store, opts Options) *Service {
	s := &Service{store: store, clock: opts.Clock, newID: opts.NewID, invitationTTL: opts.InvitationTTL}
	if s.invitationTTL <= 0 {
		s.invitationTTL = 7 * 24 * time.Hour
	}
	s.publicURL = strings.TrimRight(opts.PublicURL, "/")
	if s.publicURL == "" {
		s.publicURL = "http://127.0.0.1:8080"
	}
	s.mailDomain = "gatehouse.invalid"
	if u, err := url.Parse(s.publicURL); err == nil && u.Hostname() != "" {
		s.mailDomain = u.Hostname()
	}
	params := opts.PasswordParams
	if params == (password.Params{}) {
		params = password.DefaultParams
	}
	// One hash at a time per core: more would only queue inside the CPU and
	// multiply the memory held (19 MiB each).
	s.hasher = password.NewHasher(params, runtime.GOMAXPROCS(0))
	s.dummyHash, _ = s.hasher.Hash(context.Background(), "no user has this password")
	key := opts.SecretKey
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	box, err := secretbox.New(key)
	if err != nil {
		panic(err) // a key of the wrong size is a wiring mistake
	}
	s.box = box
	s.models = access.NewCache(store, opts.ModelCacheSize)
	s.bulkLease, s.bulkPoll, s.bulkWake = opts.BulkLease, 50*time.Millisecond, make(chan struct{}, 1)
	if s.bulkLease <= 0 {
		s.bulkLease = 15 * time.Second
	}
	s.providers = &oidcProviders{client: &http.Client{Timeout: oidcTimeout}}
	s.sleep = opts.Sleep
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	s.mailQueued = opts.MailQueued
	if s.mailQueued == nil {
		s.mailQueued = func() {}
	}
	if s.clock == nil {
		s.clock = gatehouse.SystemClock{}
	}
	if s.newID == nil {
		s.newID = NewID
	}
	s.instance = NewID()
	if opts.BootstrapToken != "" {
		sum := sha256.Sum256([]byte(opts.BootstrapToken))
		s.bootstrapHash = sum[:]
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// NewID returns a time-ordered unique id (UUIDv7), so that sorting by id is
// sorting by creation.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// now is the single clock reading of one use case; times are stored to the
// microsecond, so they are truncated here to compare equal after a round trip.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Authenticate turns a bearer secret into a principal, or fails with
// EUNAUTHENTICATED. The bootstrap token is compared in constant time; other
// tokens are found by the hash of the secret, which leaks nothing by timing.
func (s *Service) Authenticate(ctx context.Context, secret string) (gatehouse.Principal, error) {
	unauthenticated := gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "missing or invalid token")
	if secret == "" {
		return gatehouse.Principal{}, unauthenticated
	}
	hash := gatehouse.HashToken(secret)
	if s.bootstrapHash != nil && subtle.ConstantTimeCompare(hash, s.bootstrapHash) == 1 {
		return gatehouse.Principal{Operator: true}, nil
	}
	switch gatehouse.TokenKind(secret) {
	case gatehouse.TokenSession:
		p, err := s.sessionPrincipal(ctx, hash)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Principal{}, unauthenticated
		}
		return p, err
	case gatehouse.TokenCheck:
		if _, err := s.store.CheckTokenByHash(ctx, hash); gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Principal{}, unauthenticated
		} else if err != nil {
			return gatehouse.Principal{}, err
		}
		return gatehouse.Principal{Checker: true}, nil
	case gatehouse.TokenAPI:
		now := s.now()
		tok, err := s.store.APITokenByHash(ctx, hash, now)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Principal{}, unauthenticated
		} else if err != nil {
			return gatehouse.Principal{}, err
		}
		if tok.LastUsedAt.Before(now.Add(-time.Minute)) {
			// The last use is recorded to the minute: one write a minute a
			// token, not one a request.
			if err := s.store.Write(ctx, func(tx gatehouse.Tx) error { return tx.TouchAPIToken(ctx, tok.ID, now) }); err != nil {
				return gatehouse.Principal{}, err
			}
		}
		p := gatehouse.Principal{UserID: tok.UserID, ScopeAccountID: tok.AccountID}
		if len(tok.Scopes) > 0 {
			p.Scopes = tok.Scopes
		}
		return p, nil
	}
	return gatehouse.Principal{}, unauthenticated
}

// audit builds the audit event of a change made by caller.
func (s *Service) audit(c gatehouse.Caller, at time.Time, accountID, action, targetType, targetID string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{
		ID: s.newID(), AccountID: accountID, At: at, ActorID: c.Principal.ActorID(),
		Action: action, TargetType: targetType, TargetID: targetID, IP: c.IP, RequestID: c.RequestID,
	}
}

// queueMail renders a message in the recipient's language and queues it in
// the transaction tx, with a Message-ID fixed now (R-N1).
func (s *Service) queueMail(ctx context.Context, tx gatehouse.Tx, now time.Time, to, lang, kind string, data messages.Data) error {
	m, err := s.mail(now, to, lang, kind, data)
	if err != nil {
		return err
	}
	return tx.EnqueueMessage(ctx, m)
}

// mail renders a message in the recipient's language, with its Message-ID.
func (s *Service) mail(now time.Time, to, lang, kind string, data messages.Data) (gatehouse.Message, error) {
	subject, body, err := messages.Render(lang, kind, data)
	if err != nil {
		return gatehouse.Message{}, err
	}
	id := s.newID()
	return gatehouse.Message{ID: id, MessageID: id + "@" + s.mailDomain, To: to, Subject: subject, Body: body, CreatedAt: now}, nil
}

// Now is the service's clock reading (pages judge expiry by it, as the API
// does).
func (s *Service) Now() time.Time { return s.now() }

// PublicURL is the base of every link Gatehouse gives out.
func (s *Service) PublicURL() string { return s.publicURL }

// activationLink is the link of an invitation e-mail (API.md "Running it").
func (s *Service) activationLink(secret string) string {
	return s.publicURL + "/activate?token=" + url.QueryEscape(secret)
}
