package client

import (
	"context"
	"net/http"
	"time"
)

// APIToken is a personal API token: it acts for its owner in one account
// (and an integrator's clients), limited to its scopes.
type APIToken struct {
	ID        string   `json:"id"`
	AccountID string   `json:"account_id"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	// Secret is the bearer secret (gh_api_…), in the answer of
	// CreateAPIToken alone: Gatehouse keeps only its hash.
	Secret     string     `json:"token,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// The scopes of a personal API token, each needed on top of the owner's
// own right.
const (
	ScopeAccountsRead      = "accounts:read"
	ScopeAccountsWrite     = "accounts:write"
	ScopeUsersRead         = "users:read"
	ScopeUsersWrite        = "users:write"
	ScopeAuditRead         = "audit:read"
	ScopeCheck             = "check"
	ScopeNotificationsSend = "notifications:send"
)

// NewAPIToken is what CreateAPIToken makes.
type NewAPIToken struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// ExpiresAt nil makes a token that lives as long as its owner's
	// membership.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// ListAPITokens returns the caller's live tokens for the account, without
// their secrets. Only people signed in (a session token) have tokens.
func (c *Client) ListAPITokens(ctx context.Context, accountID string) ([]APIToken, error) {
	var page Page[APIToken]
	err := c.do(ctx, http.MethodGet, path("accounts", accountID, "api-tokens"), nil, nil, &page)
	return page.Items, err
}

// CreateAPIToken makes a personal token of the caller for the account and
// returns it with its Secret, which no other answer shows. Only a person
// signed in makes tokens: a token (API or bootstrap) is refused, 403.
func (c *Client) CreateAPIToken(ctx context.Context, accountID string, in NewAPIToken) (APIToken, error) {
	var tok APIToken
	err := c.do(ctx, http.MethodPost, path("accounts", accountID, "api-tokens"), nil, in, &tok)
	return tok, err
}

// RevokeAPIToken ends one of the caller's tokens at once.
func (c *Client) RevokeAPIToken(ctx context.Context, accountID, tokenID string) error {
	return c.do(ctx, http.MethodDelete, path("accounts", accountID, "api-tokens", tokenID), nil, nil, nil)
}
