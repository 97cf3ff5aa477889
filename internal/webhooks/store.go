package webhooks

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
)

// The store as this context sees it. Every method returns ENOTFOUND for a
// missing row; other errors are internal. internal/store implements them
// on SQLite and PostgreSQL; it also queues each event for the matching
// subscriptions, in the change's transaction (InsertAuditEvent).

// Reader is what the webhooks context reads.
type Reader interface {
	kernel.Reader
	WebhookSubscription(ctx context.Context, id string) (gatehouse.WebhookSubscription, error)
	// WebhookSubscriptions lists an account's subscriptions, oldest first.
	WebhookSubscriptions(ctx context.Context, accountID string) ([]gatehouse.WebhookSubscription, error)
	// WebhookDeliveries lists a subscription's attempts, newest first.
	WebhookDeliveries(ctx context.Context, subscriptionID string, p gatehouse.PageRequest) (gatehouse.Page[gatehouse.WebhookDelivery], error)
	WebhookDelivery(ctx context.Context, subscriptionID, id string) (gatehouse.WebhookDelivery, error)
	// WebhookMessage is a message queued for the subscription, sent or not.
	WebhookMessage(ctx context.Context, subscriptionID, id string) (gatehouse.Message, error)
	// WebhookMessages are the messages queued for the subscription in
	// [since, until), oldest first, each webhook-id once, at most limit.
	WebhookMessages(ctx context.Context, subscriptionID string, since, until time.Time, limit int) ([]gatehouse.Message, error)
	// AccountAdministrators lists the active administrators of an account
	// with the address and language their mail goes to.
	AccountAdministrators(ctx context.Context, accountID string) ([]gatehouse.NotificationRecipient, error)
}

// Tx is the transaction the webhooks context writes in.
type Tx interface {
	Reader
	kernel.Writer
	InsertWebhookSubscription(ctx context.Context, s gatehouse.WebhookSubscription) error
	// DeleteWebhookSubscription removes a subscription, its delivery log
	// and the messages still waiting for it.
	DeleteWebhookSubscription(ctx context.Context, id string) error
	RotateWebhookSecret(ctx context.Context, id, sealed, previousSealed string, previousUntil time.Time) error
	// WebhookFailed records a failure at now and returns since when the
	// subscription has been failing without a delivery.
	WebhookFailed(ctx context.Context, id string, now time.Time) (time.Time, error)
	WebhookSucceeded(ctx context.Context, id string) error
	// DisableWebhookSubscription stops deliveries and gives up the
	// messages waiting, but deliveringID; ENOTFOUND if disabled already.
	DisableWebhookSubscription(ctx context.Context, id, deliveringID string, now time.Time) error
	InsertWebhookDelivery(ctx context.Context, d gatehouse.WebhookDelivery) error
	// MarkMessagesSent records an outbox batch sent, as the outbox worker
	// would (gatehouse.Outbox), in the transaction of its delivery log.
	MarkMessagesSent(ctx context.Context, ids []string, owner string, now time.Time) error
	// EnableWebhookSubscription takes a disabled subscription back into
	// service, its run of failures forgotten.
	EnableWebhookSubscription(ctx context.Context, id string) error
	// PurgeWebhookHistory removes the messages delivered or given up that
	// were queued before before, and the attempts logged before it.
	PurgeWebhookHistory(ctx context.Context, before time.Time) (int, error)
}

// Store is the store as the webhooks context sees it.
type Store interface {
	Reader
	// Write runs fn in one write transaction and commits when fn returns nil.
	Write(ctx context.Context, fn func(Tx) error) error
}
