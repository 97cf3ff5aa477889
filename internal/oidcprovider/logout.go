package oidcprovider

import (
	"context"
	"encoding/json"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Signing out of the platform's applications.
//
// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when the
// tokens of a person's sign-in to an application are revoked (see the
// store's revocations), the outbox POSTs the application a logout token
// that LogoutToken signs. It names the person (sub), not one sign-in: the
// application ends every session it holds for them.

const (
	// LogoutTokenLifetime is how long a logout token is valid after it is
	// signed (at each delivery attempt).
	LogoutTokenLifetime = 2 * time.Minute
	// BackchannelLogoutEvent is the event a logout token carries.
	BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
)

// LogoutToken signs a back-channel logout token for an application
// (clientID) about a person (subject), with the key that signs now: typ
// logout+jwt, iss, aud, iat, exp, jti, sub and the back-channel logout
// event, and no nonce. jti is the outbox message's id, the same at every
// attempt, so that the application can drop a repeat.
func (s *Service) LogoutToken(ctx context.Context, clientID, subject, jti string) (string, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: jose.JSONWebKey{Key: key.private, KeyID: key.id}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	now := s.Now()
	claims, err := json.Marshal(map[string]any{
		"iss": s.PublicURL(), "aud": clientID, "iat": now.Unix(), "exp": now.Add(LogoutTokenLifetime).Unix(), "jti": jti, "sub": subject,
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	})
	if err != nil {
		return "", err
	}
	signed, err := signer.Sign(claims)
	if err != nil {
		return "", err
	}
	return signed.CompactSerialize()
}
