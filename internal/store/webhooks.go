package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// liveSubscription is true for an account a with a live webhook
// subscription, its own or its integrator's.
const liveSubscription = `EXISTS (SELECT 1 FROM webhook_subscriptions w WHERE w.account_id IN (a.id, a.integrator_id) AND w.disabled_at IS NULL)`

// subscriptionsChanged forgets what LockAccounts read of the accounts'
// subscriptions: a change to them in the same transaction must reach the
// batch written after it.
func (t *tx) subscriptionsChanged() { t.subscribed = nil }

// subscribedAccounts tells which of a batch's accounts have a live
// subscription, their own or their integrator's: one indexed read for the
// whole batch, found empty on most platforms, so that only the events of
// those accounts pay fanOutEvent's read of their subscriptions. Accounts
// whose answer LockAccounts already read in this transaction are not asked
// again.
func (t *tx) subscribedAccounts(ctx context.Context, accountIDs []string, subscribed map[string]bool) error {
	var unknown []string
	for _, id := range accountIDs {
		if known, ok := t.subscribed[id]; ok {
			subscribed[id] = known
		} else {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	var args argList
	return t.each(ctx, `SELECT a.id FROM accounts a WHERE a.id `+t.oneOf(&args, unknown)+` AND `+liveSubscription,
		args, func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			subscribed[id] = true
			return nil
		})
}

// fanOutEvent queues the event for every live webhook subscription of its
// account and of that account's integrator whose patterns take its type,
// in the change's own transaction: a delivery exists exactly when its
// change committed. The outbox id (and Message-ID) is the event's id and
// the subscription's, so the lane of a subscription sorts by event; the
// webhook-id (Subject) is the event's id, the same in every delivery.
func (t *tx) fanOutEvent(ctx context.Context, e gatehouse.AuditEvent, eventType, userID string) error {
	rows, err := t.q.QueryContext(ctx, `SELECT id, event_types FROM webhook_subscriptions
		WHERE account_id IN ($1, (SELECT integrator_id FROM accounts WHERE id = $1)) AND disabled_at IS NULL`, e.AccountID)
	if err != nil {
		return mapErr(err)
	}
	type target struct{ id, types string }
	var targets []target
	for rows.Next() {
		var s target
		if err := rows.Scan(&s.id, &s.types); err != nil {
			rows.Close()
			return err
		}
		targets = append(targets, s)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	var body []byte
	for _, s := range targets {
		sub := gatehouse.WebhookSubscription{EventTypes: strings.Fields(s.types)}
		if !sub.Matches(eventType) {
			continue
		}
		if body == nil {
			e.UserID = userID
			event, _ := gatehouse.EventOf(e)
			if body, err = json.Marshal(event); err != nil {
				return err
			}
		}
		id := e.ID + ":" + s.id
		if err := t.EnqueueMessage(ctx, gatehouse.Message{ID: id, MessageID: id, Channel: gatehouse.ChannelWebhook, To: s.id,
			Subject: e.ID, Body: string(body), CreatedAt: e.At}); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) InsertWebhookSubscription(ctx context.Context, s gatehouse.WebhookSubscription) error {
	t.subscriptionsChanged()
	_, err := t.q.ExecContext(ctx, `INSERT INTO webhook_subscriptions (id, account_id, url, event_types, description, secret_sealed,
		created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		s.ID, s.AccountID, s.URL, strings.Join(s.EventTypes, " "), s.Description, s.SecretSealed, s.CreatedBy, micros(s.CreatedAt))
	return mapErr(err)
}

const webhookColumns = `id, account_id, url, event_types, description, secret_sealed, previous_secret_sealed, previous_secret_until,
	created_by, created_at, disabled_at, failing_since`

func scanWebhook(row interface{ Scan(...any) error }) (gatehouse.WebhookSubscription, error) {
	var (
		s                             gatehouse.WebhookSubscription
		types                         string
		previous                      sql.NullString
		createdAt                     int64
		previousUntil, disabled, fail sql.NullInt64
	)
	err := row.Scan(&s.ID, &s.AccountID, &s.URL, &types, &s.Description, &s.SecretSealed, &previous, &previousUntil,
		&s.CreatedBy, &createdAt, &disabled, &fail)
	s.EventTypes = strings.Fields(types)
	s.PreviousSecretSealed, s.PreviousSecretUntil = previous.String, fromNullMicros(previousUntil)
	s.CreatedAt, s.DisabledAt, s.FailingSince = fromMicros(createdAt), fromNullMicros(disabled), fromNullMicros(fail)
	return s, err
}

// WebhookSubscription returns a subscription by id, or ENOTFOUND.
func (r reader) WebhookSubscription(ctx context.Context, id string) (gatehouse.WebhookSubscription, error) {
	s, err := scanWebhook(r.q.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhook_subscriptions WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return s, gatehouse.NotFound("webhook subscription")
	}
	return s, mapErr(err)
}

// WebhookSubscriptions lists an account's subscriptions, oldest first.
func (r reader) WebhookSubscriptions(ctx context.Context, accountID string) ([]gatehouse.WebhookSubscription, error) {
	var out []gatehouse.WebhookSubscription
	err := r.each(ctx, `SELECT `+webhookColumns+` FROM webhook_subscriptions WHERE account_id = $1 ORDER BY id`, []any{accountID},
		func(rows *sql.Rows) error {
			s, err := scanWebhook(rows)
			out = append(out, s)
			return err
		})
	return out, err
}

// DeleteWebhookSubscription removes a subscription, its delivery log and
// the messages still waiting for it.
func (t *tx) DeleteWebhookSubscription(ctx context.Context, id string) error {
	t.subscriptionsChanged()
	if _, err := t.q.ExecContext(ctx, `DELETE FROM outbox WHERE channel = 'webhook' AND recipient = $1 AND status = 'queued'`, id); err != nil {
		return mapErr(err)
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE subscription_id = $1`, id); err != nil {
		return mapErr(err)
	}
	return t.guarded(ctx, "webhook subscription", `DELETE FROM webhook_subscriptions WHERE id = $1`, id)
}

// RotateWebhookSecret makes sealed the subscription's secret; the one it
// replaces keeps signing until previousUntil.
func (t *tx) RotateWebhookSecret(ctx context.Context, id, sealed, previousSealed string, previousUntil time.Time) error {
	return t.guarded(ctx, "webhook subscription", `UPDATE webhook_subscriptions SET secret_sealed = $2, previous_secret_sealed = $3,
		previous_secret_until = $4 WHERE id = $1`, id, sealed, previousSealed, micros(previousUntil))
}

// WebhookFailed records a failed attempt at now and returns since when
// the subscription has been failing.
func (t *tx) WebhookFailed(ctx context.Context, id string, now time.Time) (time.Time, error) {
	var since int64
	err := t.q.QueryRowContext(ctx, `UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, $2) WHERE id = $1
		RETURNING failing_since`, id, micros(now)).Scan(&since)
	if err == sql.ErrNoRows {
		return time.Time{}, gatehouse.NotFound("webhook subscription")
	}
	return fromMicros(since), mapErr(err)
}

// WebhookSucceeded ends the subscription's run of failures.
func (t *tx) WebhookSucceeded(ctx context.Context, id string) error {
	_, err := t.q.ExecContext(ctx, `UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, id)
	return mapErr(err)
}

// DisableWebhookSubscription stops deliveries to a subscription, and gives
// up the messages still waiting for it but the one being delivered
// (its sender gives it up). ENOTFOUND when it is disabled already.
func (t *tx) DisableWebhookSubscription(ctx context.Context, id, deliveringID string, now time.Time) error {
	t.subscriptionsChanged()
	if err := t.guarded(ctx, "webhook subscription", `UPDATE webhook_subscriptions SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL`,
		id, micros(now)); err != nil {
		return err
	}
	_, err := t.q.ExecContext(ctx, `UPDATE outbox SET status = 'failed', last_error = 'the webhook subscription was disabled'
		WHERE channel = 'webhook' AND recipient = $1 AND status = 'queued' AND id <> $2`, id, deliveringID)
	return mapErr(err)
}

// EnableWebhookSubscription takes a disabled subscription back into
// service, its run of failures forgotten; a live one is left as it is.
func (t *tx) EnableWebhookSubscription(ctx context.Context, id string) error {
	t.subscriptionsChanged()
	_, err := t.q.ExecContext(ctx, `UPDATE webhook_subscriptions SET disabled_at = NULL, failing_since = NULL
		WHERE id = $1 AND disabled_at IS NOT NULL`, id)
	return mapErr(err)
}

// PurgeWebhookHistory removes the webhook messages delivered or given up
// that were queued before before, and the delivery log's attempts made
// before it; it returns how many messages went. Messages still queued
// stay, however old.
func (t *tx) PurgeWebhookHistory(ctx context.Context, before time.Time) (int, error) {
	if _, err := t.q.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE at < $1`, micros(before)); err != nil {
		return 0, mapErr(err)
	}
	res, err := t.q.ExecContext(ctx, `DELETE FROM outbox WHERE channel = 'webhook' AND status IN ('sent', 'failed') AND created_at < $1`,
		micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *tx) InsertWebhookDelivery(ctx context.Context, d gatehouse.WebhookDelivery) error {
	// A subscription deleted while its deliveries were under way has no
	// log to write in any more: they are left out.
	_, err := t.q.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, subscription_id, message_id, event_id, event_type, attempt, status,
		response_code, latency_ms, response_excerpt, error, at) SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT),
		CAST($4 AS TEXT), CAST($5 AS TEXT), CAST($6 AS INTEGER), CAST($7 AS TEXT), CAST($8 AS INTEGER), CAST($9 AS BIGINT), CAST($10 AS TEXT),
		CAST($11 AS TEXT), CAST($12 AS BIGINT) WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = $2)`,
		d.ID, d.SubscriptionID, d.MessageID, d.EventID, d.EventType, d.Attempt, d.Status, d.ResponseCode, d.Latency.Milliseconds(),
		d.ResponseExcerpt, d.Error, micros(d.At))
	return mapErr(err)
}

const deliveryColumns = `id, subscription_id, message_id, event_id, event_type, attempt, status, response_code, latency_ms,
	response_excerpt, error, at`

func scanDelivery(row interface{ Scan(...any) error }) (gatehouse.WebhookDelivery, error) {
	var (
		d         gatehouse.WebhookDelivery
		latencyMS int64
		at        int64
	)
	err := row.Scan(&d.ID, &d.SubscriptionID, &d.MessageID, &d.EventID, &d.EventType, &d.Attempt, &d.Status, &d.ResponseCode,
		&latencyMS, &d.ResponseExcerpt, &d.Error, &at)
	d.Latency, d.At = time.Duration(latencyMS)*time.Millisecond, fromMicros(at)
	return d, err
}

// WebhookDeliveries lists a subscription's attempts, newest first.
func (r reader) WebhookDeliveries(ctx context.Context, subscriptionID string, p gatehouse.PageRequest) (gatehouse.Page[gatehouse.WebhookDelivery], error) {
	var page gatehouse.Page[gatehouse.WebhookDelivery]
	after, err := decodeCursor(p.Cursor, 1)
	if err != nil {
		return page, err
	}
	limit := pageLimit(p.Limit)
	args := argList{subscriptionID}
	query := `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE subscription_id = $1`
	if after != nil {
		query += " AND id < " + args.add(after[0])
	}
	query += " ORDER BY id DESC LIMIT " + args.add(limit+1)
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return page, mapErr(err)
	}
	return readPage(rows, limit, func(rows *sql.Rows) (gatehouse.WebhookDelivery, []string, error) {
		d, err := scanDelivery(rows)
		return d, []string{d.ID}, err
	})
}

// WebhookDelivery returns one attempt of a subscription, or ENOTFOUND.
func (r reader) WebhookDelivery(ctx context.Context, subscriptionID, id string) (gatehouse.WebhookDelivery, error) {
	d, err := scanDelivery(r.q.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE id = $1 AND subscription_id = $2`, id, subscriptionID))
	if err == sql.ErrNoRows {
		return d, gatehouse.NotFound("delivery")
	}
	return d, mapErr(err)
}

