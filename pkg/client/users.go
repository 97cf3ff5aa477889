package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Membership is a person's place in one account: a user of the account.
// Its ID (not the person's UserID) names it in the account's routes.
type Membership struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	UserID    string `json:"user_id"`
	// Username is the person's login name, an e-mail address, the same in
	// every account.
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	// Email is where this account's notifications go.
	Email    string `json:"email"`
	Language string `json:"language"`
	Level    string `json:"level"`
	// Status is activation_required until the person follows their
	// invitation, then active.
	Status        string        `json:"status"`
	Roles         []string      `json:"roles"`
	HomeFolderID  string        `json:"home_folder_id,omitempty"`
	Notifications Notifications `json:"notifications"`
	Description   string        `json:"description,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	// ExpiresAt is when the membership ends by itself; nil for never.
	ExpiresAt *time.Time `json:"expires_at"`
}

// Notifications are how a user hears of the account's alerts.
type Notifications struct {
	Enabled bool `json:"enabled"`
	Email   bool `json:"email"`
	SMS     bool `json:"sms"`
}

// The levels of a membership, and its statuses.
const (
	LevelIntegratorAdmin  = "integrator_admin"
	LevelIntegratorUser   = "integrator_user"
	LevelClientAdmin      = "client_admin"
	LevelClientUser       = "client_user"
	LevelRemoteMonitoring = "remote_monitoring"

	MembershipActive             = "active"
	MembershipActivationRequired = "activation_required"
)

// NewMember is what AddUser adds. A username new to Gatehouse needs first
// and last names and gets an invitation by e-mail; a known one joins the
// account at once.
type NewMember struct {
	Username  string `json:"username"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// Email is the account's notification address; the username if empty.
	Email    string `json:"email,omitempty"`
	Language string `json:"language,omitempty"` // en (the default) or fr
	Level    string `json:"level"`
	// Roles default to ["viewer"] for client users.
	Roles            []string `json:"roles,omitempty"`
	HomeFolderID     string   `json:"home_folder_id,omitempty"`
	IdentityProvider string   `json:"identity_provider,omitempty"`
	Phone            string   `json:"phone,omitempty"`
	UserType         string   `json:"user_type,omitempty"`
	MFARequired      bool     `json:"mfa_required,omitempty"`
	// Notifications nil keeps the server's default.
	Notifications *Notifications `json:"notifications,omitempty"`
	// ExpiresAt makes the access temporary: it ends by itself then (at
	// most a year ahead). Nil for never.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// UserFilter narrows ListUsers; every field left empty keeps all.
type UserFilter struct {
	Query  string // part of the username or of the names, regardless of case
	Status string // active or activation_required
	Level  string
	PageRequest
}

// ListUsers returns a page of the account's users, oldest first.
func (c *Client) ListUsers(ctx context.Context, accountID string, f UserFilter) (Page[Membership], error) {
	q := url.Values{}
	setNonEmpty(q, "q", f.Query)
	setNonEmpty(q, "status", f.Status)
	setNonEmpty(q, "level", f.Level)
	f.PageRequest.set(q)
	var page Page[Membership]
	err := c.do(ctx, http.MethodGet, path("accounts", accountID, "users"), q, nil, &page)
	return page, err
}

// GetUser returns one user of the account by membership id.
func (c *Client) GetUser(ctx context.Context, accountID, membershipID string) (Membership, error) {
	var m Membership
	err := c.do(ctx, http.MethodGet, path("accounts", accountID, "users", membershipID), nil, nil, &m)
	return m, err
}

// AddUser adds a person to the account and returns their membership; a new
// username is invited (Status activation_required). A username that is a
// user of the account already is a *Error with CodeAlreadyMember.
func (c *Client) AddUser(ctx context.Context, accountID string, in NewMember) (Membership, error) {
	var m Membership
	err := c.do(ctx, http.MethodPost, path("accounts", accountID, "users"), nil, in, &m)
	return m, err
}

// RemoveUser removes a user from the account: their access to it ends at
// once, and their pending invitation is cancelled.
func (c *Client) RemoveUser(ctx context.Context, accountID, membershipID string) error {
	return c.do(ctx, http.MethodDelete, path("accounts", accountID, "users", membershipID), nil, nil, nil)
}
