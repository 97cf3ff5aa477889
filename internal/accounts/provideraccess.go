package accounts

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// The client's privacy (R-PV1…R-PV3): a client's service provider — its
// integrator's staff — manages its people and settings but reaches its
// cameras and media only while a client administrator allows it, until a
// time: by default the next midnight in the account's time zone, at most
// MaxProviderAccess ahead. The checks (internal/access) compare that end
// with the instant of each question; every change here raises the
// account's authz version in its own transaction, so every node's models
// are rebuilt with it.

// ProviderAccess is where the service provider's access to a client's
// cameras and media stands, and what the caller may do about it.
type ProviderAccess struct {
	Account gatehouse.Account
	// Now is the instant the state was read at.
	Now  time.Time
	Open bool
	// Until is when an open access ends; zero while it is closed.
	Until time.Time
	// DefaultUntil is the end an opening that names none gets now (the
	// next midnight in the account's time zone); MaxUntil the latest end
	// allowed now.
	DefaultUntil, MaxUntil time.Time
	// What the caller may do: open it (and approve or refuse requests),
	// end it, ask for it, change the account's time zone.
	MayGrant, MayEnd, MayAsk, MayChangeTimeZone bool
}

// ProviderAccessRequestView is a request with the names of the people who
// asked and answered ("First Last (username)"), which the client's
// administrators cannot read elsewhere: the staff are not their members.
type ProviderAccessRequestView struct {
	gatehouse.ProviderAccessRequest
	RequestedByName, DecidedByName string
}

func clientOnly(a gatehouse.Account) error {
	if a.Kind != gatehouse.KindClient {
		return gatehouse.Invalid("id", "only client accounts have a service provider")
	}
	return nil
}

func (s *Service) providerAccess(c gatehouse.Caller, access gatehouse.Access, account gatehouse.Account, now time.Time) ProviderAccess {
	st := ProviderAccess{Account: account, Now: now, Open: account.ProviderAccessOpen(now),
		DefaultUntil: gatehouse.NextMidnight(now, account.Location()), MaxUntil: now.Add(gatehouse.MaxProviderAccess),
		MayGrant:          kernel.May(c, access, account, policy.GrantProviderAccess),
		MayEnd:            kernel.May(c, access, account, policy.EndProviderAccess),
		MayAsk:            kernel.May(c, access, account, policy.AskProviderAccess),
		MayChangeTimeZone: kernel.May(c, access, account, policy.UpdateAccount)}
	if st.Open {
		st.Until = account.ProviderAccessUntil
	}
	return st
}

// providerAccessEnd is the end an opening gets: the one asked for, which
// must be ahead and at most MaxProviderAccess ahead, or else the next
// midnight in the account's time zone.
func providerAccessEnd(account gatehouse.Account, now time.Time, until *time.Time) (time.Time, error) {
	if until == nil || until.IsZero() {
		return gatehouse.NextMidnight(now, account.Location()), nil
	}
	end := until.UTC().Truncate(time.Microsecond)
	switch {
	case !end.After(now):
		return time.Time{}, gatehouse.Invalid("until", "until must be in the future")
	case end.After(now.Add(gatehouse.MaxProviderAccess)):
		return time.Time{}, gatehouse.Invalid("until", "until is at most %d days ahead", int(gatehouse.MaxProviderAccess/(24*time.Hour)))
	}
	return end, nil
}

// auditUntil is the end of the access as the audit log keeps it: RFC 3339
// in UTC, or "" while it is closed.
func auditUntil(a gatehouse.Account, now time.Time) string {
	if !a.ProviderAccessOpen(now) {
		return ""
	}
	return a.ProviderAccessUntil.UTC().Format(time.RFC3339)
}

