package oidcprovider

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Lifetimes.
const (
	AuthRequestLifetime  = 10 * time.Minute
	AccessTokenLifetime  = 15 * time.Minute
	RefreshTokenLifetime = 30 * 24 * time.Hour
	IDTokenLifetime      = time.Hour
	// ScopeAccountPrefix asks for one account in the tokens: account:{id}.
	ScopeAccountPrefix = "account:"
)

// storage is op.Storage over the provider's store.
type storage struct{ s *Service }

var (
	_ op.Storage                        = storage{}
	_ op.CanSetUserinfoFromRequest      = storage{}
	_ op.AuthRequest                    = (*authRequest)(nil)
	_ op.RefreshTokenRequest            = (*refreshRequest)(nil)
	_ op.Client                         = (*client)(nil)
	_ op.CanGetPrivateClaimsFromRequest = storage{}
	_ op.ClientCredentialsStorage       = storage{}
	_ op.TokenRequest                   = (*serviceRequest)(nil)
)

// authRequest is a stored authorization request as op sees it.
type authRequest struct{ gatehouse.OIDCAuthRequest }

func (a *authRequest) GetID() string                      { return a.ID }
func (a *authRequest) GetACR() string                     { return acrOf(a.AMR) }
func (a *authRequest) GetAMR() []string                   { return a.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.AuthTime }
func (a *authRequest) GetClientID() string                { return a.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.UserID }
func (a *authRequest) Done() bool                         { return a.UserID != "" }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}

// refreshRequest is a stored refresh token presented at /oauth2/token.
type refreshRequest struct {
	gatehouse.OIDCToken
}

func (r *refreshRequest) GetAMR() []string                 { return r.AMR }
func (r *refreshRequest) GetAudience() []string            { return []string{r.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.AuthTime }
func (r *refreshRequest) GetClientID() string              { return r.ClientID }
func (r *refreshRequest) GetScopes() []string              { return r.Scopes }
func (r *refreshRequest) GetSubject() string               { return r.UserID }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.Scopes = scopes }

