package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
)

// Sign is the webhook-signature of a delivery under one secret: "v1,"
// then the base64 HMAC-SHA256, keyed by the secret's bytes, of
// "{webhook-id}.{webhook-timestamp}.{body}".
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", fmt.Errorf("a webhook secret that is not base64: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// responseLimit is how much of an answer is read: enough for an error
// message, and a receiver cannot make Gatehouse read without end.
const responseLimit = 4 << 10

// Send delivers one webhook message (the outbox worker's Sender for
// gatehouse.ChannelWebhook): it POSTs the event to the subscription's
// address as it is now, signed with its secrets as they are now, and
// records the attempt in the delivery log. A 2xx answer is a delivery;
// anything else, a redirect included, is an error the worker retries.
// After a day of failures without a delivery the subscription is
// disabled, and its account's administrators are mailed, in the same
// transaction.
func (s *Service) Send(ctx context.Context, m gatehouse.Message) error {
	sub, err := s.store.WebhookSubscription(ctx, m.To)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		return fmt.Errorf("%w: the webhook subscription was deleted", gatehouse.ErrUndeliverable)
	} else if err != nil {
		return err
	}
	if !sub.DisabledAt.IsZero() {
		return fmt.Errorf("%w: the webhook subscription is disabled", gatehouse.ErrUndeliverable)
	}
	var event struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal([]byte(m.Body), &event)
	d := gatehouse.WebhookDelivery{ID: s.NewID(), SubscriptionID: sub.ID, MessageID: m.ID, EventID: m.Subject, EventType: event.Type,
		Attempt: m.Attempts}
	sendErr := s.post(ctx, sub, m, &d)
	return s.record(ctx, sub, m, d, sendErr)
}

// post sends the request and fills in the attempt's outcome.
func (s *Service) post(ctx context.Context, sub gatehouse.WebhookSubscription, m gatehouse.Message, d *gatehouse.WebhookDelivery) error {
	// The address is checked again: the operator may have taken back the
	// permission to reach this machine since it was subscribed.
	if _, err := ValidateURL(sub.URL, s.allowLoopback); err != nil {
		return fmt.Errorf("%w: %s", gatehouse.ErrUndeliverable, err.Error())
	}
	now := s.Clock.Now()
	timestamp := now.Unix()
	signatures, err := s.signatures(sub, m.Subject, timestamp, []byte(m.Body), now)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader([]byte(m.Body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse-Webhooks")
	req.Header.Set("webhook-id", m.Subject)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(timestamp, 10))
	req.Header.Set("webhook-signature", signatures)
	started := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		d.Latency = time.Since(started)
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, responseLimit))
	d.Latency = time.Since(started)
	d.ResponseCode = resp.StatusCode
	d.ResponseExcerpt = excerpt(answer)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			return fmt.Errorf("the receiver answered %s (redirects are not followed: subscribe the final address)", resp.Status)
		}
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}

// signatures are the webhook-signature header: the current secret's, and
// while it is valid the previous one's, space-separated, so that a
// receiver holding either accepts the delivery.
func (s *Service) signatures(sub gatehouse.WebhookSubscription, id string, timestamp int64, body []byte, now time.Time) (string, error) {
	secret, err := s.Box.Open(sub.SecretSealed, SealContext(sub.ID))
	if err != nil {
		return "", err
	}
	signature, err := Sign(secret, id, timestamp, body)
	if err != nil {
		return "", err
	}
	if sub.PreviousSecretSealed == "" || !now.Before(sub.PreviousSecretUntil) {
		return signature, nil
	}
	previous, err := s.Box.Open(sub.PreviousSecretSealed, SealContext(sub.ID))
	if err != nil {
		return "", err
	}
	old, err := Sign(previous, id, timestamp, body)
	if err != nil {
		return "", err
	}
	return signature + " " + old, nil
}

// excerpt keeps the start of an answer, as valid text without NUL (which
// PostgreSQL's text refuses), at most gatehouse.WebhookExcerptBytes.
func excerpt(b []byte) string {
	if len(b) > gatehouse.WebhookExcerptBytes {
		b = b[:gatehouse.WebhookExcerptBytes]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1] // a character cut in two
		}
	}
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "")
}

// deliveredMessage is a delivery waiting to be written in the log.
type deliveredMessage struct {
	subscriptionID string
	delivery       gatehouse.WebhookDelivery
}

