// Package kernel is what every bounded context of Gatehouse shares: the
// store, the clock and ids of one use case, the audit event every change
// writes, the e-mail and SMS queued in the change's own transaction, the
// tools that hash and seal secrets, and the way a use case asks the policy
// (internal/policy) whether the caller may act. It holds no rule of any
// context.
package kernel

import (
	"context"
	"crypto/rand"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/password"
	"github.com/gatehouse/gatehouse/internal/secretbox"
)

// Kernel is embedded in each context's Service.
type Kernel struct {
	Clock gatehouse.Clock
	// NewID makes the id of a new row or message.
	NewID func() string
	// MailQueued wakes the delivery worker after a change queued a message.
	MailQueued func()
	// Hasher hashes and verifies passwords, a bounded number at a time.
	Hasher *password.Hasher
	// Box seals the secrets that must be read again (authenticator keys,
	// providers' client secrets, remote monitoring passwords).
	Box *secretbox.Box
	// Sleep waits for d or until ctx ends; tests record instead of waiting.
	Sleep func(ctx context.Context, d time.Duration)

	publicURL  string
	mailDomain string
}

// Options configures a Kernel. Zero values pick the production defaults.
type Options struct {
	Clock gatehouse.Clock
	NewID func() string
	// PublicURL is the base of every link in e-mails; never a request's Host.
	PublicURL string
	// MailQueued, if set, is called after a change queued e-mail.
	MailQueued func()
	// PasswordParams are argon2id's costs (default password.DefaultParams);
	// tests lower them.
	PasswordParams password.Params
	// SecretKey seals the secrets that must be read again; 32 bytes.
	// Default: a random key, good for one process only.
	SecretKey []byte
	// PreviousSecretKey, while the server key is replaced, opens what the
	// key before it sealed; nothing is sealed with it.
	PreviousSecretKey []byte
	// Sleep waits for d or until ctx ends (default: really).
	Sleep func(ctx context.Context, d time.Duration)
}

