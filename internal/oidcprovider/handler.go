package oidcprovider

import (
	"context"
	"crypto/rand"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The provider's addresses, all under the service's public URL (the
// issuer).
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	// Prefix is where every other endpoint lives.
	Prefix = "/oauth2/"
	// ContinuePath is where the portal returns after sign-in: it finishes
	// the authorization request for the person signed in.
	ContinuePath = "/oauth2/continue"
)

// SignedIn tells who is signed in to the portal with the request's
// session cookie.
type SignedIn func(r *http.Request) (gatehouse.Caller, bool)

// Handler serves discovery, the JWKS, /oauth2/authorize, /oauth2/token,
// /oauth2/userinfo, /oauth2/introspect, /oauth2/revoke, /oauth2/end_session
// and the page that finishes an authorization after the portal's sign-in.
func (s *Service) Handler(signedIn SignedIn) (http.Handler, error) {
	config := &op.Config{CodeMethodS256: true, AuthMethodPost: true, GrantTypeRefreshToken: true,
		SupportedScopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, ScopeChooseAccount, ScopeAccountPrefix + "{id}"},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "amr", "email", "email_verified",
			"preferred_username", "name", "given_name", "family_name", "account_id", "account_name", "account_kind", "integrator_id", "level"},
		// Signed out without a post_logout_redirect_uri, the browser lands
		// on the portal's sign-in page.
		DefaultLogoutRedirectURI: "/login",
		// Logout tokens name the person, never one sign-in (no sid).
		BackChannelLogoutSupported: true, BackChannelLogoutSessionSupported: false,
		DeviceAuthorization: op.DeviceAuthorizationConfig{Lifetime: DeviceCodeLifetime, PollInterval: DevicePollInterval,
			UserFormPath: DevicePath, UserCode: op.UserCodeBase20}}
	// The codes are random and looked up by their hash: this key need not
	// be shared between nodes.
	_, _ = rand.Read(config.CryptoKey[:])
	issuer := s.PublicURL()
	opts := []op.Option{
		op.WithCustomAuthEndpoint(op.NewEndpoint(Prefix + "authorize")),
		op.WithCustomTokenEndpoint(op.NewEndpoint(Prefix + "token")),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(Prefix + "userinfo")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(Prefix + "introspect")),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(Prefix + "revoke")),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint(EndSessionPath)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(Prefix + "keys")),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint(Prefix + "device_authorization")),
		op.WithAccessTokenVerifierOpts(verifiedAlgorithms),
		op.WithAccessTokenKeySet(tokenKeySet{s}),
	}
	if strings.HasPrefix(issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(config, storage{s}, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	continueHandler := s.continueAuthorization(provider, signedIn)
	mux.Handle("GET "+ContinuePath, continueHandler)
	mux.Handle("POST "+ContinuePath, http.NewCrossOriginProtection().Handler(continueHandler))
	device := s.deviceHandler(signedIn)
	mux.Handle("GET "+DevicePath, device)
	mux.Handle("POST "+DevicePath, http.NewCrossOriginProtection().Handler(device))
	mux.Handle("POST "+Prefix+"token", s.withClientSigningAlgorithm(provider))
	mux.Handle("POST "+Prefix+"introspect", s.introspect())
	mux.Handle(EndSessionPath, endSession(provider, signedIn))
	mux.Handle("/", provider)
	return s.withUnavailable(withClientsSeen(mux)), nil
}

// withUnavailable answers 503, with Retry-After, the errors the OpenID
// library answers while the database was out of reach during the request
// (a restart, a failover): the library turns an error it does not know into
// server_error (500), or into invalid_client (401) or invalid_grant (400)
// when it came from looking the client or the grant up, and clients retry
// a 503, not those. An error that would have been answered anyway is then
// answered when the client tries again.
func (s *Service) withUnavailable(next http.Handler) http.Handler {
	if s.lostDatabaseSince == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&unavailableWriter{ResponseWriter: w, began: time.Now(), lostSince: s.lostDatabaseSince}, r)
	})
}

// unavailableWriter turns an error status into 503 when the database was
// lost since the request began; the library's body is then left out.
type unavailableWriter struct {
	http.ResponseWriter
	began     time.Time
	lostSince func(time.Time) bool
	replaced  bool
}

