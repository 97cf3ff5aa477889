// Package oidcprovider makes Gatehouse the platform's OpenID Provider: the
// platform's applications sign people in through Gatehouse's own sign-in
// (password and second factor) with the authorization code flow and PKCE,
// on zitadel/oidc's certified op package. Signing keys, clients,
// authorization requests and tokens live in the database, so every node
// answers alike. See docs/openid-provider.md.
package oidcprovider

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Service holds the provider's use cases.
type Service struct {
	*kernel.Kernel
	store Store

	keyRotation       time.Duration
	lostDatabaseSince func(time.Time) bool

	keyMu sync.Mutex
	keys  map[string]*signingKey // unsealed, by id
	// published are the keys the JWKS published when last read, by id, for
	// verifying (see verify.go); verified the signatures verified, and
	// verifiedAccess the claims of the access tokens introspected.
	published      map[string]*signingKey
	verified       verifiedTokens[[]byte]
	verifiedAccess verifiedTokens[signedAccessToken]
}

// Options are the provider's settings.
type Options struct {
	// KeyRotation is how long a signing key signs before a new one
	// replaces it (default DefaultKeyRotation).
	KeyRotation time.Duration
	// LostDatabaseSince tells whether the database was found out of reach
	// at a time or after; nil for never.
	LostDatabaseSince func(time.Time) bool
}

// New returns the service over store.
func New(k *kernel.Kernel, store Store, opts Options) *Service {
	if opts.KeyRotation <= 0 {
		opts.KeyRotation = DefaultKeyRotation
	}
	return &Service{Kernel: k, store: store, keyRotation: opts.KeyRotation, lostDatabaseSince: opts.LostDatabaseSince}
}

// NewClient is what an operator registers.
type NewClient struct {
	Name         string
	RedirectURIs []string
	Confidential bool
	// Service makes a confidential client without redirect URIs that gets
	// access tokens for AccountID alone with client credentials.
	Service   bool
	AccountID string
	// Device makes a public client without redirect URIs that signs a
	// person in with the device flow (RFC 8628) only.
	Device bool
	// SigningAlgorithm is ES256 (the default) or RS256.
	SigningAlgorithm string
	// OwnerAccountID registers an integrator's own application, for its
	// administrators: it signs people in to that integrator's accounts
	// alone, after they consent. Empty for the platform's own
	// applications, which operators register.
	OwnerAccountID string
	// BackchannelLogoutURI is where the application hears that a
	// person's sign-in to it ended (https, or http on this machine); none
	// for a service client.
	BackchannelLogoutURI string
	// PostLogoutRedirectURIs are where /oauth2/end_session may send the
	// browser back, validated as redirect URIs; public and confidential
	// clients only.
	PostLogoutRedirectURIs []string
}

// authorizeClients decides who manages the applications of owner (an
// integrator account), or the platform's own when owner is empty
// (operators).
func (s *Service) authorizeClients(ctx context.Context, c gatehouse.Caller, owner string) (gatehouse.Account, error) {
	if owner == "" {
		return gatehouse.Account{}, kernel.Decide(c, policy.ManageOIDCClients, policy.Target{})
	}
	return s.Authorize(ctx, s.store, c, owner, policy.ManageIntegratorApplications)
}

