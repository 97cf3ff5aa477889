// Package webhooks is the webhooks context: an account's administrators
// subscribe an https endpoint to some of its events (and an integrator's
// to its clients' too), and Gatehouse POSTs each event there, signed as
// the Standard Webhooks specification says (docs/events.md#webhooks).
// The store queues an event for its subscriptions in the change's own
// transaction; the outbox worker delivers it through Send, in order per
// subscription, retrying for three days.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Service holds the webhooks use cases, and sends deliveries for the
// outbox worker.
type Service struct {
	*kernel.Kernel
	store         Store
	allowLoopback bool
	client        *http.Client

	// delivered are the deliveries sent since the last RecordSent,
	// written in the delivery log together, in the transaction that
	// records their outbox batch sent.
	mu        sync.Mutex
	delivered []deliveredMessage
	// writing is held by each write of the log, from taking the waiting
	// deliveries to the commit: the worker records a run while it sends
	// the next, and a failure in that run must not be written, and end in
	// the run of failures, before the deliveries that came before it.
	writing sync.Mutex
}

// Options configures the context.
type Options struct {
	// AllowLoopback lets subscriptions reach this machine, over http too
	// (tests, a receiver beside Gatehouse). Private and link-local
	// addresses stay out of reach.
	AllowLoopback bool
}

// New returns the webhooks use cases.
func New(k *kernel.Kernel, store Store, opts Options) *Service {
	return &Service{Kernel: k, store: store, allowLoopback: opts.AllowLoopback, client: newClient(opts.AllowLoopback)}
}

// SecretPrefix starts every signing secret, as the specification has it.
const SecretPrefix = "whsec_"

// newSecret is a signing secret: 32 random bytes.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SealContext binds a sealed secret to its subscription.
func SealContext(id string) string { return "webhook:" + id }

// NewSubscription is what an administrator gives to subscribe.
type NewSubscription struct {
	URL         string
	EventTypes  []string
	Description string
}

// ValidateEventTypes checks the patterns: known types, families of known
// types ("member.*") or "*"; at least one, each once.
func ValidateEventTypes(patterns []string) ([]string, error) {
	if len(patterns) == 0 {
		return nil, gatehouse.Invalid("event_types", "at least one event type, a family such as member.* or *")
	}
	if len(patterns) > 100 {
		return nil, gatehouse.Invalid("event_types", "at most 100 patterns")
	}
	var out []string
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		known := slices.ContainsFunc(gatehouse.EventTypes, func(t string) bool { return gatehouse.EventTypeMatches(p, t) })
		if !known || strings.ContainsAny(p, " \t") || (p != "*" && strings.Contains(strings.TrimSuffix(p, ".*"), "*")) {
			return nil, gatehouse.Invalid("event_types", "%q is no event type, family (member.*) or *", p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// authorized reads the account and the subscription, and asks the policy
// whether caller manages the account's webhooks. A subscription of
// another account is not found.
func (s *Service) authorized(ctx context.Context, r Reader, c gatehouse.Caller, accountID, id string) (gatehouse.Account, gatehouse.WebhookSubscription, error) {
	account, err := s.Authorize(ctx, r, c, accountID, policy.ManageWebhooks)
	if err != nil {
		return account, gatehouse.WebhookSubscription{}, err
	}
	sub, err := r.WebhookSubscription(ctx, id)
	if err == nil && sub.AccountID != account.ID {
		err = gatehouse.NotFound("webhook subscription")
	}
	return account, sub, err
}

// Create subscribes an endpoint to the account's events (and, for an
// integrator, to its clients'). The signing secret is returned once: only
// its sealed form is kept.
func (s *Service) Create(ctx context.Context, c gatehouse.Caller, accountID string, in NewSubscription) (gatehouse.WebhookSubscription, string, error) {
	var v gatehouse.Validation
	address, err := ValidateURL(strings.TrimSpace(in.URL), s.allowLoopback)
	v.Check(err)
	types, err := ValidateEventTypes(in.EventTypes)
	v.Check(err)
	description := strings.TrimSpace(in.Description)
	if len(description) > 200 {
		v.Check(gatehouse.Invalid("description", "at most 200 characters"))
	}
	if err := v.Err(); err != nil {
		return gatehouse.WebhookSubscription{}, "", err
	}
	var (
		sub    gatehouse.WebhookSubscription
		secret = newSecret()
	)
	err = s.store.Write(ctx, func(tx Tx) error {
		account, err := s.Authorize(ctx, tx, c, accountID, policy.ManageWebhooks)
		if err != nil {
			return err
		}
		now := s.Now()
		sub = gatehouse.WebhookSubscription{ID: s.NewID(), AccountID: account.ID, URL: address, EventTypes: types,
			Description: description, CreatedBy: c.Principal.ActorID(), CreatedAt: now}
		sub.SecretSealed = s.Box.Seal(secret, SealContext(sub.ID))
		if err := tx.InsertWebhookSubscription(ctx, sub); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "webhook.created", "webhook_subscription", sub.ID).
			With("url", "", address).With("event_types", "", strings.Join(types, ", ")))
	})
	return sub, secret, err
}

// List lists the account's subscriptions, oldest first.
func (s *Service) List(ctx context.Context, c gatehouse.Caller, accountID string) ([]gatehouse.WebhookSubscription, error) {
	account, err := s.Authorize(ctx, s.store, c, accountID, policy.ManageWebhooks)
	if err != nil {
		return nil, err
	}
	return s.store.WebhookSubscriptions(ctx, account.ID)
}

// Get returns one subscription of the account.
func (s *Service) Get(ctx context.Context, c gatehouse.Caller, accountID, id string) (gatehouse.WebhookSubscription, error) {
	_, sub, err := s.authorized(ctx, s.store, c, accountID, id)
	return sub, err
}

// Delete removes a subscription, its delivery log and what still waits
// for it.
func (s *Service) Delete(ctx context.Context, c gatehouse.Caller, accountID, id string) error {
	return s.store.Write(ctx, func(tx Tx) error {
		account, sub, err := s.authorized(ctx, tx, c, accountID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhookSubscription(ctx, sub.ID); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, s.Now(), account.ID, "webhook.deleted", "webhook_subscription", sub.ID).
			With("url", sub.URL, ""))
	})
}

