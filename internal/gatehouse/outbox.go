package gatehouse

import (
	"context"
	"errors"
	"time"
)

// Message is one e-mail in the durable outbox (R-N1). Its MessageID is fixed
// when it is queued, so a repeat delivery after a crash carries the same id
// and receivers can drop the duplicate.
type Message struct {
	ID string
	// Channel is ChannelEmail (To is an address), ChannelSMS (To is an
	// E.164 number, Body the text; R-N2), ChannelBackchannelLogout (To is
	// an application's back-channel logout URI, Body a BackchannelLogout
	// in JSON, MessageID the logout token's jti) or ChannelWebhook (To is a
	// webhook subscription's id, Subject the webhook-id, Body the Event in
	// JSON).
	Channel   string
	MessageID string
	To        string
	Subject   string
	Body      string // text/plain
	// HTMLLayout is what the same e-mail as HTML is drawn from when it is
	// sent, beside Body, as multipart/alternative (messages.HTMLPart); ""
	// for a plain text message.
	HTMLLayout string
	// FromName and FromAddress are the sender the message's brand gives;
	// empty for the server's own sender.
	FromName, FromAddress string
	// Bulk marks the e-mails of a bulk invitation: while a node writes a
	// bulk, its senders deliver the other messages and leave these to
	// after it (Outbox.ClaimMessagesBesideBulk).
	Bulk      bool
	Attempts  int
	CreatedAt time.Time
}

// QueueMark is a place in the queue of messages, which is in the order of
// their due time, then id. The zero mark is the queue's start.
type QueueMark struct {
	DueAt time.Time
	ID    string
}

// After tells whether m comes after o in the queue.
func (m QueueMark) After(o QueueMark) bool {
	return m.DueAt.After(o.DueAt) || (m.DueAt.Equal(o.DueAt) && m.ID > o.ID)
}

// Outbox channels.
const (
	ChannelEmail             = "email"
	ChannelSMS               = "sms"
	ChannelBackchannelLogout = "backchannel_logout"
	ChannelWebhook           = "webhook"
)

// WebhookRetryFor is how long a webhook message is retried, with back-off,
// before it is given up (parked as failed): three days, so that a
// receiver down over a weekend still gets everything.
const WebhookRetryFor = 72 * time.Hour

// GivesUp tells whether a message that failed at now is given up rather
// than retried: a webhook after WebhookRetryFor, others after maxAttempts.
func GivesUp(m Message, now time.Time, maxAttempts int) bool {
	if m.Channel == ChannelWebhook {
		return now.Sub(m.CreatedAt) >= WebhookRetryFor
	}
	return m.Attempts >= maxAttempts
}

// ErrUndeliverable, wrapped in a sender's error, gives the message up at
// once: retrying cannot help (its webhook subscription was disabled or
// deleted).
var ErrUndeliverable = errors.New("undeliverable")

// BackchannelLogout is the body of a ChannelBackchannelLogout message: the
// application to tell, and the person whose sign-in to it ended. The
// worker has a logout token signed for it when it sends (OpenID Connect
// Back-Channel Logout 1.0).
type BackchannelLogout struct {
	ClientID string `json:"client_id"`
	Subject  string `json:"sub"`
}

// Outbox is the delivery side of the outbox, used by the mail worker.
type Outbox interface {
	// ClaimMessages leases up to limit due messages to owner until
	// now+lease. Two owners never hold the same message at once.
	ClaimMessages(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Message, error)
	// ClaimMessagesFrom is ClaimMessages looking only at the queue from
	// the mark on (all of it for the zero mark); it returns the mark to
	// go on from.
	ClaimMessagesFrom(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, from QueueMark) ([]Message, QueueMark, error)
	// ClaimMessagesBesideBulk is ClaimMessages leaving out the e-mails of
	// bulk invitations (Message.Bulk): what a node sends while it writes a
	// bulk, so that other mail does not wait behind the bulk's.
	ClaimMessagesBesideBulk(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Message, error)
	// MarkMessagesSent records deliveries and empties their bodies; ids
	// whose lease owner has changed are left alone.
	MarkMessagesSent(ctx context.Context, ids []string, owner string, now time.Time) error
	// MarkMessageFailed records a failed attempt: the message is retried at
	// retryAt, or parked as failed when park is true.
	MarkMessageFailed(ctx context.Context, id, owner string, retryAt time.Time, lastError string, park bool) error
	// ReleaseMessages gives claimed messages back untried, their attempt
	// not counted.
	ReleaseMessages(ctx context.Context, ids []string, owner string) error
}