// lockedAccount authorizes act on a client account inside tx, then raises
// the account's authz version (on PostgreSQL this locks its rules until
// commit) and reads the account again under that lock.
func (s *Service) lockedAccount(ctx context.Context, tx ProviderAccessTx, c gatehouse.Caller, accountID string, act policy.Action) (gatehouse.Account, gatehouse.Access, error) {
	account, access, err := s.AuthorizeAccess(ctx, tx, c, accountID, act, policy.Target{})
	if err != nil {
		return account, access, err
	}
	if err := clientOnly(account); err != nil {
		return account, access, err
	}
	if err := tx.BumpAuthzVersion(ctx, account.ID); err != nil {
		return account, access, err
	}
	account, err = tx.Account(ctx, account.ID)
	return account, access, err
}

// ProviderAccessOf tells whether the client's service provider reaches its
// cameras and media now, and until when.
func (s *Service) ProviderAccessOf(ctx context.Context, c gatehouse.Caller, accountID string) (ProviderAccess, error) {
	account, access, err := s.AuthorizeAccess(ctx, s.providerAccessStore, c, accountID, policy.ReadProviderAccess, policy.Target{})
	if err != nil {
		return ProviderAccess{}, err
	}
	if err := clientOnly(account); err != nil {
		return ProviderAccess{}, err
	}
	return s.providerAccess(c, access, account, s.Now()), nil
}

// GrantProviderAccess opens the client's cameras and media to its service
// provider until the given time (nil: the next midnight in the account's
// time zone), or moves the end of an open access. Only the client's
// administrators may.
func (s *Service) GrantProviderAccess(ctx context.Context, c gatehouse.Caller, accountID string, until *time.Time) (ProviderAccess, error) {
	var state ProviderAccess
	err := s.providerAccessStore.Write(ctx, func(tx ProviderAccessTx) error {
		account, access, err := s.lockedAccount(ctx, tx, c, accountID, policy.GrantProviderAccess)
		if err != nil {
			return err
		}
		now := s.Now()
		end, err := providerAccessEnd(account, now, until)
		if err != nil {
			return err
		}
		if err := tx.SetProviderAccess(ctx, account.ID, end); err != nil {
			return err
		}
		before := auditUntil(account, now)
		account.ProviderAccessUntil = end
		state = s.providerAccess(c, access, account, now)
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "provider_access.granted", "account", account.ID).
			With("provider_access_until", before, auditUntil(account, now)))
	})
	return state, err
}

// EndProviderAccess closes the service provider's access now. Ending an
// access that is closed changes nothing and records nothing.
func (s *Service) EndProviderAccess(ctx context.Context, c gatehouse.Caller, accountID string) (ProviderAccess, error) {
	var state ProviderAccess
	err := s.providerAccessStore.Write(ctx, func(tx ProviderAccessTx) error {
		account, access, err := s.lockedAccount(ctx, tx, c, accountID, policy.EndProviderAccess)
		if err != nil {
			return err
		}
		now := s.Now()
		before := auditUntil(account, now)
		if before == "" {
			state = s.providerAccess(c, access, account, now)
			return nil
		}
		if err := tx.SetProviderAccess(ctx, account.ID, time.Time{}); err != nil {
			return err
		}
		account.ProviderAccessUntil = time.Time{}
		state = s.providerAccess(c, access, account, now)
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "provider_access.ended", "account", account.ID).
			With("provider_access_until", before, ""))
	})
	return state, err
}