// New returns the kernel.
func New(opts Options) *Kernel {
	k := &Kernel{Clock: opts.Clock, NewID: opts.NewID, MailQueued: opts.MailQueued, Sleep: opts.Sleep}
	k.publicURL = strings.TrimRight(opts.PublicURL, "/")
	if k.publicURL == "" {
		k.publicURL = "http://127.0.0.1:8080"
	}
	k.mailDomain = "gatehouse.invalid"
	if u, err := url.Parse(k.publicURL); err == nil && u.Hostname() != "" {
		k.mailDomain = u.Hostname()
	}
	params := opts.PasswordParams
	if params == (password.Params{}) {
		params = password.DefaultParams
	}
	// One hash at a time per core: more would only queue inside the CPU and
	// multiply the memory held (19 MiB each).
	k.Hasher = password.NewHasher(params, runtime.GOMAXPROCS(0))
	key := opts.SecretKey
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	var previous [][]byte
	if opts.PreviousSecretKey != nil {
		previous = append(previous, opts.PreviousSecretKey)
	}
	box, err := secretbox.New(key, previous...)
	if err != nil {
		panic(err) // a key of the wrong size is a wiring mistake
	}
	k.Box = box
	if k.Sleep == nil {
		k.Sleep = sleep
	}
	if k.MailQueued == nil {
		k.MailQueued = func() {}
	}
	if k.Clock == nil {
		k.Clock = gatehouse.SystemClock{}
	}
	if k.NewID == nil {
		k.NewID = NewID
	}
	return k
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// NewID returns a time-ordered unique id (UUIDv7), so that sorting by id is
// sorting by creation.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Now is the single clock reading of one use case; times are stored to the
// microsecond, so they are truncated here to compare equal after a round
// trip. Pages judge expiry by it, as the API does.
func (k *Kernel) Now() time.Time { return k.Clock.Now().UTC().Truncate(time.Microsecond) }

// PublicURL is the base of every link Gatehouse gives out.
func (k *Kernel) PublicURL() string { return k.publicURL }

// ActivationLink is the link of an invitation e-mail.
func (k *Kernel) ActivationLink(secret string) string {
	return k.publicURL + "/activate?token=" + url.QueryEscape(secret)
}

// Audit builds the audit event of a change made by caller.
func (k *Kernel) Audit(c gatehouse.Caller, at time.Time, accountID, action, targetType, targetID string) gatehouse.AuditEvent {
	return gatehouse.AuditEvent{
		ID: k.NewID(), AccountID: accountID, At: at, ActorID: c.Principal.ActorID(),
		Action: action, TargetType: targetType, TargetID: targetID, IP: c.IP, RequestID: c.RequestID,
	}
}

// AuditPerson writes the audit event of a change to a person's identity
// (sessions ended, password or second factor reset) platform-wide, and once
// more in each account they belong to: each account's log shows it, and
// each account's readers of events learn it.
func (k *Kernel) AuditPerson(ctx context.Context, tx interface {
	Writer
	MembershipsOf(ctx context.Context, userID string, now time.Time) ([]gatehouse.MembershipSummary, error)
}, e gatehouse.AuditEvent, userID string) error {
	e.UserID = userID
	if err := tx.InsertAuditEvent(ctx, e); err != nil {
		return err
	}
	memberships, err := tx.MembershipsOf(ctx, userID, e.At)
	if err != nil {
		return err
	}
	for _, m := range memberships {
		in := e
		in.ID, in.AccountID = k.NewID(), m.AccountID
		if err := tx.InsertAuditEvent(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

// SystemAudit builds the audit event of a change Gatehouse made by itself
// (access that ended): its actor is gatehouse.SystemActor, from no address
// and no request.
func (k *Kernel) SystemAudit(at time.Time, accountID, action, targetType, targetID string) gatehouse.AuditEvent {
	e := k.Audit(gatehouse.Caller{}, at, accountID, action, targetType, targetID)
	e.ActorID = gatehouse.SystemActor
	return e
}

// MailTx is a transaction that queues e-mail: it reads the brand the
// message wears, and writes the message.
type MailTx interface {
	Reader
	Writer
}

// QueueMail renders an e-mail in the recipient's language, as the brand of
// scope shows it, and queues it in the transaction tx, with a Message-ID
// fixed now.
func (k *Kernel) QueueMail(ctx context.Context, tx MailTx, now time.Time, scope MailScope, to, lang, kind string, data messages.Data) error {
	b, err := k.MailBrand(ctx, tx, scope)
	if err != nil {
		return err
	}
	m, err := k.BrandedMail(now, b, to, lang, kind, data)
	if err != nil {
		return err
	}
	return tx.EnqueueMessage(ctx, m)
}

// QueueSMS renders a text in the recipient's language and queues it in the
// transaction tx, on the SMS channel (only its body is sent).
func (k *Kernel) QueueSMS(ctx context.Context, tx Writer, now time.Time, phone, lang, kind string, data messages.Data) error {
	m, err := k.Mail(now, phone, lang, kind, data)
	if err != nil {
		return err
	}
	m.Channel, m.Subject = gatehouse.ChannelSMS, ""
	return tx.EnqueueMessage(ctx, m)
}

// Mail renders a message in the recipient's language, with its Message-ID,
// as plain text without a brand: texts by SMS.
func (k *Kernel) Mail(now time.Time, to, lang, kind string, data messages.Data) (gatehouse.Message, error) {
	subject, body, err := messages.Render(lang, kind, data)
	if err != nil {
		return gatehouse.Message{}, err
	}
	id := k.NewID()
	return gatehouse.Message{ID: id, MessageID: id + "@" + k.mailDomain, To: to, Subject: subject, Body: body, CreatedAt: now}, nil
}

// UserReader reads one identity.
type UserReader interface {
	User(ctx context.Context, id string) (gatehouse.User, error)
}

// RequesterName names the caller in a message to a person about a change
// someone made to them: the caller's name and username, or that an operator
// did it.
func (k *Kernel) RequesterName(ctx context.Context, r UserReader, c gatehouse.Caller, lang string) (string, error) {
	if c.Principal.SCIMTokenID != "" {
		if lang == "fr" {
			return "L'annuaire de votre organisation", nil
		}
		return "Your organisation's directory", nil
	}
	if c.Principal.UserID == "" {
		if lang == "fr" {
			return "Un opérateur de la plateforme", nil
		}
		return "An operator of the platform", nil
	}
	who, err := r.User(ctx, c.Principal.UserID)
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(who.FirstName + " " + who.LastName)
	if name == "" {
		return who.Username, nil
	}
	return name + " (" + who.Username + ")", nil
}
