package oidcprovider

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Signing out of the platform's applications.
//
// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when the
// tokens of a person's sign-in to an application are revoked (see the
// store's revocations), the outbox POSTs the application a logout token
// that LogoutToken signs. It names the person (sub), not one sign-in: the
// application ends every session it holds for them.
//
// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an
// application sends the browser to /oauth2/end_session with the ID token
// it holds as id_token_hint; see TerminateSessionFromRequest.

const (
	// LogoutTokenLifetime is how long a logout token is valid after it is
	// signed (at each delivery attempt).
	LogoutTokenLifetime = 2 * time.Minute
	// BackchannelLogoutEvent is the event a logout token carries.
	BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
	// EndSessionPath is where an application signs a person out.
	EndSessionPath = Prefix + "end_session"
)

// LogoutToken signs a back-channel logout token for an application
// (clientID) about a person (subject), with the key that signs now: typ
// logout+jwt, iss, aud, iat, exp, jti, sub and the back-channel logout
// event, and no nonce. jti is the outbox message's id, the same at every
// attempt, so that the application can drop a repeat.
func (s *Service) LogoutToken(ctx context.Context, clientID, subject, jti string) (string, error) {
	// Signed the way the application verifies its ID tokens.
	if c, err := s.store.OIDCClient(ctx, clientID); err == nil && c.SigningAlgorithm == gatehouse.SigningRS256 {
		ctx = context.WithValue(ctx, signingAlgorithmKey{}, gatehouse.SigningRS256)
	}
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

// endSessionBrowser is what /oauth2/end_session knows of the browser that
// asks, beside what op parses: who is signed in to the portal with it,
// where from, and the post_logout_redirect_uri as sent.
type endSessionBrowser struct {
	caller             gatehouse.Caller
	signedIn           bool
	postLogoutRedirect string
}

type endSessionKey struct{}

// endSession serves /oauth2/end_session through op (which verifies the
// id_token_hint and the post_logout_redirect_uri), telling
// TerminateSessionFromRequest who is signed in to the portal.
func endSession(provider http.Handler, signedIn SignedIn) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, ok := signedIn(r)
		browser := endSessionBrowser{caller: caller, signedIn: ok && caller.Principal.UserID != "" && caller.Principal.SessionID != "",
			postLogoutRedirect: r.FormValue("post_logout_redirect_uri")}
		if !browser.signedIn {
			browser.caller = gatehouse.Caller{IP: sourceOf(r)}
		}
		provider.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), endSessionKey{}, browser)))
	})
}

var _ op.CanTerminateSessionFromRequest = storage{}

// TerminateSessionFromRequest signs a person out of the application that
// asks, named by a valid id_token_hint (an expired one will do: op has
// checked its signature and issuer): the tokens the application holds for
// them are revoked (and its back-channel logout queued), and, when the
// browser is signed in to the portal as that person, that portal session
// ends too. Other applications keep their tokens. Without a hint, nothing
// ends: the browser is only sent on. The browser goes to the
// post_logout_redirect_uri asked for, matched exactly against those the
// application registered, else to the portal's sign-in page.
func (st storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	browser, _ := ctx.Value(endSessionKey{}).(endSessionBrowser)
	if browser.postLogoutRedirect != "" && req.ClientID != "" {
		c, err := st.s.store.OIDCClient(ctx, req.ClientID)
		if err != nil {
			return "", err
		}
		if !slices.Contains(c.PostLogoutRedirectURIs, browser.postLogoutRedirect) {
			return "", oidc.ErrInvalidRequest().WithDescription("post_logout_redirect_uri invalid")
		}
	}
	if req.IDTokenHintClaims == nil || req.UserID == "" || req.ClientID == "" {
		return req.RedirectURI, nil
	}
	userID, clientID := req.UserID, req.ClientID
	accountID, _ := req.IDTokenHintClaims.Claims["account_id"].(string)
	caller := browser.caller
	endPortal := browser.signedIn && caller.Principal.UserID == userID
	if !endPortal {
		// Someone else, or nobody, is signed in to the portal here: the
		// person named by the hint is the one signing out.
		caller = gatehouse.Caller{Principal: gatehouse.Principal{UserID: userID}, IP: caller.IP, RequestID: caller.RequestID}
	}
	now := st.s.Now()
	err := st.s.store.Write(ctx, func(tx Tx) error {
		if err := tx.RevokeOIDCClientTokensOf(ctx, userID, clientID, now); err != nil {
			return err
		}
		if endPortal {
			err := tx.RevokeSession(ctx, caller.Principal.SessionID, now)
			if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
			if err == nil {
				if err := tx.InsertAuditEvent(ctx, st.s.Audit(caller, now, "", "session.ended", "session", caller.Principal.SessionID)); err != nil {
					return err
				}
			}
		}
		return tx.InsertAuditEvent(ctx, st.s.Audit(caller, now, accountID, "oidc.signed_out", "oidc_client", clientID))
	})
	if err != nil {
		return "", err
	}
	return req.RedirectURI, nil
}

// TerminateSession is op's older way in, unused while
// TerminateSessionFromRequest exists: it revokes the application's tokens
// for the person.
func (st storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	if userID == "" || clientID == "" {
		return nil
	}
	return st.s.store.Write(ctx, func(tx Tx) error { return tx.RevokeOIDCClientTokensOf(ctx, userID, clientID, st.s.Now()) })
}