// client is a registered application as op sees it.
type client struct{ gatehouse.OIDCClient }

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.OIDCClient.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.OIDCClient.PostLogoutRedirectURIs }
func (c *client) ResponseTypes() []oidc.ResponseType {
	if c.Service || c.Device {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes: a service client uses client credentials and nothing else;
// the others, the code flow and refresh tokens, never client credentials.
func (c *client) GrantTypes() []oidc.GrantType {
	if c.Service {
		return []oidc.GrantType{oidc.GrantTypeClientCredentials}
	}
	if c.Device {
		return []oidc.GrantType{oidc.GrantTypeDeviceCode, oidc.GrantTypeRefreshToken}
	}
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return IDTokenLifetime }
func (c *client) DevMode() bool                        { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool {
	return scope == ScopeChooseAccount || strings.HasPrefix(scope, ScopeAccountPrefix)
}

// LoginURL sends the browser to the portal's sign-in, which comes back to
// the page that finishes the request.
func (c *client) LoginURL(id string) string {
	return "/login?" + url.Values{"next": {ContinuePath + "?" + url.Values{"id": {id}}.Encode()}}.Encode()
}

func (c *client) ApplicationType() op.ApplicationType {
	if c.Confidential {
		return op.ApplicationTypeWeb
	}
	return op.ApplicationTypeNative
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Confidential {
		return oidc.AuthMethodBasic
	}
	return oidc.AuthMethodNone
}

func (st storage) Health(context.Context) error { return nil }

func (st storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := st.s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return &client{c}, nil
}

func (st storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := st.s.client(ctx, id)
	if err != nil {
		return err
	}
	if !c.Confidential || subtle.ConstantTimeCompare(gatehouse.HashToken(secret), c.SecretHash) != 1 {
		return errors.New("wrong client secret")
	}
	return nil
}

func (st storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := st.s.client(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	if c.Service {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("a service client signs nobody in: it uses client credentials")
	}
	if c.Device {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("a device client signs in with the device flow")
	}
	if req.CodeChallenge == "" && !c.Confidential {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (S256) is required of public clients")
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE must use S256")
	}
	if n := countAccountScopes(req.Scopes); n > 1 {
		return nil, oidc.ErrInvalidScope().WithDescription("ask for one account at a time")
	} else if n == 0 && c.OwnerAccountID != "" {
		return nil, oidc.ErrInvalidScope().WithDescription("an integrator's application asks for an account: the scope account or account:{id}")
	}
	now := st.s.Now()
	a := gatehouse.OIDCAuthRequest{ID: st.s.NewID(), ClientID: c.ID, RedirectURI: req.RedirectURI, Scopes: req.Scopes,
		State: req.State, Nonce: req.Nonce, ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod), CreatedAt: now,
		ExpiresAt: now.Add(AuthRequestLifetime), ACRValues: req.ACRValues}
	if err := st.s.store.Write(ctx, func(tx Tx) error { return tx.InsertOIDCAuthRequest(ctx, a) }); err != nil {
		return nil, err
	}
	return &authRequest{a}, nil
}

func (st storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := st.s.store.OIDCAuthRequest(ctx, id, st.s.Now())
	if err != nil {
		return nil, err
	}
	return &authRequest{a}, nil
}

// AuthRequestByCode uses the code: it works once. A code used again revokes
// every token its first use led to (RFC 6749 §4.1.2).
func (st storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	var (
		a     gatehouse.OIDCAuthRequest
		first bool
	)
	now := st.s.Now()
	err := st.s.store.Write(ctx, func(tx Tx) error {
		var err error
		a, first, err = tx.UseOIDCAuthCode(ctx, gatehouse.HashToken(code), now)
		if err != nil || first {
			return err
		}
		return tx.RevokeOIDCFamily(ctx, a.ID, now)
	})
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, oidc.ErrInvalidGrant().WithDescription("unknown or expired code")
		}
		return nil, err
	}
	if !first {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was used already")
	}
	return &authRequest{a}, nil
}

func (st storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return st.s.store.Write(ctx, func(tx Tx) error { return tx.SetOIDCAuthCode(ctx, id, gatehouse.HashToken(code)) })
}

func (st storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return st.s.store.Write(ctx, func(tx Tx) error { return tx.DeleteOIDCAuthRequest(ctx, id) })
}

// grantOf is what a token request carries over to the tokens it makes.
func grantOf(request op.TokenRequest) (family string, amr []string, authTime time.Time, clientID string, err error) {
	switch r := request.(type) {
	case *authRequest:
		return r.ID, r.AMR, r.AuthTime, r.ClientID, nil
	case *refreshRequest:
		return r.FamilyID, r.AMR, r.AuthTime, r.ClientID, nil
	case *serviceRequest:
		return r.client.ID, nil, time.Time{}, r.client.ID, nil
	case *op.DeviceAuthorizationState:
		return "", r.AMR, r.AuthTime, r.ClientID, nil // a family of its own
	}
	return "", nil, time.Time{}, "", oidc.ErrUnsupportedGrantType()
}

func (st storage) newAccessToken(request op.TokenRequest, now time.Time) (gatehouse.OIDCToken, error) {
	family, amr, authTime, clientID, err := grantOf(request)
	if family == "" {
		family = st.s.NewID()
	}
	userID := request.GetSubject()
	if _, ok := request.(*serviceRequest); ok {
		userID = "" // a service's token is no person's
	}
	return gatehouse.OIDCToken{ID: st.s.NewID(), Kind: gatehouse.OIDCAccessToken, FamilyID: family, ClientID: clientID,
		UserID: userID, Scopes: request.GetScopes(), AMR: amr, AuthTime: authTime, CreatedAt: now,
		ExpiresAt: now.Add(AccessTokenLifetime)}, err
}

func (st storage) CreateAccessToken(ctx context.Context, request op.TokenRequest) (string, time.Time, error) {
	tok, err := st.newAccessToken(request, st.s.Now())
	if err != nil {
		return "", time.Time{}, err
	}
	err = st.s.store.Write(ctx, func(tx Tx) error { return tx.InsertOIDCToken(ctx, tok) })
	return tok.ID, tok.ExpiresAt, err
}

// CreateAccessAndRefreshTokens makes an access token and a refresh token;
// with the refresh token presented (rotation), it uses that one up first:
// of two uses of one refresh token, the second revokes the family.
func (st storage) CreateAccessAndRefreshTokens(ctx context.Context, request op.TokenRequest, current string) (string, string, time.Time, error) {
	now := st.s.Now()
	access, err := st.newAccessToken(request, now)
	if err != nil {
		return "", "", time.Time{}, err
	}
	secret, hash := gatehouse.NewToken(gatehouse.TokenOIDCRefresh)
	refresh := access
	refresh.ID, refresh.Kind, refresh.Hash, refresh.ExpiresAt = st.s.NewID(), gatehouse.OIDCRefreshToken, hash, now.Add(RefreshTokenLifetime)
	reused := false
	err = st.s.store.Write(ctx, func(tx Tx) error {
		if r, ok := request.(*refreshRequest); ok && current != "" {
			if err := tx.UseOIDCRefreshToken(ctx, r.ID, now); err != nil {
				if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
					return err
				}
				reused = true
				return tx.RevokeOIDCFamily(ctx, r.FamilyID, now)
			}
		}
		if err := tx.InsertOIDCToken(ctx, access); err != nil {
			return err
		}
		return tx.InsertOIDCToken(ctx, refresh)
	})
	if err == nil && reused {
		err = oidc.ErrInvalidGrant().WithDescription("the refresh token was used already")
	}
	if err != nil {
		return "", "", time.Time{}, err
	}
	return access.ID, secret, access.ExpiresAt, nil
}