// WebhookMessages are the messages queued for a subscription between since
// (included) and until, oldest first, at most limit, each webhook-id once
// (the first message that carried it): what a replay of the range sends
// again. Their bodies stay after delivery for this.
func (r reader) WebhookMessages(ctx context.Context, subscriptionID string, since, until time.Time, limit int) ([]gatehouse.Message, error) {
	var out []gatehouse.Message
	seen := map[string]bool{}
	err := r.each(ctx, `SELECT id, message_id, subject, body, created_at FROM outbox
		WHERE channel = 'webhook' AND recipient = $1 AND created_at >= $2 AND created_at < $3 ORDER BY id`,
		[]any{subscriptionID, micros(since), micros(until)}, func(rows *sql.Rows) error {
			m := gatehouse.Message{Channel: gatehouse.ChannelWebhook, To: subscriptionID}
			var at int64
			if err := rows.Scan(&m.ID, &m.MessageID, &m.Subject, &m.Body, &at); err != nil {
				return err
			}
			m.CreatedAt = fromMicros(at)
			if !seen[m.Subject] && len(out) < limit {
				seen[m.Subject] = true
				out = append(out, m)
			}
			return nil
		})
	return out, err
}

// WebhookMessage returns a message queued for a subscription, or ENOTFOUND.
func (r reader) WebhookMessage(ctx context.Context, subscriptionID, id string) (gatehouse.Message, error) {
	m := gatehouse.Message{Channel: gatehouse.ChannelWebhook, To: subscriptionID}
	var at int64
	err := r.q.QueryRowContext(ctx, `SELECT id, message_id, subject, body, created_at FROM outbox
		WHERE id = $1 AND channel = 'webhook' AND recipient = $2`, id, subscriptionID).Scan(&m.ID, &m.MessageID, &m.Subject, &m.Body, &at)
	if err == sql.ErrNoRows {
		return m, gatehouse.NotFound("webhook message")
	}
	m.CreatedAt = fromMicros(at)
	return m, mapErr(err)
}

// AccountAdministrators lists the active administrators of an account
// (integrator administrators of an integrator, client administrators of
// a client) with the address and language their mail goes to.
func (r reader) AccountAdministrators(ctx context.Context, accountID string) ([]gatehouse.NotificationRecipient, error) {
	var out []gatehouse.NotificationRecipient
	err := r.each(ctx, `SELECT m.id, m.user_id, u.language, u.first_name, m.email
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND m.status = 'active' AND m.suspended_at IS NULL AND m.level IN ('client_admin', 'integrator_admin') ORDER BY m.id`, []any{accountID},
		func(rows *sql.Rows) error {
			var n gatehouse.NotificationRecipient
			err := rows.Scan(&n.MembershipID, &n.UserID, &n.Language, &n.FirstName, &n.Address)
			out = append(out, n)
			return err
		})
	return out, err
}
