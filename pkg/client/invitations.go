package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Invitation is the e-mail that asks a person new to Gatehouse to activate
// their membership. Its link's secret is never in the API.
type Invitation struct {
	ID           string `json:"id"`
	AccountID    string `json:"account_id"`
	MembershipID string `json:"membership_id"`
	UserID       string `json:"user_id"`
	Email        string `json:"email"`
	// Status is pending, accepted, expired or cancelled.
	Status    string    `json:"status"`
	SentAt    time.Time `json:"sent_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// InvitedBy is the user id of who sent it last, or "operator".
	InvitedBy string `json:"invited_by"`
}

// The statuses of an invitation.
const (
	InvitationPending   = "pending"
	InvitationAccepted  = "accepted"
	InvitationExpired   = "expired"
	InvitationCancelled = "cancelled"
)

// InvitationFilter narrows ListInvitations; every field left empty keeps
// all.
type InvitationFilter struct {
	Status string // pending, accepted, expired or cancelled
	Query  string // part of the address, regardless of case
	PageRequest
}

// ListInvitations returns a page of the account's invitations, newest
// first.
func (c *Client) ListInvitations(ctx context.Context, accountID string, f InvitationFilter) (Page[Invitation], error) {
	q := url.Values{}
	setNonEmpty(q, "status", f.Status)
	setNonEmpty(q, "q", f.Query)
	f.PageRequest.set(q)
	var page Page[Invitation]
	err := c.do(ctx, http.MethodGet, path("accounts", accountID, "invitations"), q, nil, &page)
	return page, err
}

// GetInvitation returns one invitation.
func (c *Client) GetInvitation(ctx context.Context, id string) (Invitation, error) {
	var inv Invitation
	err := c.do(ctx, http.MethodGet, path("invitations", id), nil, nil, &inv)
	return inv, err
}

// ResendInvitation sends a pending or expired invitation again: a new
// e-mail with a new link and a new expiry; the old link stops working.
// Another status is a *Error with CodeConflict.
func (c *Client) ResendInvitation(ctx context.Context, id string) (Invitation, error) {
	var inv Invitation
	err := c.do(ctx, http.MethodPost, path("invitations", id, "resend"), nil, nil, &inv)
	return inv, err
}

// CancelInvitation kills a pending or expired invitation's link and
// removes the membership waiting for it. Another status is a *Error with
// CodeConflict.
func (c *Client) CancelInvitation(ctx context.Context, id string) (Invitation, error) {
	var inv Invitation
	err := c.do(ctx, http.MethodPost, path("invitations", id, "cancel"), nil, nil, &inv)
	return inv, err
}
