package gatehouse

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Token kinds. Each secret starts with its kind's prefix, so one kind can
// never be accepted as another and a leaked secret is recognisable in logs.
const (
	TokenAPI        = "gh_api_"
	TokenSession    = "gh_ses_"
	TokenInvitation = "gh_inv_"
	TokenChallenge  = "gh_mfa_"
	TokenCheck      = "gh_chk_"
	// TokenConfirm is the link that confirms a new username (R-U4).
	TokenConfirm = "gh_cnf_"
	// TokenState is the state of a trip to an identity provider (R-U5).
	TokenState = "gh_sta_"
	// TokenReset is a "forgot your password?" link.
	TokenReset = "gh_rst_"
	// TokenOIDCSecret is an OpenID client's secret; TokenOIDCRefresh a
	// refresh token Gatehouse issued as an OpenID Provider.
	TokenOIDCSecret  = "gh_ocs_"
	TokenOIDCRefresh = "gh_ort_"
	// TokenPasskey is a passkey ceremony in progress: registering one, or
	// signing in with one.
	TokenPasskey = "gh_pkc_"
)

// NewToken returns a fresh secret of the given kind (256 random bits) and the
// SHA-256 that is all the database keeps of it. High-entropy secrets need no
// slow hash; looking a token up by its hash leaks nothing through timing.
func NewToken(kind string) (secret string, hash []byte) {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on supported platforms
	secret = kind + base64.RawURLEncoding.EncodeToString(raw[:])
	return secret, HashToken(secret)
}

// HashToken is the stored form of a secret.
func HashToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// TokenKind returns the kind prefix of a secret, or "" when it has none.
func TokenKind(secret string) string {
	for _, kind := range []string{TokenAPI, TokenSession, TokenInvitation, TokenChallenge, TokenCheck, TokenConfirm, TokenState, TokenReset, TokenOIDCSecret, TokenOIDCRefresh, TokenSCIM, TokenPasskey} {
		if strings.HasPrefix(secret, kind) {
			return kind
		}
	}
	return ""
}
