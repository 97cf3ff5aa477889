// Package signin is the sign-in context: passwords and their slow-down and
// locks, sessions, second factors, identity providers (OpenID Connect),
// password resets, activation of invitations, and turning a bearer secret
// into a principal.
package signin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// Service holds the sign-in use cases.
type Service struct {
	*kernel.Kernel
	sessionsStore    SessionsStore
	factorsStore     FactorsStore
	mySessionsStore  MySessionsStore
	providersStore   ProvidersStore
	resetsStore      ResetsStore
	activationsStore ActivationsStore
	passkeysStore    PasskeysStore
	// webauthn is the passkeys' relying party; adminAAGUIDs, when set, the
	// only authenticator models administrators may use.
	webauthn     *webauthn.WebAuthn
	adminAAGUIDs []uuid.UUID
	// bootstrapHash is the SHA-256 of the bootstrap operator token, or nil.
	bootstrapHash []byte
	// dummyHash is verified for unknown usernames, so they cost what known
	// ones do.
	dummyHash string
	// providers caches the discovery of OpenID Connect providers.
	providers *oidcProviders
	// seenCheckTokens maps the hash of each check token this node has found
	// live to its id, for AuthenticateToCheck.
	seenCheckTokens seenCheckTokens
}

// New returns the sign-in use cases. bootstrapToken, when set, is accepted
// as an operator API token.
func New(k *kernel.Kernel, stores Stores, bootstrapToken string) *Service {
	s := &Service{Kernel: k, sessionsStore: stores.Sessions, factorsStore: stores.Factors, mySessionsStore: stores.MySessions,
		providersStore: stores.Providers, resetsStore: stores.Resets, activationsStore: stores.Activations, passkeysStore: stores.Passkeys, providers: &oidcProviders{client: &http.Client{Timeout: oidcTimeout}}}
	s.dummyHash, _ = k.Hasher.Hash(context.Background(), "no user has this password")
	if bootstrapToken != "" {
		sum := sha256.Sum256([]byte(bootstrapToken))
		s.bootstrapHash = sum[:]
	}
	return s
}

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
		tok, err := s.sessionsStore.CheckTokenByHash(ctx, hash)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Principal{}, unauthenticated
		} else if err != nil {
			return gatehouse.Principal{}, err
		}
		s.seenCheckTokens.remember(hash, tok.ID)
		return gatehouse.Principal{Checker: true}, nil
	case gatehouse.TokenAPI:
		now := s.Now()
		tok, err := s.sessionsStore.APITokenByHash(ctx, hash, now)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Principal{}, unauthenticated
		} else if err != nil {
			return gatehouse.Principal{}, err
		}
		if tok.LastUsedAt.Before(now.Add(-time.Minute)) {
			// The last use is recorded to the minute: one write a minute a
			// token, not one a request.
			if err := s.sessionsStore.Write(ctx, func(tx SessionsTx) error { return tx.TouchAPIToken(ctx, tok.ID, now) }); err != nil {
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

// AuthenticateToCheck is Authenticate for the routes that ask checks and
// nothing else. A check token this node has found live before is trusted
// without reading it: the principal carries its id as unconfirmed, and the
// check confirms it in the read it makes anyway (access.Service.Check), so
// that a check costs one round trip to the database instead of two and a
// revoked token is still refused by the next check on every node.
func (s *Service) AuthenticateToCheck(ctx context.Context, secret string) (gatehouse.Principal, error) {
	if gatehouse.TokenKind(secret) == gatehouse.TokenCheck {
		if id, ok := s.seenCheckTokens.lookup(gatehouse.HashToken(secret)); ok {
			return gatehouse.Principal{Checker: true, UnconfirmedCheckTokenID: id}, nil
		}
	}
	return s.Authenticate(ctx, secret)
}

// seenCheckTokens maps the SHA-256 of check token secrets to their ids. A
// platform has a handful of check tokens; the map is emptied if it ever
// holds more than maxSeenCheckTokens, so that revoked ones cannot pile up.
type seenCheckTokens struct {
	mu  sync.RWMutex
	ids map[string]string
}

const maxSeenCheckTokens = 1024

func (m *seenCheckTokens) lookup(hash []byte) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.ids[string(hash)]
	return id, ok
}

func (m *seenCheckTokens) remember(hash []byte, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ids == nil || len(m.ids) >= maxSeenCheckTokens {
		m.ids = map[string]string{}
	}
	m.ids[string(hash)] = id
}

// Stores are the faces of the store this context's use cases see, one per
// group of use cases (see store.go).
type Stores struct {
	Sessions    SessionsStore
	Factors     FactorsStore
	MySessions  MySessionsStore
	Providers   ProvidersStore
	Resets      ResetsStore
	Activations ActivationsStore
	Passkeys    PasskeysStore
}
