// Package httpapi serves Gatehouse's JSON API (the API reference at /api/docs): routing, the error
// body, authentication of bearer tokens, request ids, access logs and
// metrics. Handlers translate between JSON and the service's types and
// decide nothing themselves: authorization lives in the service.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Server is the HTTP face of a service.
type Server struct {
	svc     *service.Services
	log     *slog.Logger
	metrics *Metrics
	mux     *http.ServeMux
	routes  []Route
}

// Route is one served method and path pattern, as the OpenAPI document
// lists it.
type Route struct{ Method, Pattern string }

// New builds the server and its routes. metrics may be nil.
func New(svc *service.Services, log *slog.Logger, metrics *Metrics) *Server {
	s := &Server{svc: svc, log: log, metrics: metrics, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	if metrics != nil {
		s.mux.Handle("GET /metrics", metrics.Handler())
	}

	s.handlePublic("POST /api/v1/activate", s.activate)
	s.handlePublic("POST /api/v1/sessions", s.signIn)
	s.handlePublic("POST /api/v1/sessions/mfa", s.completeMFA)
	s.handlePublic("POST /api/v1/sessions/mfa/resend", s.resendSMSCode)
	s.handlePublic("POST /api/v1/sessions/mfa/sms", s.enrollBySMS)
	s.handlePublic("POST /api/v1/sessions/mfa/passkey/options", s.passkeySecondFactorOptions)
	s.handlePublic("POST /api/v1/sessions/mfa/passkey", s.passkeySecondFactor)
	s.handlePublic("POST /api/v1/sessions/passkey/options", s.passkeySignInOptions)
	s.handlePublic("POST /api/v1/sessions/passkey", s.passkeySignIn)
	s.handlePublic("POST /api/v1/activate/passkey/options", s.passkeyActivationOptions)
	s.handlePublic("POST /api/v1/activate/passkey", s.activateWithPasskey)
	s.handlePublic("POST /api/v1/username-confirmations", s.confirmUsername)
	s.handlePublic("POST /api/v1/password-resets", s.requestPasswordReset)
	s.handlePublic("POST /api/v1/password-resets/confirm", s.resetPassword)
	s.handle("DELETE /api/v1/sessions/current", s.signOut)
	s.handle("GET /api/v1/me", s.me)
	s.handle("PATCH /api/v1/users/{user_id}", s.updateProfile)
	s.handle("DELETE /api/v1/users/{user_id}/sign-in-lock", s.unlockSignIn)
	s.handle("DELETE /api/v1/users/{user_id}/mfa", s.resetSecondFactor)
	s.handle("PUT /api/v1/users/{user_id}/photo", s.putPhoto)
	s.handle("GET /api/v1/users/{user_id}/photo", s.getPhoto)
	s.handleCheck("POST /api/v1/check", s.check)
	s.handleCheck("POST /api/v1/check/batch", s.checkBatch)
	s.handle("GET /api/v1/operators", s.listOperators)
	s.handle("PUT /api/v1/operators/{user_id}", s.setOperator(true))
	s.handle("DELETE /api/v1/operators/{user_id}", s.setOperator(false))
	s.handle("POST /api/v1/identity-providers", s.createIdentityProvider)
	s.handle("GET /api/v1/identity-providers", s.listIdentityProviders)
	s.handle("DELETE /api/v1/identity-providers/{provider_id}", s.deleteIdentityProvider)
	s.handle("POST /api/v1/check-tokens", s.createCheckToken)
	s.handle("GET /api/v1/check-tokens", s.listCheckTokens)
	s.handle("DELETE /api/v1/check-tokens/{token_id}", s.revokeCheckToken)
	s.handle("POST /api/v1/oidc-clients", s.createOIDCClient)
	s.handle("GET /api/v1/oidc-clients", s.listOIDCClients)
	s.handle("DELETE /api/v1/oidc-clients/{client_id}", s.deleteOIDCClient)
	s.handle("GET /api/v1/me/sessions", s.mySessions)
	s.handle("DELETE /api/v1/me/sessions/{session_id}", s.endMySession)
	s.handle("POST /api/v1/me/password", s.changePassword)
	s.handle("DELETE /api/v1/users/{user_id}/sessions", s.endSessionsOf)
	s.handle("POST /api/v1/me/mfa/totp", s.startTOTP)
	s.handle("POST /api/v1/me/mfa/totp/confirm", s.confirmTOTP)
	s.handle("POST /api/v1/me/mfa/sms", s.startSMS)
	s.handle("POST /api/v1/me/mfa/sms/confirm", s.confirmTOTP)
	s.handle("DELETE /api/v1/me/mfa", s.disableMFA)
	s.handle("POST /api/v1/me/mfa/recovery-codes", s.newRecoveryCodes)
	s.handle("GET /api/v1/me/passkeys", s.listPasskeys)
	s.handle("POST /api/v1/me/passkeys/options", s.passkeyRegistrationOptions)
	s.handle("POST /api/v1/me/passkeys", s.addPasskey)
	s.handle("DELETE /api/v1/me/passkeys/{passkey_id}", s.removePasskey)
	s.handle("POST /api/v1/accounts", s.createAccount)
	s.handle("GET /api/v1/accounts", s.listAccounts)
	s.handle("GET /api/v1/accounts/{id}", s.getAccount)
	s.handle("PATCH /api/v1/accounts/{id}", s.updateAccount)
	s.handle("DELETE /api/v1/accounts/{id}", s.deleteAccount)
	s.handle("POST /api/v1/accounts/{id}/suspend", s.suspendAccount)
	s.handle("POST /api/v1/accounts/{id}/restore", s.restoreAccount)
	s.handle("PATCH /api/v1/accounts/{id}/settings", s.updateSettings)
	s.handle("GET /api/v1/accounts/{id}/audit-events", s.listAuditEvents)
	s.handle("GET /api/v1/events", s.listEvents)
	s.handle("POST /api/v1/accounts/{id}/notifications", s.notifyAccount)
	s.handle("POST /api/v1/accounts/{id}/webhooks", s.createWebhook)
	s.handle("GET /api/v1/accounts/{id}/webhooks", s.listWebhooks)
	s.handle("GET /api/v1/accounts/{id}/webhooks/{webhook_id}", s.getWebhook)
	s.handle("DELETE /api/v1/accounts/{id}/webhooks/{webhook_id}", s.deleteWebhook)
	s.handle("POST /api/v1/accounts/{id}/webhooks/{webhook_id}/rotate-secret", s.rotateWebhookSecret)
	s.handle("POST /api/v1/accounts/{id}/webhooks/{webhook_id}/enable", s.enableWebhook)
	s.handle("POST /api/v1/accounts/{id}/webhooks/{webhook_id}/ping", s.pingWebhook)
	s.handle("GET /api/v1/accounts/{id}/webhooks/{webhook_id}/deliveries", s.listWebhookDeliveries)
	s.handle("POST /api/v1/accounts/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", s.replayWebhookDelivery)
	s.handle("POST /api/v1/accounts/{id}/webhooks/{webhook_id}/replay", s.replayWebhookRange)
	s.handle("POST /api/v1/accounts/{id}/scim-tokens", s.createSCIMToken)
	s.handle("GET /api/v1/accounts/{id}/scim-tokens", s.listSCIMTokens)
	s.handle("DELETE /api/v1/accounts/{id}/scim-tokens/{token_id}", s.revokeSCIMToken)
	s.handle("GET /api/v1/accounts/{id}/scim-calls", s.listSCIMCalls)
	s.handle("GET /api/v1/accounts/{id}/scim-group-mappings", s.listSCIMMappings)
	s.handle("POST /api/v1/accounts/{id}/scim-group-mappings", s.createSCIMMapping)
	s.handle("DELETE /api/v1/accounts/{id}/scim-group-mappings/{mapping_id}", s.deleteSCIMMapping)
	s.registerSCIM()
	s.handle("GET /api/v1/brand", s.getBrand)
	s.handle("PUT /api/v1/brand", s.putBrand)
	s.handle("PUT /api/v1/brand/logo", s.putBrandLogo)
	s.handle("GET /api/v1/brand/messages/{kind}/preview", s.previewBrandMail)
	s.handle("GET /api/v1/accounts/{id}/brand", s.getBrand)
	s.handle("PUT /api/v1/accounts/{id}/brand", s.putBrand)
	s.handle("PUT /api/v1/accounts/{id}/brand/logo", s.putBrandLogo)
	s.handle("GET /api/v1/accounts/{id}/brand/messages/{kind}/preview", s.previewBrandMail)
	s.handle("GET /api/v1/accounts/{id}/provider-access", s.getProviderAccess)
	s.handle("PUT /api/v1/accounts/{id}/provider-access", s.grantProviderAccess)
	s.handle("DELETE /api/v1/accounts/{id}/provider-access", s.endProviderAccess)
	s.handle("GET /api/v1/accounts/{id}/provider-access/requests", s.listProviderRequests)
	s.handle("POST /api/v1/accounts/{id}/provider-access/requests", s.askProviderAccess)
	s.handle("GET /api/v1/accounts/{id}/provider-access/requests/{request_id}", s.getProviderRequest)
	s.handle("POST /api/v1/accounts/{id}/provider-access/requests/{request_id}/approve", s.approveProviderRequest)
	s.handle("POST /api/v1/accounts/{id}/provider-access/requests/{request_id}/refuse", s.refuseProviderRequest)
	s.handle("POST /api/v1/accounts/{id}/users", s.addUser)
	s.handle("GET /api/v1/accounts/{id}/users", s.listUsers)
	s.handle("GET /api/v1/accounts/{id}/users/{membership_id}", s.getUser)
	s.handle("DELETE /api/v1/accounts/{id}/users/{membership_id}", s.removeUser)
	s.handle("PATCH /api/v1/accounts/{id}/users/{membership_id}", s.updateUser)
	s.handle("GET /api/v1/accounts/{id}/users/{membership_id}/permissions", s.memberPermissions)
	s.handle("POST /api/v1/accounts/{id}/api-tokens", s.createAPIToken)
	s.handle("GET /api/v1/accounts/{id}/api-tokens", s.listAPITokens)
	s.handle("DELETE /api/v1/accounts/{id}/api-tokens/{token_id}", s.revokeAPIToken)
	s.handle("GET /api/v1/accounts/{id}/roles", s.listRoles)
	s.handle("POST /api/v1/accounts/{id}/roles", s.createRole)
	s.handle("GET /api/v1/accounts/{id}/roles/{role_id}", s.getRole)
	s.handle("PATCH /api/v1/accounts/{id}/roles/{role_id}", s.updateRole)
	s.handle("DELETE /api/v1/accounts/{id}/roles/{role_id}", s.deleteRole)
	s.handle("GET /api/v1/accounts/{id}/folders", s.listFolders)
	s.handle("POST /api/v1/accounts/{id}/folders", s.createFolder)
	s.handle("GET /api/v1/accounts/{id}/folders/{folder_id}", s.getFolder)
	s.handle("PATCH /api/v1/accounts/{id}/folders/{folder_id}", s.updateFolder)
	s.handle("DELETE /api/v1/accounts/{id}/folders/{folder_id}", s.deleteFolder)
	s.handle("GET /api/v1/accounts/{id}/folders/{folder_id}/grants", s.listGrants)
	s.handle("POST /api/v1/accounts/{id}/folders/{folder_id}/grants", s.createGrant)
	s.handle("DELETE /api/v1/accounts/{id}/folders/{folder_id}/grants/{grant_id}", s.deleteGrant)
	s.handle("GET /api/v1/accounts/{id}/groups", s.listGroups)
	s.handle("POST /api/v1/accounts/{id}/groups", s.createGroup)
	s.handle("GET /api/v1/accounts/{id}/groups/{group_id}", s.getGroup)
	s.handle("PATCH /api/v1/accounts/{id}/groups/{group_id}", s.updateGroup)
	s.handle("DELETE /api/v1/accounts/{id}/groups/{group_id}", s.deleteGroup)
	s.handle("POST /api/v1/accounts/{id}/groups/{group_id}/members", s.addGroupMember)
	s.handle("DELETE /api/v1/accounts/{id}/groups/{group_id}/members/{user_id}", s.removeGroupMember)
	s.handle("POST /api/v1/accounts/{id}/remote-monitoring-user", s.createRemoteMonitoringUser)
	s.handle("GET /api/v1/accounts/{id}/remote-monitoring-user/connection-details", s.remoteMonitoringDetails)
	s.handle("POST /api/v1/accounts/{id}/remote-monitoring-user/credentials", s.regenerateRemoteMonitoring)
	s.handle("GET /api/v1/accounts/{id}/invitations", s.listInvitations)
	s.handle("POST /api/v1/accounts/{id}/invitations/bulk", s.previewBulk)
	s.handle("GET /api/v1/accounts/{id}/invitations/bulk/{preview_id}", s.bulkStatus)
	s.handle("GET /api/v1/accounts/{id}/invitations/bulk/{preview_id}/rows", s.bulkRows)
	s.handle("POST /api/v1/accounts/{id}/invitations/bulk/{preview_id}/confirm", s.confirmBulk)
	s.handle("GET /api/v1/invitations/{id}", s.getInvitation)
	s.handle("POST /api/v1/invitations/{id}/resend", s.resendInvitation)
	s.handle("POST /api/v1/invitations/{id}/cancel", s.cancelInvitation)
	s.mux.HandleFunc("GET /api/docs", serveAPIDocs)
	return s
}

// handle registers an API route whose handler runs only for an authenticated
// caller, found in the request's context. Check tokens are refused there.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Pattern: path})
	s.mux.Handle(pattern, s.authenticated(h, false))
}