// CreateClient registers an application. A confidential client's secret is
// returned now and never again. Operators register the platform's own
// applications; an integrator's administrators register theirs.
func (s *Service) CreateClient(ctx context.Context, c gatehouse.Caller, in NewClient) (gatehouse.OIDCClient, string, error) {
	owner, err := s.authorizeClients(ctx, c, in.OwnerAccountID)
	if err != nil {
		return gatehouse.OIDCClient{}, "", err
	}
	name, err := gatehouse.ValidateLabel("name", in.Name)
	if err != nil {
		return gatehouse.OIDCClient{}, "", err
	}
	switch in.SigningAlgorithm {
	case "":
		in.SigningAlgorithm = gatehouse.SigningES256
	case gatehouse.SigningES256, gatehouse.SigningRS256:
	default:
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("id_token_signed_response_alg", "the tokens are signed with ES256 or RS256")
	}
	if in.OwnerAccountID != "" {
		if owner.Kind != gatehouse.KindIntegrator {
			return gatehouse.OIDCClient{}, "", gatehouse.Invalid("owner_account_id", "applications belong to an integrator account, not to a client")
		}
		if in.Device {
			return gatehouse.OIDCClient{}, "", gatehouse.Invalid("type", "device clients are the platform's: ask an operator")
		}
	}
	if in.Service {
		return s.createServiceClient(ctx, c, name, in)
	}
	if in.BackchannelLogoutURI != "" && !backchannelLogoutURI(in.BackchannelLogoutURI) {
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("backchannel_logout_uri",
			"%q is not a back-channel logout URI: https, or http on localhost, without a fragment", in.BackchannelLogoutURI)
	}
	if in.Device {
		if len(in.RedirectURIs) != 0 {
			return gatehouse.OIDCClient{}, "", gatehouse.Invalid("redirect_uris", "a device client has no redirect URI: people approve it at /device")
		}
		if len(in.PostLogoutRedirectURIs) != 0 {
			return gatehouse.OIDCClient{}, "", gatehouse.Invalid("post_logout_redirect_uris", "a device client has no browser to send back")
		}
		return s.insertClient(ctx, c, gatehouse.OIDCClient{Name: name, Device: true, BackchannelLogoutURI: in.BackchannelLogoutURI,
			SigningAlgorithm: in.SigningAlgorithm})
	}
	if len(in.RedirectURIs) == 0 || len(in.RedirectURIs) > 20 {
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("redirect_uris", "give between 1 and 20 redirect URIs")
	}
	for _, raw := range in.RedirectURIs {
		if !redirectURI(raw) {
			return gatehouse.OIDCClient{}, "", gatehouse.Invalid("redirect_uris",
				"%q is not a redirect URI: https, http on localhost, or a private-use scheme (com.example.app:/callback)", raw)
		}
	}
	if len(in.PostLogoutRedirectURIs) > 20 {
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("post_logout_redirect_uris", "give at most 20 post-logout redirect URIs")
	}
	for _, raw := range in.PostLogoutRedirectURIs {
		if !redirectURI(raw) {
			return gatehouse.OIDCClient{}, "", gatehouse.Invalid("post_logout_redirect_uris",
				"%q is not a post-logout redirect URI: https, http on localhost, or a private-use scheme (com.example.app:/signed-out)", raw)
		}
	}
	return s.insertClient(ctx, c, gatehouse.OIDCClient{Name: name, RedirectURIs: in.RedirectURIs, Confidential: in.Confidential,
		BackchannelLogoutURI: in.BackchannelLogoutURI, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		SigningAlgorithm: in.SigningAlgorithm, OwnerAccountID: in.OwnerAccountID})
}

// redirectURI tells whether raw may be registered as a redirect URI (or a
// post-logout one): absolute, without a fragment or spaces, https, http on
// this machine, or a private-use scheme of a native application.
func redirectURI(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && len(raw) <= 2000 && u.IsAbs() && u.Fragment == "" && !strings.ContainsAny(raw, " \n\r\t") &&
		(u.Scheme != "http" || loopback(u)) &&
		(u.Scheme == "http" || u.Scheme == "https" || strings.Contains(u.Scheme, "."))
}

// backchannelLogoutURI tells whether raw may be registered as a
// back-channel logout URI: an absolute https URL, or http on this machine,
// without a fragment (OpenID Connect Back-Channel Logout 1.0 §2.2).
func backchannelLogoutURI(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && len(raw) <= 2000 && u.IsAbs() && u.Host != "" && u.Fragment == "" && !strings.ContainsAny(raw, " \n\r\t") &&
		(u.Scheme == "https" || (u.Scheme == "http" && loopback(u)))
}

func loopback(u *url.URL) bool {
	host := u.Hostname()
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// createServiceClient registers a service client for one account: it has
// no redirect URI and gets tokens with client credentials only.
func (s *Service) createServiceClient(ctx context.Context, c gatehouse.Caller, name string, in NewClient) (gatehouse.OIDCClient, string, error) {
	if len(in.RedirectURIs) != 0 {
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("redirect_uris", "a service client has no redirect URI: it signs nobody in")
	}
	if in.BackchannelLogoutURI != "" {
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("backchannel_logout_uri", "a service client signs nobody in, nor out")
	}
	if len(in.PostLogoutRedirectURIs) != 0 {
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("post_logout_redirect_uris", "a service client signs nobody in, nor out")
	}
	if in.AccountID == "" {
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("account_id", "a service client acts for one account: give its account_id")
	}
	account, err := s.store.Account(ctx, in.AccountID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND ||
		(err == nil && in.OwnerAccountID != "" && account.ID != in.OwnerAccountID && account.IntegratorID != in.OwnerAccountID) {
		return gatehouse.OIDCClient{}, "", gatehouse.Invalid("account_id", "no account %q", in.AccountID)
	} else if err != nil {
		return gatehouse.OIDCClient{}, "", err
	}
	return s.insertClient(ctx, c, gatehouse.OIDCClient{Name: name, Confidential: true, Service: true, AccountID: in.AccountID,
		SigningAlgorithm: in.SigningAlgorithm, OwnerAccountID: in.OwnerAccountID})
}

func (s *Service) insertClient(ctx context.Context, c gatehouse.Caller, client gatehouse.OIDCClient) (gatehouse.OIDCClient, string, error) {
	now := s.Now()
	client.ID, client.CreatedBy, client.CreatedAt = s.NewID(), c.Principal.ActorID(), now
	var secret string
	if client.Confidential {
		secret, client.SecretHash = gatehouse.NewToken(gatehouse.TokenOIDCSecret)
	}
	err := s.store.Write(ctx, func(tx Tx) error {
		if err := tx.InsertOIDCClient(ctx, client); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, client.OwnerAccountID, "oidc_client.created", "oidc_client", client.ID))
	})
	return client, secret, err
}

