package oidcprovider

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Introspection (RFC 7662) is what every resource server of the platform
// calls for each request it serves, so it is the provider's busiest
// endpoint. op's own handler answers it through the generic Storage calls:
// six reads (the client twice over, the token, the person, the account,
// the access) and claims merged through maps. This one does it in one
// query and one plain struct:
//
//   - the token's signature, issuer and expiry are verified by op, once:
//     its signed claims (id, subject, account, expiry) are then remembered
//     by the token's SHA-256 until it expires, for they never change;
//   - what can change — revocation, the person's access, the account, the
//     names, the asking client's secret — is read from the database at every
//     request, in one query (store.OIDCTokenHolder), and decided by the
//     same policy as the tokens and userinfo (policy.SignInToAccount);
//   - the asking client authenticates as at the token endpoint: HTTP basic
//     with the form-encoded id and secret, or client_id and client_secret in
//     the form; only a live confidential client may ask (RFC 7662 section
//     2.1). When the token is not one of ours, the client is read alone.
//     An integrator's own application is told only of tokens for that
//     integrator's accounts.

// introspection is the answer to one introspection request.
type introspection struct {
	Active     bool     `json:"active"`
	Scope      string   `json:"scope,omitempty"`
	ClientID   string   `json:"client_id,omitempty"`
	TokenType  string   `json:"token_type,omitempty"`
	Expiration int64    `json:"exp,omitempty"`
	IssuedAt   int64    `json:"iat,omitempty"`
	AuthTime   int64    `json:"auth_time,omitempty"`
	Subject    string   `json:"sub,omitempty"`
	Audience   []string `json:"aud,omitempty"`
	Issuer     string   `json:"iss,omitempty"`
	JWTID      string   `json:"jti,omitempty"`
	// The person, as userinfo tells it for the token's scopes.
	Username          string `json:"username,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Name              string `json:"name,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	Email             string `json:"email,omitempty"`
	EmailVerified     bool   `json:"email_verified,omitempty"`
	// The account the token is for.
	AccountID    string `json:"account_id,omitempty"`
	AccountName  string `json:"account_name,omitempty"`
	AccountKind  string `json:"account_kind,omitempty"`
	IntegratorID string `json:"integrator_id,omitempty"`
	Level        string `json:"level,omitempty"`
}

// signedAccessToken is what the provider signed into an access token and
// introspection needs of it.
type signedAccessToken struct {
	tokenID, subject, accountID string
	expires                     time.Time
}

// introspect serves /oauth2/introspect.
func (s *Service) introspect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := r.ParseForm(); err != nil {
			writeOAuthJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "the form cannot be read"})
			return
		}
		clientID, secret := clientCredentials(r)
		answer, authenticated, err := s.introspection(r.Context(), clientID, secret, r.PostForm.Get("token"))
		switch {
		case err != nil:
			writeOAuthJSON(w, http.StatusInternalServerError, oauthError{"server_error", "the token could not be read"})
		case !authenticated:
			w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
			writeOAuthJSON(w, http.StatusUnauthorized, oauthError{"invalid_client", "the client could not be authenticated"})
		case r.PostForm.Get("token") == "":
			writeOAuthJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "the token to introspect is missing"})
		default:
			writeOAuthJSON(w, http.StatusOK, answer)
		}
	})
}

// clientCredentials are the client's id and secret: HTTP basic, each part
// form-encoded (RFC 6749 section 2.3.1), or else client_id and
// client_secret in the form.
func clientCredentials(r *http.Request) (id, secret string) {
	if id, secret, ok := r.BasicAuth(); ok {
		id, errID := url.QueryUnescape(id)
		secret, errSecret := url.QueryUnescape(secret)
		if errID != nil || errSecret != nil {
			return "", ""
		}
		return id, secret
	}
	return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
}

// secretMatches compares a client's secret with its stored hash in
// constant time; a client without a hash (public, deleted, unknown) never
// matches.
func secretMatches(hash []byte, secret string) bool {
	return len(hash) > 0 && secret != "" && subtle.ConstantTimeCompare(gatehouse.HashToken(secret), hash) == 1
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// introspection tells whether the asking client authenticated, and what
// the provider knows of an access token: inactive (the zero answer) when it
// is not a live access token of this provider, or its holder may no longer
// act in its account. An error is the database's.
func (s *Service) introspection(ctx context.Context, clientID, secret, token string) (answer introspection, authenticated bool, err error) {
	if clientID == "" || secret == "" {
		return introspection{}, false, nil
	}
	now := s.Now()
	if signed, ok := s.verifyAccessToken(ctx, token, now); ok {
		h, err := s.store.OIDCTokenHolder(ctx, signed.tokenID, signed.accountID, clientID, now)
		if err == nil {
			if !secretMatches(h.AskingClientSecretHash, secret) {
				return introspection{}, false, nil
			}
			return s.holderIntrospection(h, signed, now), true, nil
		}
		if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return introspection{}, false, err
		}
	}
	// Not a token of ours: the client still authenticates.
	c, err := s.store.OIDCClient(ctx, clientID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return introspection{}, false, nil
	}
	if err != nil {
		return introspection{}, false, err
	}
	return introspection{}, c.Confidential && secretMatches(c.SecretHash, secret), nil
}

