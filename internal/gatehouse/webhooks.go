package gatehouse

import "time"

// WebhookSubscription is an https endpoint an account's administrators
// subscribed to some of its events (docs/events.md#webhooks). An
// integrator's subscription receives its clients' events too.
type WebhookSubscription struct {
	ID        string
	AccountID string
	URL       string
	// EventTypes are patterns: a type, a family ("member.*") or "*"
	// (EventTypeMatches).
	EventTypes  []string
	Description string
	// SecretSealed signs every delivery; PreviousSecretSealed, after a
	// rotation, signs too until PreviousSecretUntil, so that receivers
	// switch without losing a delivery.
	SecretSealed         string
	PreviousSecretSealed string
	PreviousSecretUntil  time.Time
	CreatedBy            string
	CreatedAt            time.Time
	// DisabledAt is set once the subscription failed for
	// WebhookDisableAfter: nothing is sent to it any more.
	DisabledAt time.Time
	// FailingSince is the first failure of the current run of failures,
	// zero while deliveries succeed.
	FailingSince time.Time
}

// WebhookDisableAfter is how long a subscription may fail without a single
// delivery before it is disabled and its account's administrators told.
const WebhookDisableAfter = 24 * time.Hour

// WebhookHistoryKept is how long a webhook message that was delivered or
// given up (what a replay sends again) and each attempt in the delivery
// log are kept; the hourly purge removes them after that. The events
// themselves stay in the feed.
const WebhookHistoryKept = 30 * 24 * time.Hour

// WebhookSecretGrace is how long the previous secret keeps signing after a
// rotation.
const WebhookSecretGrace = 24 * time.Hour

// Matches tells whether the subscription takes events of this type.
func (s WebhookSubscription) Matches(eventType string) bool {
	for _, p := range s.EventTypes {
		if EventTypeMatches(p, eventType) {
			return true
		}
	}
	return false
}

// Webhook delivery statuses.
const (
	WebhookDelivered = "delivered"
	// WebhookPending is a failed attempt that will be retried.
	WebhookPending = "pending"
	// WebhookFailed is a failed attempt after which the message is given up.
	WebhookFailed = "failed"
)

// WebhookDelivery is one attempt to deliver a message to a subscription.
type WebhookDelivery struct {
	ID             string
	SubscriptionID string
	// MessageID is the outbox message; a replay is a new message.
	MessageID string
	// EventID is the webhook-id sent: the same at every attempt and replay.
	EventID      string
	EventType    string
	Attempt      int
	Status       string
	ResponseCode int
	Latency      time.Duration
	// ResponseExcerpt is at most WebhookExcerptBytes of the answer.
	ResponseExcerpt string
	Error           string
	At              time.Time
}

// WebhookExcerptBytes is how much of a receiver's answer is kept.
const WebhookExcerptBytes = 512

// WebhookPingType is the type of the test event a ping sends; it is no
// change, so the feed never has it.
const WebhookPingType = "webhook.ping"
