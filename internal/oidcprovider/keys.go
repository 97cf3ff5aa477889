package oidcprovider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// signingKey is the ES256 key every node signs tokens with. It lives in the
// database, the private key sealed with the node's secret key.
type signingKey struct {
	id      string
	private *ecdsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k *signingKey) Key() any                                    { return k.private }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the signing key as the JWKS publishes it.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.private.PublicKey }

func sealContext(id string) string { return "oidc_signing_key:" + id }

// signingKey returns the signing key, making it at first use. Two nodes
// making it at once both insert-if-absent and read back the one that won.
func (s *Service) signingKey(ctx context.Context) (*signingKey, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	stored, err := s.store.OIDCSigningKey(ctx)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		private, genErr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if genErr != nil {
			return nil, genErr
		}
		der, derErr := x509.MarshalPKCS8PrivateKey(private)
		if derErr != nil {
			return nil, derErr
		}
		id := s.NewID()
		fresh := gatehouse.OIDCSigningKey{ID: id, Algorithm: string(jose.ES256), CreatedAt: s.Now(),
			PrivateKey: s.Box.Seal(base64.StdEncoding.EncodeToString(der), sealContext(id))}
		if err := s.store.Write(ctx, func(tx Tx) error { return tx.InsertOIDCSigningKey(ctx, fresh) }); err != nil {
			return nil, err
		}
		stored, err = s.store.OIDCSigningKey(ctx)
	}
	if err != nil {
		return nil, err
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
	s.key = &signingKey{id: stored.ID, private: private}
	return s.key, nil
}