// TokenRequestByRefreshToken finds a live refresh token. One used before
// was stolen or replayed: its whole family is revoked.
func (st storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	if gatehouse.TokenKind(token) != gatehouse.TokenOIDCRefresh {
		return nil, op.ErrInvalidRefreshToken
	}
	tok, err := st.s.store.OIDCRefreshToken(ctx, gatehouse.HashToken(token))
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return nil, op.ErrInvalidRefreshToken
		}
		return nil, err
	}
	now := st.s.Now()
	if !tok.UsedAt.IsZero() && tok.RevokedAt.IsZero() {
		if err := st.s.store.Write(ctx, func(tx Tx) error { return tx.RevokeOIDCFamily(ctx, tok.FamilyID, now) }); err != nil {
			return nil, err
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was used already")
	}
	if !tok.UsedAt.IsZero() || !tok.RevokedAt.IsZero() || !now.Before(tok.ExpiresAt) {
		return nil, op.ErrInvalidRefreshToken
	}
	return &refreshRequest{tok}, nil
}

func (st storage) GetRefreshTokenInfo(ctx context.Context, _ string, token string) (string, string, error) {
	if gatehouse.TokenKind(token) != gatehouse.TokenOIDCRefresh {
		return "", "", op.ErrInvalidRefreshToken
	}
	tok, err := st.s.store.OIDCRefreshToken(ctx, gatehouse.HashToken(token))
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return "", "", op.ErrInvalidRefreshToken
		}
		return "", "", err
	}
	return tok.UserID, tok.ID, nil
}

// RevokeToken revokes an access token, or a refresh token with its whole
// family. An unknown token is no error (RFC 7009 §2.2); another client's
// is.
func (st storage) RevokeToken(ctx context.Context, tokenID, _ string, clientID string) *oidc.Error {
	tok, err := st.s.store.OIDCToken(ctx, tokenID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if tok.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("the token belongs to another client")
	}
	now := st.s.Now()
	err = st.s.store.Write(ctx, func(tx Tx) error {
		if tok.Kind == gatehouse.OIDCRefreshToken {
			return tx.RevokeOIDCFamily(ctx, tok.FamilyID, now)
		}
		return tx.RevokeOIDCToken(ctx, tok.ID, now)
	})
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (st storage) SigningKey(ctx context.Context) (op.SigningKey, error) { return st.s.signingKey(ctx) }

func (st storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256, jose.RS256}, nil
}

