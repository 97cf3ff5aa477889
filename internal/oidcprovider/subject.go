package oidcprovider

import (
	"context"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// AccessTokenSubject tells whom a live access token of the provider was
// issued to: the person, and the account it carries (account:{id}; empty
// when it carries none). It is how the platform's services ask a check about
// the holder of a token an application presents, rather than about a user
// id they were told. The signature, issuer and expiry are verified, then the
// token's row: a revoked token (its person removed, their sessions ended,
// the application disconnected) is ENOTFOUND from the moment it was revoked,
// as is a service client's token, which has no person.
func (s *Service) AccessTokenSubject(ctx context.Context, raw string) (userID, accountID string, err error) {
	if raw == "" || len(raw) > 8192 {
		return "", "", gatehouse.NotFound("access token")
	}
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, raw, s.accessTokenVerifier())
	if err != nil {
		return "", "", gatehouse.NotFound("access token")
	}
	tok, err := s.store.OIDCToken(ctx, claims.JWTID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return "", "", gatehouse.NotFound("access token")
	} else if err != nil {
		return "", "", err
	}
	if tok.Kind != gatehouse.OIDCAccessToken || tok.UserID == "" || tok.UserID != claims.Subject || !tok.RevokedAt.IsZero() ||
		!s.Now().Before(tok.ExpiresAt) {
		return "", "", gatehouse.NotFound("access token")
	}
	for _, scope := range tok.Scopes {
		if strings.HasPrefix(scope, ScopeAccountPrefix) {
			accountID = strings.TrimPrefix(scope, ScopeAccountPrefix)
		}
	}
	return tok.UserID, accountID, nil
}
