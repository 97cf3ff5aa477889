// Package outbox delivers the e-mail, texts, back-channel logouts and
// webhooks that changes queue in the database (R-N1): a worker leases due
// messages, hands each to a Sender (an SMTP server or .eml files in the
// data directory, an SMS gateway, an application's back-channel logout
// URI, a webhook subscription's endpoint), and records the outcome,
// retrying with back-off and parking a message as failed after
// MaxAttempts (a webhook after gatehouse.WebhookRetryFor). Nothing is lost: a message leaves the
// queue only when a sender accepted it; a crash between the two repeats
// it with the same Message-ID.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Sender hands one message to its next hop.
type Sender interface {
	Send(ctx context.Context, m gatehouse.Message) error
}

// Flusher is a Sender whose deliveries become durable only when flushed:
// the worker flushes once per batch before recording the batch sent.
type Flusher interface {
	Flush() error
}

// A SentRecorder is a Sender with something of its own to write for its
// deliveries (the webhook delivery log): it records a batch sent itself,
// in the transaction that writes that, one commit where two would do.
// It reports false, having written nothing, when it has nothing to write;
// the worker then records the batch.
type SentRecorder interface {
	RecordSent(ctx context.Context, ids []string, owner string, now time.Time) (bool, error)
}

// Worker delivers queued messages.
type Worker struct {
	Outbox gatehouse.Outbox
	Sender Sender
	Clock  gatehouse.Clock
	Log    *slog.Logger
	// Owner names this node in leases; unique per process.
	Owner string
	// Lease is how long a claim lasts; a message whose sender has not
	// answered by then may be claimed again by another node.
	Lease       time.Duration
	Batch       int
	MaxAttempts int
	// PollEvery is how often the queue is looked at when nobody calls Wake.
	PollEvery time.Duration
	// ShortBatchPause is how long the worker waits, after a batch shorter
	// than Batch, before it claims again; zero claims again at once.
	// Changes committed a few milliseconds apart (adds written in groups)
	// each queue a few messages: claimed at once every time, each few cost
	// a claim and a record of their batch sent, two transactions for every
	// group a busy node commits. After the pause the worker claims what
	// queued meanwhile in one batch. The first claim after the queue was
	// empty is not delayed: a lone sign-in code goes at once.
	ShortBatchPause time.Duration
	// Helper, if set, is woken whenever this worker claims a full batch:
	// a queue that fills faster than one worker sends is shared, while a
	// trickle of mail keeps one worker (and its claims) alone at work.
	Helper *Worker
	// Rest, if set, tells the workers to leave the cores to other work for
	// now: while the node writes a bulk invitation, whose confirm someone
	// waits for, the first worker delivers only the messages that are not
	// a bulk's (a sign-in code, a password reset), which then wait behind
	// no bulk, and its helpers rest. The bulk's e-mails go once it is
	// written, with every sender: sent meanwhile, they took the cores the
	// bulk's writes needed, and the last of them came no sooner.
	Rest func() bool
	// helping is set on a helper: it waits to be woken (or for its poll)
	// instead of looking at the queue as soon as it starts, which the
	// first worker does for all of them.
	helping bool
	wake    chan struct{}
	// from is where the next claim looks from: after a full batch, where
	// that batch ended, so that claims do not walk again through what was
	// just sent; the queue's start after a short batch, and at least every
	// fullLookEvery, so that a message that came due behind the mark (given
	// back, its lease run out, queued by a node whose clock is behind)
	// waits no longer.
	from         gatehouse.QueueMark
	lastFullLook time.Time
	// afterBulk is set once the worker left a bulk's e-mails queued
	// (Rest), until the queue is short again: meanwhile each batch still
	// takes what is not a bulk's first.
	afterBulk bool
	// waitPause, when set (tests), waits out a ShortBatchPause instead of
	// a timer; it tells whether the worker goes on.
	waitPause func(ctx context.Context, d time.Duration) bool
}

// fullLookEvery is how often a worker's claim looks at the whole queue.
const fullLookEvery = time.Second