// RequestProviderAccess is the integrator's staff asking a client for
// access to its cameras and media, with an optional reason. The client's
// administrators are mailed, in their languages and in the same
// transaction, a link to the page where they answer. One request per
// account waits at a time (ECONFLICT for a second).
func (s *Service) RequestProviderAccess(ctx context.Context, c gatehouse.Caller, accountID, reason string) (ProviderAccessRequestView, error) {
	reason, err := gatehouse.ValidateProviderAccessReason("reason", reason)
	if err != nil {
		return ProviderAccessRequestView{}, err
	}
	var (
		view   ProviderAccessRequestView
		mailed int
	)
	err = s.providerAccessStore.Write(ctx, func(tx ProviderAccessTx) error {
		mailed = 0
		account, _, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.AskProviderAccess, policy.Target{})
		if err != nil {
			return err
		}
		if err := clientOnly(account); err != nil {
			return err
		}
		now := s.Now()
		req := gatehouse.ProviderAccessRequest{ID: s.NewID(), AccountID: account.ID, RequestedBy: c.Principal.UserID,
			Reason: reason, Status: gatehouse.ProviderAccessPending, CreatedAt: now}
		if err := tx.InsertProviderAccessRequest(ctx, req); err != nil {
			return err
		}
		admins, err := tx.AdminRecipients(ctx, account.ID)
		if err != nil {
			return err
		}
		link := s.PublicURL() + "/accounts/" + account.ID + "/provider-access/requests/" + req.ID
		for _, a := range admins {
			who, err := s.RequesterName(ctx, tx, c, a.Language)
			if err != nil {
				return err
			}
			if err := s.QueueMail(ctx, tx, now, kernel.MailScope{AccountID: account.ID}, a.Address, a.Language, messages.ProviderAccessRequest, messages.Data{FirstName: a.FirstName,
				AccountName: account.Name, RequestedBy: who, Text: reason, Link: link}); err != nil {
				return err
			}
			mailed++
		}
		if view, err = s.requestView(ctx, tx, req); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "provider_access.requested", "provider_access_request", req.ID))
	})
	if err == nil && mailed > 0 {
		s.MailQueued()
	}
	return view, err
}

// ApproveProviderAccessRequest answers a waiting request yes: the access
// opens until the given time (nil: the next midnight in the account's time
// zone).
func (s *Service) ApproveProviderAccessRequest(ctx context.Context, c gatehouse.Caller, accountID, requestID string, until *time.Time) (ProviderAccessRequestView, error) {
	return s.decideRequest(ctx, c, accountID, requestID, true, until)
}

// RefuseProviderAccessRequest answers a waiting request no; an access that
// is open stays as it is.
func (s *Service) RefuseProviderAccessRequest(ctx context.Context, c gatehouse.Caller, accountID, requestID string) (ProviderAccessRequestView, error) {
	return s.decideRequest(ctx, c, accountID, requestID, false, nil)
}

func (s *Service) decideRequest(ctx context.Context, c gatehouse.Caller, accountID, requestID string, approve bool, until *time.Time) (ProviderAccessRequestView, error) {
	var view ProviderAccessRequestView
	err := s.providerAccessStore.Write(ctx, func(tx ProviderAccessTx) error {
		// An approval changes what checks answer, under the account's
		// rules lock; a refusal changes none (the guarded update settles a
		// refusal and an approval at once).
		account, _, err := s.AuthorizeAccess(ctx, tx, c, accountID, policy.DecideProviderAccess, policy.Target{})
		if err == nil {
			err = clientOnly(account)
		}
		if err == nil && approve {
			if err = tx.BumpAuthzVersion(ctx, account.ID); err == nil {
				account, err = tx.Account(ctx, account.ID)
			}
		}
		if err != nil {
			return err
		}
		req, err := tx.ProviderAccessRequest(ctx, account.ID, requestID)
		if err != nil {
			return err
		}
		if req.Status != gatehouse.ProviderAccessPending {
			return &gatehouse.Error{Code: gatehouse.ECONFLICT, Message: "this request was answered already"}
		}
		now := s.Now()
		req.Status, req.DecidedBy, req.DecidedAt = gatehouse.ProviderAccessRefused, c.Principal.ActorID(), now
		event := s.Audit(c, now, account.ID, "provider_access.request_refused", "provider_access_request", req.ID)
		if approve {
			end, err := providerAccessEnd(account, now, until)
			if err != nil {
				return err
			}
			req.Status, req.Until = gatehouse.ProviderAccessApproved, end
			if err := tx.SetProviderAccess(ctx, account.ID, end); err != nil {
				return err
			}
			before := auditUntil(account, now)
			account.ProviderAccessUntil = end
			event = s.Audit(c, now, account.ID, "provider_access.request_approved", "provider_access_request", req.ID).
				With("provider_access_until", before, auditUntil(account, now))
		}
		if err := tx.DecideProviderAccessRequest(ctx, req); err != nil {
			return err
		}
		if view, err = s.requestView(ctx, tx, req); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, event)
	})
	return view, err
}