// handleCheck registers a check route: check tokens are welcome there, and
// nowhere else.
func (s *Server) handleCheck(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Pattern: path})
	s.mux.Handle(pattern, s.authenticated(h, true))
}

// handlePublic registers an API route that needs no token.
func (s *Server) handlePublic(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Pattern: path})
	s.mux.Handle(pattern, h)
}

// HandlePage registers a web page (outside the API and its OpenAPI document).
func (s *Server) HandlePage(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Routes lists the API routes, for the test that keeps openapi.json true.
func (s *Server) Routes() []Route { return s.routes }

// ServeHTTP runs the middleware every request passes: a request id, recovery
// from panics, the access log and metrics, then the router.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !validRequestID.MatchString(id) {
		id = newRequestID()
	}
	w.Header().Set("X-Request-Id", id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}

	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic", slog.String("request_id", id), slog.Any("panic", v))
			if !rec.wroteHeader {
				s.writeError(rec, r, gatehouse.Errorf(gatehouse.EINTERNAL, "internal error"))
			}
		}
		elapsed := time.Since(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if s.metrics != nil {
			s.metrics.observe(r.Method, route, rec.status, elapsed)
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", route), slog.Int("status", rec.status), slog.Duration("duration", elapsed),
			slog.String("remote", clientIP(r)))
	}()

	if _, pattern := s.mux.Handler(r); pattern == "" {
		// No route: let the mux decide between 404 and 405 (with its Allow
		// header), then answer in the contract's error body.
		s.mux.ServeHTTP(&contractErrorWriter{statusRecorder: rec, s: s, r: r}, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// clientIP is the peer address of the connection. Forwarded headers are not
// trusted: a proxy in front of Gatehouse is a deployment decision (see
// docs/operations.md).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticated resolves the bearer token into a caller, or answers 401. A
// check token is answered 403 unless checks is set.
func (s *Server) authenticated(h http.HandlerFunc, checks bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
			s.writeError(w, r, gatehouse.Errorf(gatehouse.EUNAUTHENTICATED, "an Authorization: Bearer token is required"))
			return
		}
		authenticate := s.svc.SignIn.Authenticate
		if checks {
			authenticate = s.svc.SignIn.AuthenticateToCheck
		}
		principal, err := authenticate(r.Context(), secret)
		if err != nil {
			s.writeTokenError(w, r, err)
			return
		}
		if principal.Checker && !checks {
			s.writeError(w, r, gatehouse.Errorf(gatehouse.EFORBIDDEN, "a check token may only ask checks"))
			return
		}
		caller := gatehouse.Caller{Principal: principal, IP: clientIP(r), RequestID: requestID(r.Context())}
		h(w, r.WithContext(gatehouse.WithCaller(r.Context(), caller)))
	})
}