// shortBatchPause is a worker's ShortBatchPause in production: 10 and 25 ms
// measured alike, and an e-mail of a busy moment waits for it at most once.
const shortBatchPause = 20 * time.Millisecond

// NewWorkers returns n workers that send side by side, each with its own
// claims, as n nodes would; the first is woken by Wake and wakes the next
// when the queue is long.
func NewWorkers(n int, o gatehouse.Outbox, s Sender, owner string, log *slog.Logger) []*Worker {
	workers := make([]*Worker, n)
	for i := range workers {
		name := owner
		if i > 0 {
			name = fmt.Sprintf("%s/%d", owner, i+1)
		}
		workers[i] = NewWorker(o, s, name, log)
	}
	for i := range workers[:n-1] {
		workers[i].Helper = workers[i+1]
		workers[i+1].helping = true
	}
	return workers
}

// NewWorker returns a worker with the production settings.
func NewWorker(o gatehouse.Outbox, s Sender, owner string, log *slog.Logger) *Worker {
	return &Worker{Outbox: o, Sender: s, Clock: gatehouse.SystemClock{}, Log: log, Owner: owner,
		Lease: 2 * time.Minute, Batch: 100, MaxAttempts: 10, PollEvery: time.Second, ShortBatchPause: shortBatchPause,
		wake: make(chan struct{}, 1)}
}

// Wake makes the worker look at the queue now (after a change queued mail).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. A batch in progress is finished first.
func (w *Worker) Run(ctx context.Context) {
	var first time.Duration
	if w.helping {
		first = w.PollEvery
	}
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.wake:
		}
		for {
			besideBulk := w.Rest != nil && w.Rest()
			if besideBulk && w.helping {
				break
			}
			n, err := w.deliverDue(context.WithoutCancel(ctx), ctx.Done(), besideBulk)
			if err != nil {
				w.Log.Error("outbox", slog.Any("error", err))
			}
			// A short batch is no sign the queue is empty: a webhook
			// subscription's messages are claimed in runs, and what
			// another node held comes free as soon as it is delivered.
			if n == 0 || err != nil || ctx.Err() != nil {
				break
			}
			if n >= w.Batch && w.Helper != nil {
				w.Helper.Wake()
			}
			// After a bulk a short batch may be the other mail taken first,
			// with the bulk's e-mails still queued behind it: no pause then.
			if n < w.Batch && !w.afterBulk && !w.pause(ctx, w.ShortBatchPause) {
				return
			}
		}
		timer.Reset(w.PollEvery)
	}
}