// RecordSent writes the deliveries sent since it last wrote them in the
// delivery log, ends their subscriptions' runs of failures, and records
// the outbox batch ids sent by owner, in one transaction: one commit where
// a log written first and a batch recorded after would take two (the
// outbox worker's SentRecorder). If no delivery waits, it records nothing
// and says so, for the worker to record the batch itself. If it fails,
// the deliveries wait for the next try; the messages stay claimed, and
// are delivered again after their lease, with the same webhook-id, unless
// a try succeeds first.
func (s *Service) RecordSent(ctx context.Context, ids []string, owner string, now time.Time) (bool, error) {
	s.writing.Lock()
	defer s.writing.Unlock()
	s.mu.Lock()
	pending := s.delivered
	s.delivered = nil
	s.mu.Unlock()
	if len(pending) == 0 {
		return false, nil
	}
	err := s.store.Write(ctx, func(tx Tx) error {
		if err := writeDelivered(ctx, tx, pending); err != nil {
			return err
		}
		return tx.MarkMessagesSent(ctx, ids, owner, now)
	})
	if err != nil {
		s.mu.Lock()
		s.delivered = append(pending, s.delivered...)
		s.mu.Unlock()
	}
	return true, err
}

// writeDelivered writes deliveries in the log, each subscription's run of
// failures ended once.
func writeDelivered(ctx context.Context, tx Tx, pending []deliveredMessage) error {
	succeeded := map[string]bool{}
	for _, p := range pending {
		if !succeeded[p.subscriptionID] {
			succeeded[p.subscriptionID] = true
			if err := tx.WebhookSucceeded(ctx, p.subscriptionID); err != nil {
				return err
			}
		}
		if err := tx.InsertWebhookDelivery(ctx, p.delivery); err != nil {
			return err
		}
	}
	return nil
}

// record writes the attempt in the delivery log and the subscription's
// run of failures; it returns sendErr, for the worker to retry. A delivery
// waits for RecordSent; a failure is written at once, after the deliveries
// still waiting, so that the log and the run of failures keep their order.
func (s *Service) record(ctx context.Context, sub gatehouse.WebhookSubscription, m gatehouse.Message, d gatehouse.WebhookDelivery, sendErr error) error {
	if sendErr == nil {
		d.At, d.Status = s.Now(), gatehouse.WebhookDelivered
		s.mu.Lock()
		s.delivered = append(s.delivered, deliveredMessage{subscriptionID: sub.ID, delivery: d})
		s.mu.Unlock()
		return nil
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	s.mu.Lock()
	pending := s.delivered
	s.delivered = nil
	s.mu.Unlock()
	mailed, result := false, sendErr
	err := s.store.Write(ctx, func(tx Tx) error {
		now := s.Now()
		mailed, result = false, sendErr
		if err := writeDelivered(ctx, tx, pending); err != nil {
			return err
		}
		d.At = now
		d.Error = truncate(sendErr.Error(), 500)
		d.Status = gatehouse.WebhookPending
		if gatehouse.GivesUp(m, now, 0) || errors.Is(sendErr, gatehouse.ErrUndeliverable) {
			d.Status = gatehouse.WebhookFailed
		}
		since, err := tx.WebhookFailed(ctx, sub.ID, now)
		if err != nil {
			return err
		}
		if now.Sub(since) < gatehouse.WebhookDisableAfter {
			return tx.InsertWebhookDelivery(ctx, d)
		}
		err = tx.DisableWebhookSubscription(ctx, sub.ID, m.ID, now)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			return tx.InsertWebhookDelivery(ctx, d) // another node disabled it meanwhile
		} else if err != nil {
			return err
		}
		result = fmt.Errorf("%w: %w; the subscription failed for a day and was disabled", gatehouse.ErrUndeliverable, sendErr)
		d.Status, d.Error = gatehouse.WebhookFailed, truncate(result.Error(), 500)
		if err := tx.InsertWebhookDelivery(ctx, d); err != nil {
			return err
		}
		account, err := tx.Account(ctx, sub.AccountID)
		if err != nil {
			return err
		}
		admins, err := tx.AccountAdministrators(ctx, sub.AccountID)
		if err != nil {
			return err
		}
		for _, a := range admins {
			if err := s.QueueMail(ctx, tx, now, kernel.MailScope{AccountID: sub.AccountID}, a.Address, a.Language, messages.WebhookDisabled, messages.Data{FirstName: a.FirstName,
				AccountName: account.Name, Text: sub.URL}); err != nil {
				return err
			}
			mailed = true
		}
		return tx.InsertAuditEvent(ctx, s.SystemAudit(now, sub.AccountID, "webhook.disabled", "webhook_subscription", sub.ID).
			With("failing_since", "", since.Format(time.RFC3339)))
	})
	if mailed {
		s.MailQueued()
	}
	if err != nil {
		s.mu.Lock()
		s.delivered = append(pending, s.delivered...) // for the next RecordSent
		s.mu.Unlock()
		return errors.Join(result, fmt.Errorf("record the webhook delivery: %w", err))
	}
	return result
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
