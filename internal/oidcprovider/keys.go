package oidcprovider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
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

// signingKey is a key every node signs tokens with: ES256, or RS256 for the
// applications registered for it. It lives in the database, the private key
// sealed with the node's secret key.
type signingKey struct {
	id      string
	alg     jose.SignatureAlgorithm
	private crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.private }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a signing key as the JWKS publishes it.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.private.Public() }

// SigningKeyContext binds a sealed signing key to its id (see
// internal/secretbox).
func SigningKeyContext(id string) string { return "oidc_signing_key:" + id }

// RSASigningKeyContext binds the sealed RS256 key of a generation to the
// generation's id.
func RSASigningKeyContext(id string) string { return SigningKeyContext(rsaKeyID(id)) }

// rsaKeyID names a generation's RS256 key in the JWKS.
func rsaKeyID(id string) string { return id + "-rs256" }

// generation is one generation's keys: the ES256 key, and the RS256 key
// once an RS256 application needed it.
type generation struct {
	stored gatehouse.OIDCSigningKey
	es     *signingKey
	rsa    *signingKey
}

// publishedKeys returns the keys the JWKS publishes, the ES256 key that
// signs first.
func (s *Service) publishedKeys(ctx context.Context) ([]*signingKey, error) {
	generations, err := s.publishedGenerations(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]*signingKey, 0, 2*len(generations))
	for _, g := range generations {
		keys = append(keys, g.es)
		if g.rsa != nil {
			keys = append(keys, g.rsa)
		}
	}
	return keys, nil
}

// publishedGenerations returns the generations whose keys the JWKS
// publishes, the one that signs first. The database is read each time, so a
// rotation by any node is seen by all at once; the first key is made at
// first use, and the next one when the current one has signed for the
// rotation period.
func (s *Service) publishedGenerations(ctx context.Context) ([]generation, error) {
	stored, err := s.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if len(stored) == 0 || !now.Before(stored[0].CreatedAt.Add(s.keyRotation)) {
		forgetSigningKeys(ctx)
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
	generations := make([]generation, 0, 2)
	for i, k := range stored {
		// A replaced key stays while a token it signed may be valid.
		if i > 0 && !now.Before(stored[i-1].CreatedAt.Add(SignedTokenLifetime)) {
			break
		}
		g := generation{stored: k}
		if g.es, err = s.openKey(k.ID, k.PrivateKey, jose.ES256); err != nil {
			return nil, err
		}
		if k.RSAPrivateKey != "" {
			if g.rsa, err = s.openKey(rsaKeyID(k.ID), k.RSAPrivateKey, jose.RS256); err != nil {
				return nil, err
			}
		}
		generations = append(generations, g)
	}
	return generations, nil
}

// signingAlgorithmKey carries the signing algorithm of the application a
// token request is for (see withClientSigningAlgorithm).
type signingAlgorithmKey struct{}

// signingKey returns the key that signs now: the current generation's ES256
// key, or its RS256 key for an application registered for RS256, made at
// its first use.
func (s *Service) signingKey(ctx context.Context) (*signingKey, error) {
	generations, err := s.publishedGenerations(ctx)
	if err != nil {
		return nil, err
	}
	current := generations[0]
	if alg, _ := ctx.Value(signingAlgorithmKey{}).(string); alg != gatehouse.SigningRS256 {
		return current.es, nil
	}
	if current.rsa != nil {
		return current.rsa, nil
	}
	return s.makeRSAKey(ctx, current.stored)
}

// makeRSAKey gives a generation its RS256 key. Two nodes making one at once
// both try; the first stored wins and both sign with it.
func (s *Service) makeRSAKey(ctx context.Context, current gatehouse.OIDCSigningKey) (*signingKey, error) {
	private, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(private)
	if err != nil {
		return nil, err
	}
	sealed := s.Box.Seal(base64.StdEncoding.EncodeToString(der), RSASigningKeyContext(current.ID))
	if err := s.store.Write(ctx, func(tx Tx) error { return tx.SetOIDCSigningKeyRSA(ctx, current.ID, sealed) }); err != nil {
		return nil, err
	}
	forgetSigningKeys(ctx)
	stored, err := s.store.OIDCSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range stored {
		if k.ID == current.ID && k.RSAPrivateKey != "" {
			return s.openKey(rsaKeyID(k.ID), k.RSAPrivateKey, jose.RS256)
		}
	}
	return nil, fmt.Errorf("the RS256 key of OpenID signing key %s is missing", current.ID)
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
		PrivateKey: s.Box.Seal(base64.StdEncoding.EncodeToString(der), SigningKeyContext(id))}
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
func (s *Service) openKey(id, sealed string, alg jose.SignatureAlgorithm) (*signingKey, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if k, ok := s.keys[id]; ok {
		return k, nil
	}
	opened, err := s.Box.Open(sealed, SigningKeyContext(id))
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
	var private crypto.Signer
	switch key := parsed.(type) {
	case *ecdsa.PrivateKey:
		private = key
	case *rsa.PrivateKey:
		private = key
	}
	if private == nil || (alg == jose.ES256) != isECDSA(private) {
		return nil, fmt.Errorf("the OpenID signing key %s is not an %s key", id, alg)
	}
	k := &signingKey{id: id, alg: alg, private: private}
	if s.keys == nil {
		s.keys = map[string]*signingKey{}
	}
	s.keys[id] = k
	return k, nil
}

func isECDSA(k crypto.Signer) bool {
	_, ok := k.(*ecdsa.PrivateKey)
	return ok
}
