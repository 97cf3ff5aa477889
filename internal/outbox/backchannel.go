package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// LogoutTokens signs back-channel logout tokens (internal/oidcprovider):
// for an application (clientID), about a person (subject), with jti.
type LogoutTokens interface {
	LogoutToken(ctx context.Context, clientID, subject, jti string) (string, error)
}

// BackchannelLogoutSender tells an application that a person's sign-in to
// it ended (OpenID Connect Back-Channel Logout 1.0):
//
//	POST <the application's back-channel logout URI>
//	Content-Type: application/x-www-form-urlencoded
//
//	logout_token=<a JWT signed now, its jti the message's id>
//
// 200 and 204 are deliveries; any other answer, a redirect included (none
// is followed), is retried with back-off. The jti is the same at every
// attempt, so the application can drop a repeat.
type BackchannelLogoutSender struct {
	Tokens LogoutTokens
	Client *http.Client
}

// BackchannelLogoutTimeout is how long an application has to answer.
const BackchannelLogoutTimeout = 10 * time.Second

// NewBackchannelLogoutSender returns the sender with the production
// client: a 10-second timeout, and no redirect followed.
func NewBackchannelLogoutSender(tokens LogoutTokens) *BackchannelLogoutSender {
	return &BackchannelLogoutSender{Tokens: tokens, Client: &http.Client{Timeout: BackchannelLogoutTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (s *BackchannelLogoutSender) Send(ctx context.Context, m gatehouse.Message) error {
	var logout gatehouse.BackchannelLogout
	if err := json.Unmarshal([]byte(m.Body), &logout); err != nil || logout.ClientID == "" || logout.Subject == "" {
		return fmt.Errorf("a back-channel logout without its client and person: %q", m.Body)
	}
	token, err := s.Tokens.LogoutToken(ctx, logout.ClientID, logout.Subject, m.MessageID)
	if err != nil {
		return fmt.Errorf("sign the logout token: %w", err)
	}
	form := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.To, strings.NewReader(form))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("the back-channel logout URI answered %s", resp.Status)
	}
	return nil
}