// writeTokenError is writeError for a request whose bearer token may be
// refused: by the authentication, or on the check routes by the check
// itself, which confirms a check token the node let in from memory (see
// AuthenticateToCheck). A refused token is answered with its challenge.
func (s *Server) writeTokenError(w http.ResponseWriter, r *http.Request, err error) {
	if gatehouse.ErrorCode(err) == gatehouse.EUNAUTHENTICATED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
	}
	s.writeError(w, r, err)
}

func bearer(r *http.Request) (string, bool) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}

// caller returns the authenticated caller of a request that went through
// authenticated.
func caller(r *http.Request) gatehouse.Caller {
	c, _ := gatehouse.CallerFrom(r.Context())
	return c
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

// WriteHeader also gives every 503, the API's and the portal's pages',
// the hint of when to try again.
func (w *statusRecorder) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// contractErrorWriter turns the router's plain-text 404 and 405 into the
// contract's JSON error body.
type contractErrorWriter struct {
	*statusRecorder
	s       *Server
	r       *http.Request
	swallow bool
}

func (w *contractErrorWriter) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		w.swallow = true
		w.s.writeError(w.statusRecorder, w.r, gatehouse.NotFound("route"))
	case http.StatusMethodNotAllowed:
		w.swallow = true
		w.s.writeError(w.statusRecorder, w.r, gatehouse.Errorf(gatehouse.EMETHODNOTALLOWED, "method %s is not allowed here", w.r.Method))
	default:
		w.statusRecorder.WriteHeader(code)
	}
}

func (w *contractErrorWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.statusRecorder.Write(b)
}
