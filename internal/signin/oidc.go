package signin

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// External identity providers (R-U5): OpenID Connect, authorization code flow
// with PKCE (S256), a state that works once and a nonce bound to the ID
// token. A trip to the provider lives ten minutes.
const (
	oidcTripLifetime = 10 * time.Minute
	oidcTimeout      = 15 * time.Second
	// CallbackPath is where providers send people back; register
	// <public-url>/oidc/callback at the provider.
	CallbackPath = "/oidc/callback"
)

// oidcProviders caches each provider's discovery document and keys by
// issuer: discovery costs a round trip, and go-oidc refreshes keys itself.
type oidcProviders struct {
	mu     sync.Mutex
	byURL  map[string]*oidc.Provider
	client *http.Client
}

func (p *oidcProviders) get(ctx context.Context, issuer string) (*oidc.Provider, error) {
	p.mu.Lock()
	cached := p.byURL[issuer]
	p.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), p.client), oidcTimeout)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byURL == nil {
		p.byURL = map[string]*oidc.Provider{}
	}
	p.byURL[issuer] = provider
	return provider, nil
}

// NewIdentityProvider is the input of CreateIdentityProvider.
type NewIdentityProvider struct {
	AccountID    string // "": platform-wide (operators only)
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
}

// CreateIdentityProvider registers an OpenID Connect provider: platform-wide
// by operators, or for an integrator's account and its clients by that
// integrator's administrators (R-U5). The issuer's discovery document is
// read now, so a wrong issuer is refused at once (400 field issuer).
func (s *Service) CreateIdentityProvider(ctx context.Context, c gatehouse.Caller, in NewIdentityProvider) (gatehouse.IdentityProvider, error) {
	name, err := gatehouse.ValidateLabel("name", in.Name)
	if err != nil {
		return gatehouse.IdentityProvider{}, err
	}
	issuer := strings.TrimSpace(in.Issuer)
	if !validIssuer(issuer) {
		return gatehouse.IdentityProvider{}, gatehouse.Invalid("issuer", "issuer must be the provider's https:// URL")
	}
	clientID := strings.TrimSpace(in.ClientID)
	if clientID == "" || len(clientID) > 500 {
		return gatehouse.IdentityProvider{}, gatehouse.Invalid("client_id", "client_id is required")
	}
	if in.ClientSecret == "" || len(in.ClientSecret) > 2000 {
		return gatehouse.IdentityProvider{}, gatehouse.Invalid("client_secret", "client_secret is required")
	}
	if err := s.mayManageProviders(ctx, s.providersStore, c, in.AccountID, false); err != nil {
		return gatehouse.IdentityProvider{}, err
	}
	if _, err := s.providers.get(ctx, issuer); err != nil {
		return gatehouse.IdentityProvider{}, gatehouse.Invalid("issuer", "could not read the provider's discovery document at %s/.well-known/openid-configuration", strings.TrimRight(issuer, "/"))
	}
	p := gatehouse.IdentityProvider{ID: s.NewID(), AccountID: in.AccountID, Name: name, Issuer: issuer, ClientID: clientID,
		CreatedBy: c.Principal.ActorID(), CreatedAt: s.Now()}
	p.ClientSecret = s.Box.Seal(in.ClientSecret, ProviderSecretContext(p.ID))
	err = s.providersStore.Write(ctx, func(tx ProvidersTx) error {
		if err := s.mayManageProviders(ctx, tx, c, in.AccountID, false); err != nil {
			return err
		}
		if err := tx.InsertIdentityProvider(ctx, p); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, p.CreatedAt, in.AccountID, "identity_provider.created", "identity_provider", p.ID))
	})
	return p, err
}

// validIssuer accepts https:// issuers, and http:// only on the loopback
// interface (a provider on the same machine, for trials): the discovery
// request goes out from the server, and plain HTTP to other hosts would be
// both unsafe and a way to probe the server's network.
func validIssuer(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(issuer) > 500 {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		return host == "localhost" || (ip != nil && ip.IsLoopback())
	}
	return false
}

// mayManageProviders asks the policy whether the caller may manage the
// providers of an integrator account, or the platform's (accountID "").
// existing is set when the caller names a provider by its id.
func (s *Service) mayManageProviders(ctx context.Context, r ProvidersReader, c gatehouse.Caller, accountID string, existing bool) error {
	if accountID == "" {
		return kernel.Decide(c, policy.ManagePlatformProviders, policy.Target{Existing: existing})
	}
	account, access, err := s.AuthorizeAccess(ctx, r, c, accountID, policy.ReadAccount, policy.Target{})
	if err != nil {
		return err
	}
	if account.Kind != gatehouse.KindIntegrator {
		return gatehouse.Invalid("account_id", "identity providers belong to an integrator account, and serve its clients too")
	}
	return kernel.DecideOn(c, access, account, policy.ManageIntegratorProviders, policy.Target{})
}