func (st storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := st.s.publishedKeys(ctx)
	if err != nil {
		return nil, err
	}
	set := make([]op.Key, len(keys))
	for i, k := range keys {
		set[i] = publicKey{k}
	}
	return set, nil
}

func (st storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (st storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, request op.IDTokenRequest, scopes []string) error {
	return st.s.fillUserinfo(ctx, ui, request.GetSubject(), scopes)
}

// liveAccessToken returns a live access token of subject.
func (st storage) liveAccessToken(ctx context.Context, tokenID, subject string) (gatehouse.OIDCToken, error) {
	tok, err := st.s.store.OIDCToken(ctx, tokenID)
	if err != nil {
		return tok, err
	}
	owner := tok.UserID
	if owner == "" {
		owner = tok.ClientID // a service client's token: sub is the client
	}
	if tok.Kind != gatehouse.OIDCAccessToken || owner != subject || !tok.RevokedAt.IsZero() || !st.s.Now().Before(tok.ExpiresAt) {
		return tok, errors.New("the access token is not active")
	}
	return tok, nil
}

func (st storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	tok, err := st.liveAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if tok.UserID == "" {
		return errors.New("a service client's token has no userinfo")
	}
	return st.s.fillUserinfo(ctx, ui, subject, tok.Scopes)
}

// SetIntrospectionFromToken is op's way to introspection, which the
// provider does not take: /oauth2/introspect is served by
// Service.introspect (introspect.go).
func (st storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is served by the provider's own handler")
}

func (st storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest puts the account asked for in the access
// token too, so that an API reading the token knows it.
func (st storage) GetPrivateClaimsFromRequest(ctx context.Context, request op.TokenRequest, _ []string) (map[string]any, error) {
	if r, ok := request.(*serviceRequest); ok {
		return st.s.serviceClaims(ctx, r.client.ID)
	}
	claims, err := st.s.accountClaims(ctx, request.GetSubject(), request.GetScopes(), "")
	if err != nil || claims == nil {
		return nil, err
	}
	return claims, nil
}

func (st storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (st storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func countAccountScopes(scopes []string) int {
	n := 0
	for _, s := range scopes {
		if s == ScopeChooseAccount || strings.HasPrefix(s, ScopeAccountPrefix) {
			n++
		}
	}
	return n
}

// fillUserinfo sets what the ID token and /oauth2/userinfo say of a person.
func (s *Service) fillUserinfo(ctx context.Context, ui *oidc.UserInfo, userID string, scopes []string) error {
	user, err := s.store.User(ctx, userID)
	if err != nil {
		return err
	}
	ui.Subject = userID
	if slices.Contains(scopes, oidc.ScopeEmail) || slices.Contains(scopes, oidc.ScopeProfile) {
		ui.PreferredUsername = user.Username
		if strings.Contains(user.Username, "@") {
			ui.Email, ui.EmailVerified = user.Username, true
		}
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		ui.GivenName, ui.FamilyName = user.FirstName, user.LastName
		ui.Name = strings.TrimSpace(user.FirstName + " " + user.LastName)
	}
	claims, err := s.accountClaims(ctx, userID, scopes, "")
	if err != nil {
		return err
	}
	for k, v := range claims {
		ui.AppendClaims(k, v)
	}
	return nil
}

// errAccessDenied: the person may not sign in to the account asked for.
var errAccessDenied = oidc.ErrAccessDenied().WithDescription("you may not sign in to this account")

// accountClaims are the claims of the account asked for with account:{id},
// nil when none is; the person must be an active member of it or staff of
// its integrator (policy.SignInToAccount), else access_denied. Read at every
// token and userinfo, so that access that ended stops there too.
//
// owner, when set, is the integrator whose application asks: the account
// must be that integrator or one of its clients. (An application's account
// is checked when the person signs in; an account never changes integrator,
// so refreshes and userinfo pass "".)
func (s *Service) accountClaims(ctx context.Context, userID string, scopes []string, owner string) (map[string]any, error) {
	id := scopeAccount(scopes)
	if id == "" {
		return nil, nil
	}
	account, err := s.store.Account(ctx, id)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return nil, errAccessDenied
	}
	if err != nil {
		return nil, err
	}
	access, err := s.store.AccessTo(ctx, gatehouse.Principal{UserID: userID}, account, s.Now())
	if err != nil {
		return nil, err
	}
	claims, err := personAccountClaims(userID, account, access, owner)
	if err != nil {
		return nil, err
	}
	return claims.asMap(), nil
}

// scopeAccount is the account named by an account:{id} scope, or "".
func scopeAccount(scopes []string) string {
	id := ""
	for _, scope := range scopes {
		if strings.HasPrefix(scope, ScopeAccountPrefix) {
			id = strings.TrimPrefix(scope, ScopeAccountPrefix)
		}
	}
	return id
}

// accountClaimSet is what a token says of the account it is for.
type accountClaimSet struct {
	AccountID, AccountName, AccountKind, IntegratorID string
	// Level is the person's level in the account (or its integrator's);
	// empty for a service client.
	Level string
}

func (c accountClaimSet) asMap() map[string]any {
	m := map[string]any{"account_id": c.AccountID, "account_name": c.AccountName, "account_kind": c.AccountKind,
		"integrator_id": c.IntegratorID}
	if c.Level != "" {
		m["level"] = c.Level
	}
	return m
}

// personAccountClaims decides whether a person may act in the account
// (policy.SignInToAccount) with the access they hold there, and says what
// their tokens tell of it; access_denied when they may not.
func personAccountClaims(userID string, account gatehouse.Account, access gatehouse.Access, owner string) (accountClaimSet, error) {
	caller := gatehouse.Caller{Principal: gatehouse.Principal{UserID: userID}}
	other := owner != "" && account.ID != owner && account.IntegratorID != owner
	if err := kernel.DecideOn(caller, access, account, policy.SignInToAccount, policy.Target{OtherIntegratorsApplication: other}); err != nil {
		return accountClaimSet{}, errAccessDenied
	}
	level := access.Level
	if level == "" {
		level = access.IntegratorLevel
	}
	claims := serviceAccountClaims(account)
	claims.Level = string(level)
	return claims, nil
}

// serviceAccountClaims is what a token tells of its account, with no
// person in it.
func serviceAccountClaims(account gatehouse.Account) accountClaimSet {
	integrator := account.IntegratorID
	if account.Kind == gatehouse.KindIntegrator {
		integrator = account.ID
	}
	return accountClaimSet{AccountID: account.ID, AccountName: account.Name, AccountKind: string(account.Kind), IntegratorID: integrator}
}

// serviceRequest is a service client asking for a token with client
// credentials: the token is the client's (sub is its client_id), for its
// one account.
type serviceRequest struct {
	client gatehouse.OIDCClient
}

func (r *serviceRequest) GetSubject() string    { return r.client.ID }
func (r *serviceRequest) GetAudience() []string { return []string{r.client.ID} }
func (r *serviceRequest) GetScopes() []string {
	return []string{ScopeAccountPrefix + r.client.AccountID}
}

// ClientCredentials authenticates a client presenting its secret at
// /oauth2/token with grant_type=client_credentials; op then refuses every
// client but a service one (unauthorized_client).
func (st storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := st.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	c, err := st.s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return &client{c}, nil
}

// ClientCredentialsTokenRequest: a service client's token is for its
// account; the only scope it may ask for is account:{that account}.
func (st storage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	c, err := st.s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, scope := range scopes {
		if scope != ScopeAccountPrefix+c.AccountID {
			return nil, oidc.ErrInvalidScope().WithDescription("a service client's tokens are for its account only: ask for no scope, or account:%s", c.AccountID)
		}
	}
	return &serviceRequest{c}, nil
}

// serviceClaims are the claims of a service client's account, read at every
// token and introspection: account_id, account_name, account_kind and
// integrator_id (no person, so no level). A client removed, or an account
// gone, ends them.
func (s *Service) serviceClaims(ctx context.Context, clientID string) (map[string]any, error) {
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if !c.Service {
		return nil, errors.New("not a service client")
	}
	account, err := s.store.Account(ctx, c.AccountID)
	if err != nil {
		return nil, err
	}
	return serviceAccountClaims(account).asMap(), nil
}