// holderIntrospection is the answer for a token read with its holder.
func (s *Service) holderIntrospection(h gatehouse.OIDCTokenHolder, signed signedAccessToken, now time.Time) introspection {
	tok := h.Token
	holder := tok.UserID
	if holder == "" {
		holder = tok.ClientID // a service client's token: sub is the client
	}
	if tok.Kind != gatehouse.OIDCAccessToken || holder != signed.subject || !tok.RevokedAt.IsZero() || !now.Before(tok.ExpiresAt) || !h.ClientLive {
		return introspection{}
	}
	answer := introspection{Active: true, Scope: strings.Join(tok.Scopes, " "), ClientID: tok.ClientID, TokenType: oidc.BearerToken,
		Expiration: tok.ExpiresAt.Unix(), IssuedAt: tok.CreatedAt.Unix(), Subject: holder, Audience: []string{tok.ClientID},
		Issuer: s.PublicURL(), JWTID: tok.ID}
	// An integrator's own application learns only of tokens for that
	// integrator's accounts, as it signs people in to those alone; the
	// platform's applications (no owner) of any.
	owner := h.AskingClientOwnerID
	if owner != "" && (signed.accountID == "" || (h.Account.ID != owner && h.Account.IntegratorID != owner)) {
		return introspection{}
	}
	var claims accountClaimSet
	if tok.UserID == "" {
		// A service client's token is for the client's one account.
		if !h.ClientService || h.ClientAccountID != signed.accountID || signed.accountID == "" {
			return introspection{}
		}
		claims = serviceAccountClaims(h.Account)
	} else {
		answer.AuthTime = tok.AuthTime.Unix()
		if scopeAccount(tok.Scopes) != signed.accountID {
			return introspection{}
		}
		if signed.accountID != "" {
			var err error
			if claims, err = personAccountClaims(tok.UserID, h.Account, h.Access, owner); err != nil {
				return introspection{}
			}
		}
		if slices.Contains(tok.Scopes, oidc.ScopeEmail) || slices.Contains(tok.Scopes, oidc.ScopeProfile) {
			answer.Username, answer.PreferredUsername = h.Username, h.Username
			if strings.Contains(h.Username, "@") {
				answer.Email, answer.EmailVerified = h.Username, true
			}
		}
		if slices.Contains(tok.Scopes, oidc.ScopeProfile) {
			answer.GivenName, answer.FamilyName = h.FirstName, h.LastName
			answer.Name = strings.TrimSpace(h.FirstName + " " + h.LastName)
		}
	}
	answer.AccountID, answer.AccountName, answer.AccountKind = claims.AccountID, claims.AccountName, claims.AccountKind
	answer.IntegratorID, answer.Level = claims.IntegratorID, claims.Level
	return answer
}

// verifyAccessToken verifies one of the provider's access tokens with op
// (issuer, algorithm, signature, expiry), once: its signed claims are then
// remembered by the token's SHA-256 until it expires.
func (s *Service) verifyAccessToken(ctx context.Context, token string, now time.Time) (signedAccessToken, bool) {
	digest := sha256.Sum256([]byte(token))
	if signed, ok := s.verifiedAccess.get(digest, now); ok {
		return signed, true
	}
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, token, s.accessTokenVerifier())
	if err != nil || claims.JWTID == "" {
		return signedAccessToken{}, false
	}
	// The account is the account_id claim the provider signed in
	// (GetPrivateClaimsFromRequest), checked against the token's row.
	accountID, _ := claims.Claims["account_id"].(string)
	signed := signedAccessToken{tokenID: claims.JWTID, subject: claims.Subject, accountID: accountID, expires: claims.Expiration.AsTime()}
	if !now.Before(signed.expires) {
		return signedAccessToken{}, false
	}
	s.verifiedAccess.put(digest, signed, signed.expires, now)
	return signed, true
}
