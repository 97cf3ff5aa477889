package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Account is an integrator (a company installing the platform) or one of
// its clients (a site or customer).
type Account struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // integrator or client
	Name string `json:"name"`
	// Address is the postal address, free text.
	Address string `json:"address"`
	// IntegratorID is a client's integrator; "" for an integrator.
	IntegratorID string          `json:"integrator_id,omitempty"`
	Settings     AccountSettings `json:"settings"`
	// TimeZone is an IANA name; UTC unless someone set another.
	TimeZone  string    `json:"time_zone"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Status is active, suspended (its own members cannot act in it) or
	// deleted (restorable by an operator until PurgeAfter).
	Status     string     `json:"status"`
	PurgeAfter *time.Time `json:"purge_after,omitempty"`
}

// AccountSettings are a client account's settings, set by its integrator.
type AccountSettings struct {
	MaxClientUsers                     int  `json:"max_client_users"`
	ClientAdminsCanAddRemoteMonitoring bool `json:"client_admins_can_add_remote_monitoring"`
}

// The kinds and statuses of accounts.
const (
	KindIntegrator = "integrator"
	KindClient     = "client"

	AccountActive    = "active"
	AccountSuspended = "suspended"
	AccountDeleted   = "deleted"
)

// NewAccount is what CreateAccount makes: an integrator (operators only) or
// a client of IntegratorID (operators and the integrator's staff).
type NewAccount struct {
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	Address      string `json:"address,omitempty"`
	IntegratorID string `json:"integrator_id,omitempty"`
}

// AccountFilter narrows ListAccounts; every field left empty keeps all.
type AccountFilter struct {
	Kind         string // integrator or client
	Status       string // active, suspended or deleted (deleted for operators alone)
	IntegratorID string // the clients of one integrator
	Query        string // a case-insensitive part of the name
	PageRequest
}

// ListAccounts returns a page of the accounts the caller may see, by name.
func (c *Client) ListAccounts(ctx context.Context, f AccountFilter) (Page[Account], error) {
	q := url.Values{}
	setNonEmpty(q, "kind", f.Kind)
	setNonEmpty(q, "status", f.Status)
	setNonEmpty(q, "integrator_id", f.IntegratorID)
	setNonEmpty(q, "q", f.Query)
	f.PageRequest.set(q)
	var page Page[Account]
	err := c.do(ctx, http.MethodGet, path("accounts"), q, nil, &page)
	return page, err
}

// GetAccount returns one account; an account the caller may not see is
// not found, like an unknown one.
func (c *Client) GetAccount(ctx context.Context, id string) (Account, error) {
	var a Account
	err := c.do(ctx, http.MethodGet, path("accounts", id), nil, nil, &a)
	return a, err
}

// CreateAccount makes an account and returns it.
func (c *Client) CreateAccount(ctx context.Context, in NewAccount) (Account, error) {
	var a Account
	err := c.do(ctx, http.MethodPost, path("accounts"), nil, in, &a)
	return a, err
}

// SuspendAccount stops the account's own members from acting in it (and a
// suspended integrator's staff in all its clients) until RestoreAccount;
// its integrator's staff still manage it. Suspending it again changes
// nothing.
func (c *Client) SuspendAccount(ctx context.Context, id string) (Account, error) {
	var a Account
	err := c.do(ctx, http.MethodPost, path("accounts", id, "suspend"), nil, nil, &a)
	return a, err
}

// RestoreAccount makes a suspended account active again; operators also
// bring back a deleted client before its purge, empty of people.
func (c *Client) RestoreAccount(ctx context.Context, id string) (Account, error) {
	var a Account
	err := c.do(ctx, http.MethodPost, path("accounts", id, "restore"), nil, nil, &a)
	return a, err
}

// DeleteAccount deletes a client account, confirmed by its exact name:
// every membership, invitation, API token and grant in it ends at once. The
// answer is the account, deleted, with the time it will be purged.
func (c *Client) DeleteAccount(ctx context.Context, id, confirmName string) (Account, error) {
	var a Account
	err := c.do(ctx, http.MethodDelete, path("accounts", id), nil, map[string]string{"confirm_name": confirmName}, &a)
	return a, err
}