// RotateSecret gives the subscription a new signing secret, returned once.
// The previous one keeps signing beside it for WebhookSecretGrace, so the
// receiver can switch without refusing a delivery; a second rotation in
// that time ends the first previous secret at once.
func (s *Service) RotateSecret(ctx context.Context, c gatehouse.Caller, accountID, id string) (gatehouse.WebhookSubscription, string, error) {
	var (
		sub    gatehouse.WebhookSubscription
		secret = newSecret()
	)
	err := s.store.Write(ctx, func(tx Tx) error {
		account, current, err := s.authorized(ctx, tx, c, accountID, id)
		if err != nil {
			return err
		}
		now := s.Now()
		sub = current
		sub.PreviousSecretSealed, sub.PreviousSecretUntil = current.SecretSealed, now.Add(gatehouse.WebhookSecretGrace)
		sub.SecretSealed = s.Box.Seal(secret, SealContext(sub.ID))
		if err := tx.RotateWebhookSecret(ctx, sub.ID, sub.SecretSealed, sub.PreviousSecretSealed, sub.PreviousSecretUntil); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "webhook.secret_rotated", "webhook_subscription", sub.ID))
	})
	return sub, secret, err
}

// Ping sends the subscription a webhook.ping test event, through the
// queue and the sender every event takes; it returns the event's id (its
// webhook-id).
func (s *Service) Ping(ctx context.Context, c gatehouse.Caller, accountID, id string) (string, error) {
	var eventID string
	err := s.store.Write(ctx, func(tx Tx) error {
		account, sub, err := s.authorized(ctx, tx, c, accountID, id)
		if err != nil {
			return err
		}
		if err := live(sub); err != nil {
			return err
		}
		now := s.Now()
		eventID = s.NewID()
		body, err := json.Marshal(gatehouse.Event{ID: eventID, Type: gatehouse.WebhookPingType, OccurredAt: now, AccountID: account.ID,
			ActorID: c.Principal.ActorID(), Subject: gatehouse.EventSubject{Type: "webhook_subscription", ID: sub.ID}})
		if err != nil {
			return err
		}
		if err := tx.EnqueueMessage(ctx, gatehouse.Message{ID: eventID, MessageID: eventID, Channel: gatehouse.ChannelWebhook,
			To: sub.ID, Subject: eventID, Body: string(body), CreatedAt: now}); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "webhook.pinged", "webhook_subscription", sub.ID))
	})
	if err == nil {
		s.MailQueued()
	}
	return eventID, err
}

// live refuses to queue for a disabled subscription: nothing would go.
func live(sub gatehouse.WebhookSubscription) error {
	if !sub.DisabledAt.IsZero() {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "this webhook was disabled after failing for a day: enable it again once its endpoint works")
	}
	return nil
}