// IdentityProviders lists the providers the caller may use: platform-wide
// ones, and those of the integrators whose accounts they are in; operators
// see all.
func (s *Service) IdentityProviders(ctx context.Context, c gatehouse.Caller) ([]gatehouse.IdentityProvider, error) {
	if err := kernel.Decide(c, policy.ListIdentityProviders, policy.Target{}); err != nil {
		return nil, err
	}
	if c.Principal.Operator {
		return s.providersStore.IdentityProviders(ctx, nil)
	}
	owners := []string{""}
	if c.Principal.UserID != "" {
		memberships, err := s.providersStore.MembershipsOf(ctx, c.Principal.UserID, s.Now())
		if err != nil {
			return nil, err
		}
		for _, m := range memberships {
			if m.Status != gatehouse.MembershipActive || (c.Principal.ScopeAccountID != "" && m.AccountID != c.Principal.ScopeAccountID) {
				continue
			}
			account, err := s.providersStore.Account(ctx, m.AccountID)
			if err != nil {
				return nil, err
			}
			owners = append(owners, account.ID)
			if account.IntegratorID != "" {
				owners = append(owners, account.IntegratorID)
			}
		}
	}
	return s.providersStore.IdentityProviders(ctx, owners)
}

// PlatformIdentityProviders lists the platform-wide providers, which the
// sign-in page offers to everyone (their names are no secret).
func (s *Service) PlatformIdentityProviders(ctx context.Context) ([]gatehouse.IdentityProvider, error) {
	return s.providersStore.IdentityProviders(ctx, []string{""})
}

// DeleteIdentityProvider removes a provider nobody signs in through (409
// identity_provider_in_use otherwise).
func (s *Service) DeleteIdentityProvider(ctx context.Context, c gatehouse.Caller, id string) error {
	return s.providersStore.Write(ctx, func(tx ProvidersTx) error {
		p, err := tx.IdentityProvider(ctx, id)
		if err != nil {
			return err
		}
		if err := s.mayManageProviders(ctx, tx, c, p.AccountID, true); err != nil {
			return err
		}
		if n, err := tx.IdentityProviderUsers(ctx, id); err != nil {
			return err
		} else if n > 0 {
			return gatehouse.Errorf(gatehouse.EPROVIDERINUSE, "%d people sign in through this provider", n)
		}
		if err := tx.DeleteIdentityProvider(ctx, id); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), p.AccountID, "identity_provider.deleted", "identity_provider", id))
	})
}

// ProviderForAccount checks that a provider may serve people of the account:
// platform-wide, the account's own, or its integrator's.
// ProviderLookup finds an identity provider by id.
type ProviderLookup interface {
	IdentityProvider(ctx context.Context, id string) (gatehouse.IdentityProvider, error)
}

func ProviderForAccount(ctx context.Context, r ProviderLookup, id string, account gatehouse.Account) error {
	p, err := r.IdentityProvider(ctx, id)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return gatehouse.Invalid("identity_provider", "no identity provider with this id serves this account")
	} else if err != nil {
		return err
	}
	if p.AccountID != "" && p.AccountID != account.ID && p.AccountID != account.IntegratorID {
		return gatehouse.Invalid("identity_provider", "no identity provider with this id serves this account")
	}
	return nil
}

// oauthConfig is the OAuth 2.0 client of a provider.
func (s *Service) oauthConfig(ctx context.Context, p gatehouse.IdentityProvider) (*oidc.Provider, *oauth2.Config, error) {
	discovered, err := s.providers.get(ctx, p.Issuer)
	if err != nil {
		return nil, nil, gatehouse.Errorf(gatehouse.EUNAVAILABLE, "the identity provider %s cannot be reached; try again later", p.Name)
	}
	secret, err := s.Box.Open(p.ClientSecret, ProviderSecretContext(p.ID))
	if err != nil {
		return nil, nil, err
	}
	return discovered, &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, Endpoint: discovered.Endpoint(),
		RedirectURL: s.PublicURL() + CallbackPath, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

// StartProviderSignIn begins a trip to a provider and returns the URL to
// send the browser to. With an invitation link's secret it is the
// activation of that invitation's identity, which must be one of this
// provider's (the link leads to the provider); without, a sign-in.
func (s *Service) StartProviderSignIn(ctx context.Context, providerID, invitationSecret string) (string, error) {
	var invitationHash []byte
	if invitationSecret != "" {
		inv, err := s.validInvitation(ctx, s.providersStore, invitationSecret)
		if err != nil {
			return "", err
		}
		user, err := s.providersStore.User(ctx, inv.UserID)
		if err != nil {
			return "", err
		}
		if user.IdentityProviderID == "" {
			return "", gatehouse.Errorf(gatehouse.EINVALID, "this account signs in with a password")
		}
		providerID, invitationHash = user.IdentityProviderID, gatehouse.HashToken(invitationSecret)
	}
	p, err := s.providersStore.IdentityProvider(ctx, providerID)
	if err != nil {
		return "", err
	}
	_, config, err := s.oauthConfig(ctx, p)
	if err != nil {
		return "", err
	}
	state, stateHash := gatehouse.NewToken(gatehouse.TokenState)
	verifier, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	trip := gatehouse.OIDCLogin{ID: s.NewID(), StateHash: stateHash, ProviderID: p.ID, InvitationHash: invitationHash,
		Verifier: s.Box.Seal(verifier, LoginVerifierContext(p.ID)), Nonce: s.Box.Seal(nonce, LoginNonceContext(p.ID)),
		ExpiresAt: s.Now().Add(oidcTripLifetime)}
	if err := s.providersStore.Write(ctx, func(tx ProvidersTx) error { return tx.InsertOIDCLogin(ctx, trip) }); err != nil {
		return "", err
	}
	return config.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), nil
}