func (w *unavailableWriter) WriteHeader(status int) {
	if status < 400 || !w.lostSince(w.began) {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.replaced = true
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	h.Set("Retry-After", "2")
	w.ResponseWriter.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.ResponseWriter.Write([]byte(`{"error":"temporarily_unavailable","error_description":"the database cannot be reached; try again in a moment"}`))
}

func (w *unavailableWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *unavailableWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// verifiedAlgorithms are the algorithms the provider's own tokens are
// signed with, the only ones it accepts back.
var verifiedAlgorithms = op.WithSupportedAccessTokenSigningAlgorithms(string(jose.ES256), string(jose.RS256))

// withClientSigningAlgorithm tells the token endpoint's signing (through
// the request's context, which op hands to Storage.SigningKey) which
// algorithm the requesting application was registered for. The client is
// named by client_id in the form or by HTTP basic authentication; an unknown
// one is left for op to refuse.
func (s *Service) withClientSigningAlgorithm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		_ = r.ParseForm()
		id := r.PostForm.Get("client_id")
		if user, _, ok := r.BasicAuth(); ok {
			if unescaped, err := url.QueryUnescape(user); err == nil {
				id = unescaped
			}
		}
		if id != "" {
			if c, err := s.client(r.Context(), id); err == nil && c.SigningAlgorithm == gatehouse.SigningRS256 {
				r = r.WithContext(context.WithValue(r.Context(), signingAlgorithmKey{}, gatehouse.SigningRS256))
			}
		}
		next.ServeHTTP(w, r)
	})
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html><html lang="en"><meta charset="utf-8">
<title>Sign-in</title><p>{{.}}</p><p><a href="/accounts">Back to Gatehouse</a></p></html>`))

// continueAuthorization finishes an authorization request for the person
// signed in to the portal (who is sent to sign in first), then sends the
// browser back to the application with the code, or with access_denied
// when the account asked for is not theirs. A request asking for the scope
// "account" first shows the account chooser, whose form (POST, guarded
// against cross-origin requests) names the account.
func (s *Service) continueAuthorization(provider *op.Provider, signedIn SignedIn) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("id")
		caller, ok := signedIn(r)
		if !ok || caller.Principal.UserID == "" {
			http.Redirect(w, r, "/login?"+url.Values{"next": {ContinuePath + "?" + url.Values{"id": {id}}.Encode()}}.Encode(), http.StatusSeeOther)
			return
		}
		ctx := r.Context()
		req, err := s.store.OIDCAuthRequest(ctx, id, s.Now())
		if err != nil || (req.UserID != "" && req.UserID != caller.Principal.UserID) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			_ = errorPage.Execute(w, "This sign-in has expired or was finished already. Go back to the application and sign in again.")
			return
		}
		a := &authRequest{req}
		if r.Method == http.MethodPost && r.PostFormValue("action") == "cancel" {
			op.AuthRequestError(w, r, a, oidc.ErrAccessDenied().WithDescription("the person cancelled the sign-in"), provider)
			return
		}
		if req.UserID == "" {
			userID := caller.Principal.UserID
			client, err := s.store.OIDCClient(ctx, req.ClientID)
			if err != nil {
				op.AuthRequestError(w, r, a, err, provider)
				return
			}
			consent, err := s.needsConsent(ctx, client, userID, req.Scopes)
			if err != nil {
				op.AuthRequestError(w, r, a, err, provider)
				return
			}
			if wantsChooser(req.Scopes) || consent {
				if r.Method != http.MethodPost {
					if err := s.showChooser(w, r, req, client, userID, consent); err != nil {
						op.AuthRequestError(w, r, a, err, provider)
					}
					return
				}
				// Cancel was answered above; a consent page's form says allow.
				if consent && r.PostFormValue("action") != "allow" {
					op.AuthRequestError(w, r, a, oidc.ErrAccessDenied().WithDescription("the person did not allow the application"), provider)
					return
				}
				if wantsChooser(req.Scopes) {
					scopes, ok, err := s.chosenScopes(r, req, client, userID, r.PostFormValue("account"))
					if err != nil || !ok {
						if err == nil {
							err = errAccessDenied
						}
						op.AuthRequestError(w, r, a, err, provider)
						return
					}
					req.Scopes, a.Scopes = scopes, scopes
				}
			}
			if _, err := s.accountClaims(ctx, userID, req.Scopes, client.OwnerAccountID); err != nil {
				op.AuthRequestError(w, r, a, err, provider)
				return
			}
			amr, missing, err := s.signInStrength(ctx, caller.Principal.SessionID, userID, req.ACRValues)
			if err != nil {
				op.AuthRequestError(w, r, a, err, provider)
				return
			}
			if missing {
				s.showSecondFactorNeeded(w, r, req, client, userID)
				return
			}
			now := s.Now()
			if err := s.store.Write(ctx, func(tx Tx) error {
				if consent {
					if err := tx.SaveOIDCConsent(ctx, gatehouse.OIDCConsent{UserID: userID, ClientID: client.ID,
						Scopes: consentScopes(req.Scopes), GrantedAt: now}); err != nil {
						return err
					}
				}
				if err := tx.FinishOIDCAuthRequest(ctx, req.ID, userID, req.Scopes, amr, now); err != nil {
					return err
				}
				return tx.InsertAuditEvent(ctx, s.Audit(caller, now, accountOf(req.Scopes), "oidc.signed_in", "oidc_client", req.ClientID))
			}); err != nil {
				op.AuthRequestError(w, r, a, err, provider)
				return
			}
			a.UserID, a.AMR, a.AuthTime = userID, amr, now
		}
		op.AuthResponse(a, provider, w, r)
	})
}

// Mount registers the provider on a server through handle (the API
// server's HandlePage), with the portal's sign-in.
func (s *Service) Mount(handle func(pattern string, h http.Handler), signedIn SignedIn) error {
	h, err := s.Handler(signedIn)
	if err != nil {
		return err
	}
	handle(DiscoveryPath, h)
	handle(Prefix, h)
	handle(DevicePath, h)
	return nil
}

// accountOf is the account a request's scopes ask for (account:{id}), or
// "": the audit log of that account records the sign-in.
func accountOf(scopes []string) string {
	for _, scope := range scopes {
		if strings.HasPrefix(scope, ScopeAccountPrefix) {
			return strings.TrimPrefix(scope, ScopeAccountPrefix)
		}
	}
	return ""
}