// Clients lists the registered applications, newest first: the platform's
// own and every integrator's for operators (owner empty), or the
// applications of one integrator for its administrators.
func (s *Service) Clients(ctx context.Context, c gatehouse.Caller, owner string) ([]gatehouse.OIDCClient, error) {
	if _, err := s.authorizeClients(ctx, c, owner); err != nil {
		return nil, err
	}
	all, err := s.store.OIDCClients(ctx)
	if owner == "" || err != nil {
		return all, err
	}
	var theirs []gatehouse.OIDCClient
	for _, client := range all {
		if client.OwnerAccountID == owner {
			theirs = append(theirs, client)
		}
	}
	return theirs, nil
}

// DeleteClient removes an application and revokes every token it holds:
// operators any, an integrator's administrators their integrator's. An
// application they may not manage is not found.
func (s *Service) DeleteClient(ctx context.Context, c gatehouse.Caller, id string) error {
	client, err := s.store.OIDCClient(ctx, id)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		if err := kernel.Decide(c, policy.ManageOIDCClients, policy.Target{}); err != nil {
			return gatehouse.NotFound("client")
		}
	}
	if err != nil {
		return err
	}
	if _, err := s.authorizeClients(ctx, c, client.OwnerAccountID); err != nil {
		if client.OwnerAccountID == "" || gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return gatehouse.NotFound("client")
		}
		return err
	}
	now := s.Now()
	return s.store.Write(ctx, func(tx Tx) error {
		if err := tx.DeleteOIDCClient(ctx, id, now); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, client.OwnerAccountID, "oidc_client.deleted", "oidc_client", id))
	})
}

// ClientNames names the live applications by client id, for the audit log
// that records sign-ins to them: an application's name is no secret.
func (s *Service) ClientNames(ctx context.Context) (map[string]string, error) {
	clients, err := s.store.OIDCClients(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(clients))
	for _, c := range clients {
		names[c.ID] = c.Name
	}
	return names, nil
}

// PurgeExpired deletes the authorization requests, device codes and tokens
// that are over (see store.PurgeOIDC). Several nodes may run it at once.
func (s *Service) PurgeExpired(ctx context.Context) (gatehouse.OIDCPurged, error) {
	var purged gatehouse.OIDCPurged
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		purged, err = tx.PurgeOIDC(ctx, s.Now())
		return err
	})
	return purged, err
}

// MyConnections lists the applications the caller is signed in to (those
// holding a live token of theirs), with when they last signed in to each.
func (s *Service) MyConnections(ctx context.Context, c gatehouse.Caller) ([]gatehouse.OIDCConnection, error) {
	if err := kernel.Decide(c, policy.ManageOwnSessions, policy.Target{Self: true}); err != nil {
		return nil, err
	}
	return s.store.OIDCConnectionsOf(ctx, c.Principal.UserID, s.Now())
}

// Disconnect signs the caller out of one application: every token it
// holds for them is revoked, and it must sign them in again.
func (s *Service) Disconnect(ctx context.Context, c gatehouse.Caller, clientID string) error {
	if err := kernel.Decide(c, policy.ManageOwnSessions, policy.Target{Self: true}); err != nil {
		return err
	}
	now := s.Now()
	return s.store.Write(ctx, func(tx Tx) error {
		if _, err := tx.OIDCClient(ctx, clientID); err != nil {
			return err
		}
		if err := tx.RevokeOIDCClientTokensOf(ctx, c.Principal.UserID, clientID, now); err != nil {
			return err
		}
		// Connecting again asks for consent again.
		if err := tx.DeleteOIDCConsent(ctx, c.Principal.UserID, clientID); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, "", "oidc_client.disconnected", "oidc_client", clientID))
	})
}