// Enable takes a subscription disabled after a day of failures back into
// service, with its secret and its log: events from now on are delivered
// to it, and the ones given up while it failed can be replayed. Enabling
// a live subscription changes nothing.
func (s *Service) Enable(ctx context.Context, c gatehouse.Caller, accountID, id string) (gatehouse.WebhookSubscription, error) {
	var sub gatehouse.WebhookSubscription
	err := s.store.Write(ctx, func(tx Tx) error {
		account, current, err := s.authorized(ctx, tx, c, accountID, id)
		if err != nil {
			return err
		}
		sub = current
		if sub.DisabledAt.IsZero() {
			return nil
		}
		if err := tx.EnableWebhookSubscription(ctx, sub.ID); err != nil {
			return err
		}
		now := s.Now()
		sub.DisabledAt, sub.FailingSince = time.Time{}, time.Time{}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "webhook.enabled", "webhook_subscription", sub.ID).
			With("disabled_at", current.DisabledAt.Format(time.RFC3339), ""))
	})
	return sub, err
}

// Deliveries lists the subscription's attempts, newest first.
func (s *Service) Deliveries(ctx context.Context, c gatehouse.Caller, accountID, id string, p gatehouse.PageRequest) (gatehouse.Page[gatehouse.WebhookDelivery], error) {
	_, sub, err := s.authorized(ctx, s.store, c, accountID, id)
	if err != nil {
		return gatehouse.Page[gatehouse.WebhookDelivery]{}, err
	}
	return s.store.WebhookDeliveries(ctx, sub.ID, p)
}

// ReplayDelivery sends again the message of one attempt, the same event
// under the same webhook-id, after whatever waits for the subscription.
// It returns how many it queued: one.
func (s *Service) ReplayDelivery(ctx context.Context, c gatehouse.Caller, accountID, id, deliveryID string) (int, error) {
	return s.replay(ctx, c, accountID, id, func(tx Tx, sub gatehouse.WebhookSubscription) ([]gatehouse.Message, error) {
		d, err := tx.WebhookDelivery(ctx, sub.ID, deliveryID)
		if err != nil {
			return nil, err
		}
		m, err := tx.WebhookMessage(ctx, sub.ID, d.MessageID)
		return []gatehouse.Message{m}, err
	}, "delivery", deliveryID)
}

// MaxReplay is how many events one replay of a time range sends at most;
// a larger range is replayed in parts.
const MaxReplay = 1000

// ReplayRange sends again every event queued for the subscription between
// since (included) and until, oldest first, each once, at most MaxReplay.
// It returns how many.
func (s *Service) ReplayRange(ctx context.Context, c gatehouse.Caller, accountID, id string, since, until time.Time) (int, error) {
	var v gatehouse.Validation
	if since.IsZero() {
		v.Check(gatehouse.Invalid("since", "required"))
	}
	if until.IsZero() {
		until = s.Now().Add(time.Microsecond) // everything queued so far, this instant's too
	}
	if !since.IsZero() && !until.After(since) {
		v.Check(gatehouse.Invalid("until", "after since"))
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	return s.replay(ctx, c, accountID, id, func(tx Tx, sub gatehouse.WebhookSubscription) ([]gatehouse.Message, error) {
		return tx.WebhookMessages(ctx, sub.ID, since, until, MaxReplay)
	}, "range", since.UTC().Format(time.RFC3339)+" "+until.UTC().Format(time.RFC3339))
}

func (s *Service) replay(ctx context.Context, c gatehouse.Caller, accountID, id string,
	messages func(Tx, gatehouse.WebhookSubscription) ([]gatehouse.Message, error), what, which string) (int, error) {
	var n int
	err := s.store.Write(ctx, func(tx Tx) error {
		account, sub, err := s.authorized(ctx, tx, c, accountID, id)
		if err != nil {
			return err
		}
		if err := live(sub); err != nil {
			return err
		}
		found, err := messages(tx, sub)
		if err != nil {
			return err
		}
		now := s.Now()
		for _, m := range found {
			// A new message (the outbox keeps one row per sending), with
			// the event's webhook-id and body as they were.
			newID := s.NewID()
			if err := tx.EnqueueMessage(ctx, gatehouse.Message{ID: newID, MessageID: newID, Channel: gatehouse.ChannelWebhook,
				To: sub.ID, Subject: m.Subject, Body: m.Body, CreatedAt: now}); err != nil {
				return err
			}
		}
		n = len(found)
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, account.ID, "webhook.replayed", "webhook_subscription", sub.ID).
			With(what, "", which))
	})
	if err == nil && n > 0 {
		s.MailQueued()
	}
	return n, err
}

// PurgeHistory removes what is kept no longer: the messages delivered or
// given up, and the delivery log's attempts, older than
// gatehouse.WebhookHistoryKept. Several nodes may run it at once.
func (s *Service) PurgeHistory(ctx context.Context) (int, error) {
	var purged int
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		purged, err = tx.PurgeWebhookHistory(ctx, s.Now().Add(-gatehouse.WebhookHistoryKept))
		return err
	})
	return purged, err
}