// ProviderAccessRequests lists the client's requests, newest first, of one
// status when the filter names one.
func (s *Service) ProviderAccessRequests(ctx context.Context, c gatehouse.Caller, accountID string, f gatehouse.ProviderAccessRequestFilter) (gatehouse.Page[ProviderAccessRequestView], error) {
	var out gatehouse.Page[ProviderAccessRequestView]
	switch f.Status {
	case "", gatehouse.ProviderAccessPending, gatehouse.ProviderAccessApproved, gatehouse.ProviderAccessRefused:
	default:
		return out, gatehouse.Invalid("status", `status must be "pending", "approved" or "refused"`)
	}
	account, _, err := s.AuthorizeAccess(ctx, s.providerAccessStore, c, accountID, policy.ReadProviderAccess, policy.Target{})
	if err != nil {
		return out, err
	}
	if err := clientOnly(account); err != nil {
		return out, err
	}
	page, err := s.providerAccessStore.ProviderAccessRequests(ctx, account.ID, f)
	if err != nil {
		return out, err
	}
	out.NextCursor = page.NextCursor
	for _, r := range page.Items {
		view, err := s.requestView(ctx, s.providerAccessStore, r)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, view)
	}
	return out, nil
}

// ProviderAccessRequest returns one request of the client.
func (s *Service) ProviderAccessRequest(ctx context.Context, c gatehouse.Caller, accountID, requestID string) (ProviderAccessRequestView, error) {
	account, _, err := s.AuthorizeAccess(ctx, s.providerAccessStore, c, accountID, policy.ReadProviderAccess, policy.Target{})
	if err != nil {
		return ProviderAccessRequestView{}, err
	}
	if err := clientOnly(account); err != nil {
		return ProviderAccessRequestView{}, err
	}
	req, err := s.providerAccessStore.ProviderAccessRequest(ctx, account.ID, requestID)
	if err != nil {
		return ProviderAccessRequestView{}, err
	}
	return s.requestView(ctx, s.providerAccessStore, req)
}

// AuditStaff lists the staff of a client's integrator, who act in the
// client without being its members, so that its audit log names them
// (R-X1). Whoever reads the client's audit log may.
func (s *Service) AuditStaff(ctx context.Context, c gatehouse.Caller, accountID string) ([]gatehouse.User, error) {
	account, err := s.Authorize(ctx, s.providerAccessStore, c, accountID, policy.ReadAudit)
	if err != nil || account.Kind != gatehouse.KindClient {
		return nil, err
	}
	return s.providerAccessStore.IntegratorStaff(ctx, account.ID)
}

func (s *Service) requestView(ctx context.Context, r kernel.UserReader, req gatehouse.ProviderAccessRequest) (ProviderAccessRequestView, error) {
	view := ProviderAccessRequestView{ProviderAccessRequest: req}
	var err error
	if view.RequestedByName, err = personName(ctx, r, req.RequestedBy); err != nil {
		return view, err
	}
	view.DecidedByName, err = personName(ctx, r, req.DecidedBy)
	return view, err
}

// personName names an identity "First Last (username)", or by its
// username alone; "" for none, and the actor id itself for what is not a
// person ("operator").
func personName(ctx context.Context, r kernel.UserReader, id string) (string, error) {
	if id == "" || id == "operator" {
		return id, nil
	}
	u, err := r.User(ctx, id)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return id, nil
	} else if err != nil {
		return "", err
	}
	if full := strings.TrimSpace(u.FirstName + " " + u.LastName); full != "" {
		return full + " (" + u.Username + ")", nil
	}
	return u.Username, nil
}