// ProviderSignIn is where a return from a provider leads.
type ProviderSignIn struct {
	SignInResult
	User      gatehouse.User
	Activated bool
}

// FinishProviderSignIn takes the browser back from the provider: the state
// is used once, the code is exchanged with the PKCE verifier, and the ID
// token is verified (signature, issuer, audience, expiry, nonce). For an
// activation the provider's subject is bound to the invited identity, which
// becomes active with its pending memberships (R-M3); for a sign-in the
// subject must be bound to an active identity already. Then the same second
// step as after a password (R-P4).
func (s *Service) FinishProviderSignIn(ctx context.Context, ip, requestID, state, code string) (ProviderSignIn, error) {
	refused := gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "the sign-in through your identity provider did not complete; start again")
	if gatehouse.TokenKind(state) != gatehouse.TokenState || code == "" {
		return ProviderSignIn{}, refused
	}
	var trip gatehouse.OIDCLogin
	err := s.providersStore.Write(ctx, func(tx ProvidersTx) error {
		var err error
		trip, err = tx.UseOIDCLogin(ctx, gatehouse.HashToken(state), s.Now())
		return err
	})
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return ProviderSignIn{}, refused
	} else if err != nil {
		return ProviderSignIn{}, err
	}
	p, err := s.providersStore.IdentityProvider(ctx, trip.ProviderID)
	if err != nil {
		return ProviderSignIn{}, err
	}
	discovered, config, err := s.oauthConfig(ctx, p)
	if err != nil {
		return ProviderSignIn{}, err
	}
	verifier, err := s.Box.Open(trip.Verifier, LoginVerifierContext(p.ID))
	if err != nil {
		return ProviderSignIn{}, err
	}
	nonce, err := s.Box.Open(trip.Nonce, LoginNonceContext(p.ID))
	if err != nil {
		return ProviderSignIn{}, err
	}
	exchangeCtx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.providers.client), oidcTimeout)
	defer cancel()
	token, err := config.Exchange(exchangeCtx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return ProviderSignIn{}, refused
	}
	rawIDToken, _ := token.Extra("id_token").(string)
	idToken, err := discovered.Verifier(&oidc.Config{ClientID: p.ClientID, Now: s.Clock.Now}).Verify(exchangeCtx, rawIDToken)
	if err != nil || subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(nonce)) != 1 || idToken.Subject == "" {
		return ProviderSignIn{}, refused
	}

	var out ProviderSignIn
	err = s.providersStore.Write(ctx, func(tx ProvidersTx) error {
		now := s.Now()
		out = ProviderSignIn{}
		if trip.InvitationHash != nil {
			inv, err := s.validInvitationByHash(ctx, tx, trip.InvitationHash)
			if err != nil {
				return err
			}
			user, err := tx.User(ctx, inv.UserID)
			if err != nil {
				return err
			}
			if user.IdentityProviderID != p.ID {
				return refused
			}
			switch err := tx.BindProviderSubject(ctx, user.ID, p.ID, idToken.Subject); gatehouse.ErrorCode(err) {
			case "":
			case gatehouse.ENOTFOUND, gatehouse.ECONFLICT:
				return gatehouse.Errorf(gatehouse.ECONFLICT, "this account at %s is linked to another Gatehouse user", p.Name)
			default:
				return err
			}
			c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: user.ID}, IP: ip, RequestID: requestID}
			if err := s.activate(ctx, tx, c, inv, ""); err != nil {
				return err
			}
			out.Activated = true
		}
		user, err := tx.UserByProviderSubject(ctx, p.ID, idToken.Subject)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "no Gatehouse user is linked to this %s account: open your invitation link first", p.Name)
		} else if err != nil {
			return err
		}
		if user.Status != gatehouse.UserActive {
			return refused
		}
		out.User = user
		creds, err := tx.Credentials(ctx, user.Username)
		if err != nil {
			return err
		}
		c := gatehouse.Caller{Principal: gatehouse.Principal{UserID: user.ID}, IP: ip, RequestID: requestID}
		if err := tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "session.provider_accepted", "identity_provider", p.ID)); err != nil {
			return err
		}
		out.SignInResult, err = s.secondStep(ctx, tx, c, creds, now)
		return err
	})
	if out.SMSSent {
		s.MailQueued()
	}
	return out, err
}
