package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Channels sends each message by its channel: e-mail, SMS (R-N2), a
// back-channel logout to an application, or a webhook.
type Channels struct {
	Email             Sender
	SMS               Sender
	BackchannelLogout Sender
	// Webhook posts events to webhook subscriptions (internal/webhooks).
	Webhook Sender
}

func (c Channels) Send(ctx context.Context, m gatehouse.Message) error {
	switch m.Channel {
	case gatehouse.ChannelSMS:
		return c.SMS.Send(ctx, m)
	case gatehouse.ChannelBackchannelLogout:
		if c.BackchannelLogout == nil {
			return errors.New("this node sends no back-channel logout")
		}
		return c.BackchannelLogout.Send(ctx, m)
	case gatehouse.ChannelWebhook:
		if c.Webhook == nil {
			return errors.New("this node sends no webhook")
		}
		return c.Webhook.Send(ctx, m)
	}
	return c.Email.Send(ctx, m)
}

// Flush flushes the senders that need it.
func (c Channels) Flush() error {
	var errs []error
	for _, s := range []Sender{c.Email, c.SMS, c.Webhook} {
		if f, ok := s.(Flusher); ok {
			errs = append(errs, f.Flush())
		}
	}
	return errors.Join(errs...)
}

// RecordSent lets the webhook sender record a batch sent with its
// delivery log (SentRecorder).
func (c Channels) RecordSent(ctx context.Context, ids []string, owner string, now time.Time) (bool, error) {
	if r, ok := c.Webhook.(SentRecorder); ok {
		return r.RecordSent(ctx, ids, owner, now)
	}
	return false, nil
}

// SMSFileSender writes each text to <dir>/<message id>.txt: the E.164 number
// on the first line, then the text (docs/operations.md). Like FileSender,
// atomically, and durable at Flush.
type SMSFileSender struct{ Dir string }

func (s SMSFileSender) Send(ctx context.Context, m gatehouse.Message) error {
	return writeAtomically(s.Dir, fileName(m.MessageID)+".txt", func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s\n%s\n", m.To, m.Body)
		return err
	})
}

func (s SMSFileSender) Flush() error { return syncDir(s.Dir) }

// SMSHTTPSender posts each text as JSON to an SMS gateway:
//
//	POST <url>
//	Authorization: Bearer <token>
//	Idempotency-Key: <message id>
//	{"id":"<message id>","to":"+15145550100","text":"…"}
//
// Any 2xx answer is a delivery; anything else is retried with back-off. The
// id is the same at every retry, so a gateway can drop a repeat.
type SMSHTTPSender struct {
	URL    string
	Token  string
	Client *http.Client
}

// NewSMSHTTPSender checks the gateway's URL.
func NewSMSHTTPSender(rawURL, token string) (*SMSHTTPSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("SMS URL must be an http:// or https:// URL")
	}
	return &SMSHTTPSender{URL: rawURL, Token: token, Client: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (s *SMSHTTPSender) Send(ctx context.Context, m gatehouse.Message) error {
	body, err := json.Marshal(map[string]string{"id": m.MessageID, "to": m.To, "text": m.Body})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.MessageID)
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("SMS gateway answered %s", resp.Status)
	}
	return nil
}