// pause waits for d, or until ctx ends; it tells whether the worker goes on.
// A Wake meanwhile does not cut it short: each group of changes wakes the
// worker, and the pause is there to let several queue.
func (w *Worker) pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	if w.waitPause != nil {
		return w.waitPause(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// DeliverDue claims one batch of due messages and delivers it; it returns how
// many it claimed.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	return w.deliverDue(ctx, ctx.Done(), false)
}

// deliverDue is DeliverDue; stop, closed, ends the tries to record a batch
// sent while the database is unavailable (Run's ctx, which lets a batch's
// sends finish but not wait out a failover at shutdown). besideBulk leaves
// the e-mails of bulk invitations in the queue (Rest).
func (w *Worker) deliverDue(ctx context.Context, stop <-chan struct{}, besideBulk bool) (int, error) {
	now := w.Clock.Now()
	claimed := time.Now()
	var (
		messages []gatehouse.Message
		err      error
	)
	switch {
	case besideBulk:
		w.afterBulk = true
		messages, err = w.Outbox.ClaimMessagesBesideBulk(ctx, w.Owner, now, w.Lease, w.Batch)
	case w.afterBulk:
		// The bulk's e-mails, queued ahead of what came after the bulk, are
		// on their way: what is not a bulk's still goes first, until the
		// queue is short again.
		messages, err = w.Outbox.ClaimMessagesBesideBulk(ctx, w.Owner, now, w.Lease, w.Batch)
		if err == nil && len(messages) == 0 {
			messages, err = w.claim(ctx, now)
			w.afterBulk = err != nil || len(messages) >= w.Batch
		}
	default:
		messages, err = w.claim(ctx, now)
	}
	if err != nil {
		return 0, err
	}
	var sent, released []string
	// recording is the record of the last recordEvery sent, made while
	// the next are sent; it is waited for before the next record starts
	// and before the batch ends.
	var recording chan error
	waitRecorded := func() error {
		if recording == nil {
			return nil
		}
		err := <-recording
		recording = nil
		return err
	}
	defer func() { _ = waitRecorded() }()
	// unreachable holds, per next hop, the error of one that is down or
	// stalled: the rest of the batch for that hop waits for the retry
	// instead of each message waiting out its own timeout.
	unreachable := map[string]error{}
	// held are the webhook subscriptions one of whose messages failed: the
	// rest of their run is given back untried, to follow it in order.
	held := map[string]bool{}
	for _, m := range messages {
		hop := nextHop(m)
		if held[hop] || w.Clock.Now().Sub(now) > w.Lease-w.Lease/10 {
			// Held back behind a failure; or the batch outlived most of
			// its lease, after which another sender may claim what is left
			// and send it too: what is left is given back instead (a tenth
			// of the lease is kept for the nodes' clocks to differ).
			released = append(released, m.ID)
			continue
		}
		err := unreachable[hop]
		if err == nil {
			sendCtx, cancel := context.WithTimeout(ctx, w.Lease/2)
			err = w.Sender.Send(sendCtx, m)
			cancel()
		}
		if err == nil {
			sent = append(sent, m.ID)
			// Recorded as sent now and then rather than once a batch: what
			// was sent and not yet recorded is sent again if this node dies,
			// and a message sent again after such a death (attempt 2 or
			// more) is recorded at once, so that a second death does not
			// send it a third time. Every recordEvery are recorded while the
			// next are sent, so that a commit does not hold up the sends: a
			// death sends again at most twice recordEvery.
			switch {
			case m.Attempts > 1:
				if err := errors.Join(waitRecorded(), w.flushAndRecord(ctx, sent, claimed, stop)); err != nil {
					return len(messages), err
				}
				sent = nil
			case len(sent) >= recordEvery:
				if err := waitRecorded(); err != nil {
					return len(messages), err
				}
				recording = make(chan error, 1)
				go func(sent []string) { recording <- w.flushAndRecord(ctx, sent, claimed, stop) }(sent)
				sent = nil
			}
			continue
		}
		if m.Channel == gatehouse.ChannelWebhook {
			held[hop] = true
		}
		if unreachable[hop] == nil && isUnreachable(err) {
			unreachable[hop] = err
		}
		park := gatehouse.GivesUp(m, w.Clock.Now(), w.MaxAttempts) || errors.Is(err, gatehouse.ErrUndeliverable)
		retryAt := w.Clock.Now().Add(backoff(m.Attempts))
		w.Log.Warn("message not delivered", slog.String("channel", m.Channel), slog.String("message_id", m.MessageID), slog.Int("attempt", m.Attempts),
			slog.Bool("parked", park), slog.Any("error", err))
		if err := w.Outbox.MarkMessageFailed(ctx, m.ID, w.Owner, retryAt, err.Error(), park); err != nil {
			return len(messages), err
		}
	}
	if err := waitRecorded(); err != nil {
		return len(messages), err
	}
	if err := w.Outbox.ReleaseMessages(ctx, released, w.Owner); err != nil {
		return len(messages), err
	}
	return len(messages), w.flushAndRecord(ctx, sent, claimed, stop)
}

// claim takes the next batch: from the mark the last full batch left, or
// from the queue's start when there is none or the last look at the whole
// queue is fullLookEvery old.
func (w *Worker) claim(ctx context.Context, now time.Time) ([]gatehouse.Message, error) {
	from := w.from
	if now.Sub(w.lastFullLook) >= fullLookEvery || now.Before(w.lastFullLook) {
		from = gatehouse.QueueMark{}
	}
	w.from = gatehouse.QueueMark{}
	messages, next, err := w.Outbox.ClaimMessagesFrom(ctx, w.Owner, now, w.Lease, w.Batch, from)
	switch {
	case err != nil:
		return nil, err
	case len(messages) >= w.Batch:
		w.from = next
	case from != (gatehouse.QueueMark{}):
		// The queue from the mark on is short: what came due behind the
		// mark is claimed too, so that a short batch still means a short
		// queue, as Run takes it. If that fails, what the first claim
		// holds is delivered all the same, and the next batch looks again.
		behind, _, err := w.Outbox.ClaimMessagesFrom(ctx, w.Owner, now, w.Lease, w.Batch-len(messages), gatehouse.QueueMark{})
		if err != nil {
			w.Log.Error("outbox", slog.Any("error", err))
			return messages, nil
		}
		// In the order of their ids, as one claim gives them: what waited
		// longest (a message a stopped node had sent, say, which is
		// recorded as soon as it is sent again) goes first, well within
		// the lease.
		messages = append(messages, behind...)
		slices.SortFunc(messages, func(a, b gatehouse.Message) int { return strings.Compare(a.ID, b.ID) })
		from = gatehouse.QueueMark{}
	}
	if from == (gatehouse.QueueMark{}) {
		w.lastFullLook = now
	}
	return messages, nil
}

// recordEvery is how many deliveries the worker records as sent at once.
const recordEvery = 25

// flushAndRecord makes deliveries durable (Flusher), then records them sent
// (SentRecorder, or the outbox).
func (w *Worker) flushAndRecord(ctx context.Context, sent []string, claimed time.Time, stop <-chan struct{}) error {
	if len(sent) == 0 {
		return nil
	}
	if f, ok := w.Sender.(Flusher); ok {
		// Durable before recorded: if the flush fails, the messages stay
		// claimed and are delivered again (same Message-ID) after the lease.
		if err := f.Flush(); err != nil {
			return err
		}
	}
	return w.recordSent(ctx, sent, claimed, stop)
}

// recordRetry is how often a batch delivered is recorded again while the
// database is unavailable.
const recordRetry = 250 * time.Millisecond

// recordSent records delivered messages as sent. While the database is
// unavailable (a failover, a restart) it tries again, as long as this
// node's claim, taken at claimed, surely holds: given up, the messages
// would be sent again, with their Message-IDs, once the lease ended. A
// tenth of the lease is left for the nodes' clocks to differ.
func (w *Worker) recordSent(ctx context.Context, ids []string, claimed time.Time, stop <-chan struct{}) error {
	recorder, _ := w.Sender.(SentRecorder)
	for {
		recorded, err := false, error(nil)
		if recorder != nil {
			recorded, err = recorder.RecordSent(ctx, ids, w.Owner, w.Clock.Now())
		}
		if !recorded {
			err = w.Outbox.MarkMessagesSent(ctx, ids, w.Owner, w.Clock.Now())
		}
		if gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE || time.Since(claimed)+recordRetry > w.Lease-w.Lease/10 {
			return err
		}
		select {
		case <-stop:
			return err
		case <-time.After(recordRetry):
		}
	}
}

// nextHop names where a message goes next: the channel's one server (the
// SMTP server, the SMS gateway), or for a back-channel logout the
// application's own host, so that one application down holds back no
// other's logouts; for a webhook, its subscription.
func nextHop(m gatehouse.Message) string {
	if m.Channel == gatehouse.ChannelWebhook {
		return m.Channel + " " + m.To // the subscription
	}
	if m.Channel == gatehouse.ChannelBackchannelLogout {
		if u, err := url.Parse(m.To); err == nil {
			return m.Channel + " " + u.Host
		}
		return m.Channel + " " + m.To
	}
	return m.Channel
}

// isUnreachable tells a server that cannot be reached or does not answer
// (a dropped or timed-out connection) from one that refused one message.
func isUnreachable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// backoff grows exponentially from 5 s to an hour, with jitter so that a
// recovered server is not hit by every message at once.
func backoff(attempt int) time.Duration {
	d := 5 * time.Second << min(attempt-1, 10)
	d = min(d, time.Hour)
	return d/2 + rand.N(d/2+1)
}
