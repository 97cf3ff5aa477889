package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

func (t *tx) EnqueueMessage(ctx context.Context, m gatehouse.Message) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO outbox (id, message_id, channel, recipient, subject, body, html_layout, from_name, from_address, status, next_attempt_at, created_at, bulk)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $10, $11)`,
		m.ID, m.MessageID, channelOf(m), m.To, m.Subject, m.Body, m.HTMLLayout, m.FromName, m.FromAddress, micros(m.CreatedAt), m.Bulk)
	return mapErr(err)
}

// channelOf is a message's channel; e-mail unless it says otherwise.
func channelOf(m gatehouse.Message) string {
	if m.Channel == "" {
		return gatehouse.ChannelEmail
	}
	return m.Channel
}

// ClaimMessages leases due messages, in one statement that picks them and
// takes their lease: the picking and a second statement naming a hundred
// ids took two round trips, and finding each row again by its id, while the
// senders run beside a bulk invitation's writes on the same database. On
// PostgreSQL, FOR UPDATE SKIP LOCKED lets several nodes claim side by side
// without waiting for or taking each other's rows; SQLite has one writer, so
// its transaction alone suffices.
//
// A webhook subscription gets its events in order. Its messages are claimed
// as a run: a claim holds a subscription's message only together with every
// older message of it still queued, so one node delivers them one after the
// other and receivers never see an event before one that came earlier. The
// query leaves out subscriptions whose oldest queued message waits (due
// later after a failure, or claimed by a node sending it), one index entry
// a message; webhookRuns then cuts each subscription's messages back to the
// run the claim holds whole, which also covers what a concurrent claim on
// another node holds and this transaction cannot see yet, and what the
// limit cut off. What it cuts is given back in the same transaction, as if
// never claimed.
func (db *DB) ClaimMessages(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]gatehouse.Message, error) {
	claimed, _, err := db.ClaimMessagesFrom(ctx, owner, now, lease, limit, gatehouse.QueueMark{})
	return claimed, err
}

// ClaimMessagesFrom is ClaimMessages from a mark in the queue on. On
// PostgreSQL a message's due index entry outlives its delivery until the
// table is vacuumed, so the start of the queue is a growing run of entries
// for messages already sent, which a claim from the start walks through
// (hundreds of index pages a claim during a large bulk invitation). The
// mark returned is the last message the claim looked at, or, when it gave
// messages back, the first of those, so they are looked at again.
func (db *DB) ClaimMessagesFrom(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, from gatehouse.QueueMark) ([]gatehouse.Message, gatehouse.QueueMark, error) {
	return db.claimMessages(ctx, owner, now, lease, limit, from, false)
}

// ClaimMessagesBesideBulk is ClaimMessages leaving out the e-mails of bulk
// invitations. Those are most of the queue while a bulk is written, so the
// claim reads an index of its own, which holds only the other queued
// messages, rather than walking past the bulk's in the due index.
func (db *DB) ClaimMessagesBesideBulk(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]gatehouse.Message, error) {
	claimed, _, err := db.claimMessages(ctx, owner, now, lease, limit, gatehouse.QueueMark{}, true)
	return claimed, err
}

func (db *DB) claimMessages(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, from gatehouse.QueueMark, besideBulk bool) ([]gatehouse.Message, gatehouse.QueueMark, error) {
	var (
		claimed []gatehouse.Message
		next    gatehouse.QueueMark
	)
	queue, notBulk := "outbox", ""
	if besideBulk {
		// The index's own condition, word for word, so that the planner
		// may use it; SQLite is told to.
		queue, notBulk = "outbox INDEXED BY outbox_due_beside_bulk", " AND bulk = 0"
		if db.dialect == Postgres {
			queue, notBulk = "outbox", " AND NOT bulk"
		}
	}
	err := db.Write(ctx, func(t *WriteTx) error {
		due := `SELECT id FROM ` + queue + `
			WHERE status = 'queued'` + notBulk + ` AND next_attempt_at <= $3 AND claimed_until <= $3 AND (next_attempt_at, id) >= ($5, $6)
			AND (channel <> 'webhook' OR (SELECT CASE WHEN oldest.next_attempt_at <= $3 AND oldest.claimed_until <= $3 THEN 1 ELSE 0 END
				FROM outbox oldest WHERE oldest.channel = 'webhook' AND oldest.status = 'queued' AND oldest.recipient = outbox.recipient
				ORDER BY oldest.id LIMIT 1) = 1)
			ORDER BY next_attempt_at, id LIMIT $4`
		if db.dialect == Postgres {
			due += " FOR UPDATE SKIP LOCKED"
		}
		rows, err := t.q.QueryContext(ctx, `UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1
			WHERE id IN (`+due+`)
			RETURNING id, message_id, channel, recipient, subject, body, html_layout, from_name, from_address, attempts, created_at, next_attempt_at`,
			owner, micros(now.Add(lease)), micros(now), limit, micros(from.DueAt), from.ID)
		if err != nil {
			return mapErr(err)
		}
		claimed, next = claimed[:0], from
		marks := map[string]gatehouse.QueueMark{}
		for rows.Next() {
			var (
				m                gatehouse.Message
				createdAt, dueAt int64
			)
			if err := rows.Scan(&m.ID, &m.MessageID, &m.Channel, &m.To, &m.Subject, &m.Body, &m.HTMLLayout, &m.FromName, &m.FromAddress, &m.Attempts, &createdAt, &dueAt); err != nil {
				rows.Close()
				return err
			}
			m.CreatedAt = fromMicros(createdAt)
			claimed = append(claimed, m)
			mark := gatehouse.QueueMark{DueAt: fromMicros(dueAt), ID: m.ID}
			marks[m.ID] = mark
			if mark.After(next) {
				next = mark
			}
		}
		if err := rows.Close(); err != nil {
			return mapErr(err)
		}
		// Delivered in the order of their ids: a message retried after a
		// failure is due later than the ones that waited behind it, and
		// still goes first.
		slices.SortFunc(claimed, func(a, b gatehouse.Message) int { return strings.Compare(a.ID, b.ID) })
		var cut []string
		if claimed, cut, err = t.webhookRuns(ctx, claimed); err != nil || len(cut) == 0 {
			return err
		}
		for _, id := range cut {
			if next.After(marks[id]) {
				next = marks[id]
			}
		}
		return t.releaseMessages(ctx, cut, owner)
	})
	return claimed, next, err
}

// webhookRuns keeps, of each webhook subscription's claimed messages, those
// older than the subscription's oldest queued message outside the claim:
// what is left of a subscription is a run of its oldest messages, whole.
// Other channels' messages are kept as they are. cut is the ids of the
// messages left out.
func (t *tx) webhookRuns(ctx context.Context, claimed []gatehouse.Message) (kept []gatehouse.Message, cut []string, err error) {
	bySubscription := map[string][]string{}
	for _, m := range claimed {
		if m.Channel == gatehouse.ChannelWebhook {
			bySubscription[m.To] = append(bySubscription[m.To], m.ID)
		}
	}
	if len(bySubscription) == 0 {
		return claimed, nil, nil
	}
	firstLeftOut := map[string]string{} // subscription → oldest queued message not claimed
	for subscription, ids := range bySubscription {
		args := argList{subscription}
		in := make([]string, len(ids))
		for i, id := range ids {
			in[i] = args.add(id)
		}
		var oldest sql.NullString
		err := t.q.QueryRowContext(ctx, `SELECT MIN(id) FROM outbox WHERE channel = 'webhook' AND status = 'queued'
			AND recipient = $1 AND id NOT IN (`+strings.Join(in, ", ")+`)`, args...).Scan(&oldest)
		if err != nil {
			return nil, nil, mapErr(err)
		}
		if oldest.Valid {
			firstLeftOut[subscription] = oldest.String
		}
	}
	kept = make([]gatehouse.Message, 0, len(claimed))
	for _, m := range claimed {
		if limit, ok := firstLeftOut[m.To]; m.Channel == gatehouse.ChannelWebhook && ok && m.ID > limit {
			cut = append(cut, m.ID)
			continue
		}
		kept = append(kept, m)
	}
	return kept, cut, nil
}

// ReleaseMessages gives back claimed messages untried: a webhook
// subscription's messages behind one that failed wait for its retry, and
// the attempt they were claimed for is not counted.
func (db *DB) ReleaseMessages(ctx context.Context, ids []string, owner string) error {
	if len(ids) == 0 {
		return nil
	}
	return db.Write(ctx, func(t *WriteTx) error { return t.releaseMessages(ctx, ids, owner) })
}

func (t *tx) releaseMessages(ctx context.Context, ids []string, owner string) error {
	args := argList{owner}
	in := make([]string, len(ids))
	for i, id := range ids {
		in[i] = args.add(id)
	}
	_, err := t.q.ExecContext(ctx, `UPDATE outbox SET claimed_until = 0, attempts = attempts - 1
		WHERE claimed_by = $1 AND status = 'queued' AND id IN (`+strings.Join(in, ", ")+`)`, args...)
	return mapErr(err)
}

func (db *DB) MarkMessagesSent(ctx context.Context, ids []string, owner string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return db.Write(ctx, func(t *WriteTx) error { return t.MarkMessagesSent(ctx, ids, owner, now) })
}

// MarkMessagesSent is DB.MarkMessagesSent in a transaction that writes
// more: the webhook delivery log of the same batch, say.
func (t *tx) MarkMessagesSent(ctx context.Context, ids []string, owner string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := argList{owner, micros(now)}
	in := make([]string, len(ids))
	for i, id := range ids {
		in[i] = args.add(id)
	}
	// A webhook's body (an event, no secret) stays, for replays.
	_, err := t.q.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = $2,
		body = CASE WHEN channel = 'webhook' THEN body ELSE '' END, html_layout = '', claimed_until = 0, last_error = ''
		WHERE claimed_by = $1 AND id IN (`+strings.Join(in, ", ")+`)`, args...)
	return mapErr(err)
}

func (db *DB) MarkMessageFailed(ctx context.Context, id, owner string, retryAt time.Time, lastError string, park bool) error {
	status := "queued"
	if park {
		status = "failed"
	}
	return db.Write(ctx, func(t *WriteTx) error {
		_, err := t.q.ExecContext(ctx, `UPDATE outbox SET status = $3, next_attempt_at = $4, claimed_until = 0, last_error = $5
			WHERE id = $1 AND claimed_by = $2`, id, owner, status, micros(retryAt), lastError)
		return mapErr(err)
	})
}
