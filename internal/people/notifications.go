package people

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Limits of a notification's text: a subject is one line; the text of an
// SMS is cut to fit in a few segments.
const (
	maxNoticeSubject  = 200
	maxNoticeText     = 4000
	maxNoticeSMSRunes = 320
	maxIdempotencyKey = 200
)

// Notice is a notification a platform service sends to an account.
type Notice struct {
	Subject string
	Text    string
	// IdempotencyKey, when set, makes a retried request send nothing
	// more: the first one's outcome is answered.
	IdempotencyKey string
}

// NoticeResult says how many e-mails and texts a notification queued.
type NoticeResult struct {
	ID          string
	Emails, SMS int
	// Repeated is true when the key was used before and nothing was sent.
	Repeated bool
}

// NotifyAccount fans a notification out to the active members of the account
// who enabled external notifications, by the media each chose (R-N3): one
// e-mail to the membership's notification address, one text to the
// identity's phone (members without a phone get no text). Everything is
// queued in the outbox in one transaction with the audit event (R-N1).
func (s *Service) NotifyAccount(ctx context.Context, c gatehouse.Caller, accountID string, n Notice) (NoticeResult, error) {
	subject := strings.Join(strings.Fields(n.Subject), " ")
	text := strings.TrimSpace(n.Text)
	switch {
	case subject == "" || len(subject) > maxNoticeSubject:
		return NoticeResult{}, gatehouse.Invalid("subject", "subject is required, at most %d bytes", maxNoticeSubject)
	case text == "" || len(text) > maxNoticeText:
		return NoticeResult{}, gatehouse.Invalid("message", "message is required, at most %d bytes", maxNoticeText)
	case len(n.IdempotencyKey) > maxIdempotencyKey:
		return NoticeResult{}, gatehouse.Invalid("idempotency_key", "idempotency key is at most %d bytes", maxIdempotencyKey)
	}
	var result NoticeResult
	err := s.noticesStore.Write(ctx, func(tx NoticesTx) error {
		result = NoticeResult{}
		account, err := s.Authorize(ctx, tx, c, accountID, policy.Notify)
		if err != nil {
			return err
		}
		if n.IdempotencyKey != "" {
			if prior, err := tx.AccountNotificationByKey(ctx, accountID, n.IdempotencyKey); err == nil {
				result = NoticeResult{ID: prior.ID, Emails: prior.Emails, SMS: prior.SMS, Repeated: true}
				return nil
			} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
		}
		recipients, err := tx.NotificationRecipients(ctx, accountID, s.Now())
		if err != nil {
			return err
		}
		now := s.Now()
		data := messages.Data{AccountName: account.Name, Subject: subject, Text: text}
		// One brand for every recipient: the account's, read once.
		brand, err := s.MailBrand(ctx, tx, kernel.MailScope{AccountID: accountID})
		if err != nil {
			return err
		}
		for _, r := range recipients {
			if r.Notifications.Email && r.Address != "" {
				m, err := s.BrandedMail(now, brand, r.Address, r.Language, messages.AccountNotice, data)
				if err != nil {
					return err
				}
				if err := tx.EnqueueMessage(ctx, m); err != nil {
					return err
				}
				result.Emails++
			}
			if r.SMS && r.Phone != "" {
				if err := s.QueueSMS(ctx, tx, now, r.Phone, r.Language, messages.AccountNoticeSMS, messages.Data{AccountName: account.Name,
					Subject: subject, Text: cutRunes(text, maxNoticeSMSRunes)}); err != nil {
					return err
				}
				result.SMS++
			}
		}
		result.ID = s.NewID()
		key := n.IdempotencyKey
		if key == "" {
			key = result.ID
		}
		// Two requests with one key at once: the second insert conflicts,
		// its transaction rolls back, and it is answered as a repeat.
		if err := tx.InsertAccountNotification(ctx, gatehouse.AccountNotification{ID: result.ID, AccountID: accountID,
			IdempotencyKey: key, Emails: result.Emails, SMS: result.SMS, CreatedBy: c.Principal.ActorID(), CreatedAt: now}); err != nil {
			return err
		}
		return tx.InsertAuditEvent(ctx, s.Audit(c, now, accountID, "account.notified", "notification", result.ID))
	})
	if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT && n.IdempotencyKey != "" {
		prior, err := s.noticesStore.AccountNotificationByKey(ctx, accountID, n.IdempotencyKey)
		return NoticeResult{ID: prior.ID, Emails: prior.Emails, SMS: prior.SMS, Repeated: true}, err
	}
	if err == nil && result.Emails+result.SMS > 0 && !result.Repeated {
		s.MailQueued()
	}
	return result, err
}

// cutRunes keeps at most n runes of s, marking a cut with an ellipsis.
func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
