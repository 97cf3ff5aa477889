package oidcprovider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// DefaultKeyRotation is how long a key signs before the next replaces it.
const DefaultKeyRotation = 30 * 24 * time.Hour

// SignedTokenLifetime is the longest life of a token a key signs (ID and
// access tokens; refresh tokens are opaque): a replaced key stays in the
// JWKS this long after its successor began to sign, then it is dropped.
var SignedTokenLifetime = max(AccessTokenLifetime, IDTokenLifetime)

// signingKey is an ES256 key every node signs tokens with. It lives in the
// database, the private key sealed with the node's secret key.
type signingKey struct {
	id      string
	private *ecdsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k *signingKey) Key() any                                    { return k.private }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a signing key as the JWKS publishes it.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.private.PublicKey }

func sealContext(id string) string { return "oidc_signing_key:" + id }

// publishedKeys returns the keys the JWKS publishes, the one that signs
// first. The database is read each time, so a rotation by any node is seen
// by all at once; the first key is made at first use, and the next one when
// the current one has signed for the rotation period.
func (s *Service) publishedKeys(ctx context.Context) ([]*signingKey, error) {
	stored, err := s.store.OIDCSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if len(stored) == 0 || !now.Before(stored[0].CreatedAt.Add(s.keyRotation)) {
		if _, err := s.rotate(ctx, stored); err != nil {
			return nil, err
		}
		if stored, err = s.store.OIDCSigningKeys(ctx); err != nil {
			return nil, err
		}
		if len(stored) == 0 {
			return nil, fmt.Errorf("no OpenID signing key after making one")
		}
	}
	keys := make([]*signingKey, 0, 2)
	for i, k := range stored {
		// A replaced key stays while a token it signed may be valid.
		if i > 0 && !now.Before(stored[i-1].CreatedAt.Add(SignedTokenLifetime)) {
			break
		}
		opened, err := s.openKey(k)
		if err != nil {
			return nil, err
		}
		keys = append(keys, opened)
	}
	return keys, nil
}

// signingKey returns the key that signs now.
func (s *Service) signingKey(ctx context.Context) (*signingKey, error) {
	keys, err := s.publishedKeys(ctx)
	if err != nil {
		return nil, err
	}
	return keys[0], nil
}

// RotateKeys makes a new signing key at once, whatever the schedule (after
// a leak, say), and returns its id. Tokens the previous key signed still
// verify until they expire; tokens a leaked key signed should be revoked.
func (s *Service) RotateKeys(ctx context.Context) (string, error) {
	stored, err := s.store.OIDCSigningKeys(ctx)
	if err != nil {
		return "", err
	}
	return s.rotate(ctx, stored)
}

// rotate makes the generation after stored's newest and drops the keys no
// valid token needs any more. Two nodes rotating at once both insert that
// generation; the first insert wins, and the id returned is the winner's.
func (s *Service) rotate(ctx context.Context, stored []gatehouse.OIDCSigningKey) (string, error) {
	private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(private)
	if err != nil {
		return "", err
	}
	now := s.Now()
	id := s.NewID()
	fresh := gatehouse.OIDCSigningKey{ID: id, Generation: 1, Algorithm: string(jose.ES256), CreatedAt: now,
		PrivateKey: s.Box.Seal(base64.StdEncoding.EncodeToString(der), sealContext(id))}
	if len(stored) > 0 {
		fresh.Generation = stored[0].Generation + 1
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		if err := tx.InsertOIDCSigningKey(ctx, fresh); err != nil {
			return err
		}
		// Once the new key signs, the one before it is all the JWKS needs
		// beside it; older ones signed nothing still valid if their
		// successor began to sign a token lifetime ago.
		for i := 1; i < len(stored); i++ {
			if !now.Before(stored[i-1].CreatedAt.Add(SignedTokenLifetime)) {
				if err := tx.DeleteOIDCSigningKey(ctx, stored[i].ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	after, err := s.store.OIDCSigningKeys(ctx)
	if err != nil {
		return "", err
	}
	for _, k := range after {
		if k.Generation == fresh.Generation {
			return k.ID, nil
		}
	}
	return "", fmt.Errorf("the OpenID signing key of generation %d is missing", fresh.Generation)
}

// openKey unseals a stored key, once per key and node.
func (s *Service) openKey(stored gatehouse.OIDCSigningKey) (*signingKey, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if k, ok := s.keys[stored.ID]; ok {
		return k, nil
	}
	opened, err := s.Box.Open(stored.PrivateKey, sealContext(stored.ID))
	if err != nil {
		return nil, fmt.Errorf("open the OpenID signing key (is the secret key the same on every node?): %w", err)
	}
	der, err := base64.StdEncoding.DecodeString(opened)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	private, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the OpenID signing key is not an ECDSA key")
	}
	k := &signingKey{id: stored.ID, private: private}
	if s.keys == nil {
		s.keys = map[string]*signingKey{}
	}
	s.keys[stored.ID] = k
	return k, nil
}
