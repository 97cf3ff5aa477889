package oidcprovider

import (
	"context"
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Verifying the provider's own tokens (userinfo, introspection, checks
// about a token's holder) is the provider's busiest work. Two things in it
// are pure, so they are remembered:
//
//   - the published keys, by kid: a key leaves the JWKS only once every
//     token it signed has expired, so verifying with a key remembered a
//     moment after it left accepts nothing the expiry check lets through.
//     An unknown kid reads the keys again (another node rotated).
//   - a verified signature, by the token's SHA-256, until the token
//     expires: the same token verifies the same way every time. What can
//     change — revocation, the person's access — is read from the
//     database at every request, never remembered.

// verifiedTokens remembers what was verified of tokens (their payloads,
// or the claims read from them), at most verifiedTokensMax at once.
type verifiedTokens[V any] struct {
	mu      sync.Mutex
	entries map[[32]byte]verifiedToken[V]
}

type verifiedToken[V any] struct {
	value   V
	expires time.Time
}

// verifiedTokensMax bounds the memory (a few hundred bytes a token): when
// full, the expired entries go, and if none had, all of them.
const verifiedTokensMax = 50_000

func (v *verifiedTokens[V]) get(key [32]byte, now time.Time) (V, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.entries[key]
	if !ok || !now.Before(e.expires) {
		var none V
		return none, false
	}
	return e.value, true
}

func (v *verifiedTokens[V]) put(key [32]byte, value V, expires, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.entries == nil {
		v.entries = map[[32]byte]verifiedToken[V]{}
	}
	if len(v.entries) >= verifiedTokensMax {
		for k, e := range v.entries {
			if !now.Before(e.expires) {
				delete(v.entries, k)
			}
		}
		if len(v.entries) >= verifiedTokensMax {
			clear(v.entries)
		}
	}
	v.entries[key] = verifiedToken[V]{value: value, expires: expires}
}

// tokenKeySet verifies the signatures of the provider's own tokens (an
// oidc.KeySet) with the remembered keys and signatures.
type tokenKeySet struct{ s *Service }

var _ oidc.KeySet = tokenKeySet{}

func (k tokenKeySet) VerifySignature(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	serialized, err := jws.CompactSerialize()
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte(serialized))
	now := k.s.Now()
	if payload, ok := k.s.verified.get(digest, now); ok {
		return payload, nil
	}
	keyID, alg := oidc.GetKeyIDAndAlg(jws)
	key, err := k.s.verificationKey(ctx, keyID, alg)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, err
	}
	// Remembered for the longest life of a token, whatever its own exp
	// says: the expiry is checked after, at every request.
	k.s.verified.put(digest, payload, now.Add(SignedTokenLifetime), now)
	return payload, nil
}

// verificationKey returns the public key of a published key by id and
// algorithm, reading the keys again when it is not known yet.
func (s *Service) verificationKey(ctx context.Context, keyID string, alg string) (any, error) {
	find := func() any {
		s.keyMu.Lock()
		defer s.keyMu.Unlock()
		if k, ok := s.published[keyID]; ok && string(k.alg) == alg {
			return k.private.Public()
		}
		return nil
	}
	if key := find(); key != nil {
		return key, nil
	}
	keys, err := s.publishedKeys(ctx)
	if err != nil {
		return nil, err
	}
	s.keyMu.Lock()
	s.published = make(map[string]*signingKey, len(keys))
	for _, k := range keys {
		s.published[k.id] = k
	}
	s.keyMu.Unlock()
	if key := find(); key != nil {
		return key, nil
	}
	return nil, gatehouse.NotFound("signing key")
}

// accessTokenVerifier verifies the provider's access tokens.
func (s *Service) accessTokenVerifier() *op.AccessTokenVerifier {
	return op.NewAccessTokenVerifier(s.PublicURL(), tokenKeySet{s}, verifiedAlgorithms)
}

// clientsSeen remembers, for one request, the clients it read: op asks for
// the requesting client several times while answering one request, and
// each answer must be the database's, but need not be read again within it.
type clientsSeen struct {
	mu   sync.Mutex
	seen map[string]clientSeen
	// keys are the signing keys as read for this request (signing an ID
	// token and an access token reads them once).
	keys []gatehouse.OIDCSigningKey
}

type clientSeen struct {
	client gatehouse.OIDCClient
	err    error
}

type clientsSeenKey struct{}

// withClientsSeen gives each request its own memory of the clients read.
func withClientsSeen(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientsSeenKey{}, &clientsSeen{})))
	})
}

// client reads a live client, once per request.
func (s *Service) client(ctx context.Context, id string) (gatehouse.OIDCClient, error) {
	memo, _ := ctx.Value(clientsSeenKey{}).(*clientsSeen)
	if memo == nil {
		return s.store.OIDCClient(ctx, id)
	}
	memo.mu.Lock()
	defer memo.mu.Unlock()
	if c, ok := memo.seen[id]; ok {
		return c.client, c.err
	}
	c, err := s.store.OIDCClient(ctx, id)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		return c, err // a failed read is not remembered
	}
	if memo.seen == nil {
		memo.seen = map[string]clientSeen{}
	}
	memo.seen[id] = clientSeen{c, err}
	return c, err
}

// signingKeys reads the stored signing keys, once per request.
func (s *Service) signingKeys(ctx context.Context) ([]gatehouse.OIDCSigningKey, error) {
	memo, _ := ctx.Value(clientsSeenKey{}).(*clientsSeen)
	if memo == nil {
		return s.store.OIDCSigningKeys(ctx)
	}
	memo.mu.Lock()
	defer memo.mu.Unlock()
	if memo.keys != nil {
		return memo.keys, nil
	}
	keys, err := s.store.OIDCSigningKeys(ctx)
	if err == nil && len(keys) > 0 {
		memo.keys = keys
	}
	return keys, err
}

// forgetSigningKeys drops the request's keys after it stored a new one.
func forgetSigningKeys(ctx context.Context) {
	if memo, _ := ctx.Value(clientsSeenKey{}).(*clientsSeen); memo != nil {
		memo.mu.Lock()
		memo.keys = nil
		memo.mu.Unlock()
	}
}
