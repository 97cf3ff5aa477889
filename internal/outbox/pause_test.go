package outbox_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// claimCounter is a store's outbox that records how many messages each of
// its claims took.
type claimCounter struct {
	gatehouse.Outbox
	mu     sync.Mutex
	claims []int
}

func (c *claimCounter) record(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.claims = append(c.claims, n)
}

// nonEmpty lists the sizes of the claims that took messages, in order.
func (c *claimCounter) nonEmpty() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sizes []int
	for _, n := range c.claims {
		if n > 0 {
			sizes = append(sizes, n)
		}
	}
	return sizes
}

func (c *claimCounter) ClaimMessagesFrom(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, from gatehouse.QueueMark) ([]gatehouse.Message, gatehouse.QueueMark, error) {
	m, next, err := c.Outbox.ClaimMessagesFrom(ctx, owner, now, lease, limit, from)
	c.record(len(m))
	return m, next, err
}

func (c *claimCounter) ClaimMessages(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]gatehouse.Message, error) {
	m, err := c.Outbox.ClaimMessages(ctx, owner, now, lease, limit)
	c.record(len(m))
	return m, err
}

func (c *claimCounter) ClaimMessagesBesideBulk(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]gatehouse.Message, error) {
	m, err := c.Outbox.ClaimMessagesBesideBulk(ctx, owner, now, lease, limit)
	c.record(len(m))
	return m, err
}

func (c *claimCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.claims)
}

// A worker that has just sent a short batch waits a moment before it claims
// again, and then takes in one claim the mail that changes queued a few
// messages at a time meanwhile, each waking it. The first claim after the
// queue was empty is not delayed, and a pause holds up neither a stop nor
// the mail queued during it.
func TestWorkerGathersMailQueuedAFewAtATime(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, _ := b.Open(t)
			mail := func(to string) gatehouse.Message {
				id := kernel.NewID()
				return gatehouse.Message{ID: id, MessageID: id + "@gatehouse.example.com", To: to, Subject: "S", Body: "text",
					CreatedAt: time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)}
			}
			start := func(pause time.Duration, configure func(*outbox.Worker)) (*outbox.Worker, *senderOf, *claimCounter, func()) {
				counter := &claimCounter{Outbox: db}
				sender := &senderOf{}
				w := outbox.NewWorker(counter, sender, "node-a", quiet)
				w.PollEvery, w.ShortBatchPause = time.Hour, pause
				if configure != nil {
					configure(w)
				}
				ctx, stop := context.WithCancel(context.Background())
				stopped := make(chan struct{})
				go func() { w.Run(ctx); close(stopped) }()
				return w, sender, counter, func() {
					stop()
					select {
					case <-stopped:
					case <-time.After(20 * time.Second):
						t.Fatal("the worker did not stop while it paused")
					}
				}
			}
			waitFor := func(s *senderOf, n int) {
				t.Helper()
				for deadline := time.Now().Add(20 * time.Second); s.count() < n; time.Sleep(5 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("%d of %d sent", s.count(), n)
					}
				}
			}

			// A pause of an hour: the first message goes at once, the
			// next waits for the pause, and a stop ends the pause.
			w, sender, _, stop := start(time.Hour, nil)
			queue(t, db, mail("first@example.com"))
			w.Wake()
			waitFor(sender, 1)
			queue(t, db, mail("second@example.com"))
			w.Wake()
			time.Sleep(300 * time.Millisecond)
			if n := sender.count(); n != 1 {
				t.Errorf("%d sent while the worker paused after a batch of one, want 1", n)
			}
			stop()
			if n, err := outbox.NewWorker(db, sender, "node-b", quiet).DeliverDue(context.Background()); n != 1 || err != nil {
				t.Errorf("the message queued during the pause: %d delivered after the stop (%v), want 1", n, err)
			}

			// A pause the test holds: five changes queue a message each,
			// each waking the worker, while it pauses after the first;
			// once the pause ends, one claim takes them.
			paused, release := make(chan time.Duration, 1), make(chan struct{})
			w, sender, counter, stop := start(20*time.Millisecond, func(w *outbox.Worker) {
				w.SetPauseWait(func(ctx context.Context, d time.Duration) bool {
					select {
					case paused <- d:
					default: // a later pause: the test looks at the first only
					}
					select {
					case <-release:
						return true
					case <-ctx.Done():
						return false
					}
				})
			})
			defer stop()
			queue(t, db, mail("one@example.com"))
			w.Wake()
			select {
			case d := <-paused:
				if d != 20*time.Millisecond {
					t.Errorf("paused for %v after a batch of one, want the worker's 20ms", d)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the worker did not pause after a batch of one")
			}
			for range 5 {
				queue(t, db, mail("gathered@example.com"))
				w.Wake()
			}
			if n := sender.count(); n != 1 {
				t.Errorf("%d sent during the pause, want 1", n)
			}
			close(release)
			waitFor(sender, 6)
			if got := counter.nonEmpty(); !slices.Equal(got, []int{1, 5}) {
				t.Errorf("claims took %v messages, want [1 5]", got)
			}
		})
	}
}

// Once a bulk is written, the first worker takes other mail before the
// bulk's e-mails: a batch of that mail alone is short while the bulk's wait
// behind it, and the worker does not pause after it.
func TestNoPauseAfterOtherMailTakenBeforeABulks(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, _ := b.Open(t)
			var bulk []gatehouse.Message
			for range 30 {
				id := kernel.NewID()
				bulk = append(bulk, gatehouse.Message{ID: id, MessageID: id + "@gatehouse.example.com", To: "bulk@example.com",
					Subject: "S", Body: "text", CreatedAt: time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond), Bulk: true})
			}
			queue(t, db, bulk...)
			counter := &claimCounter{Outbox: db}
			sender := &senderOf{}
			w := outbox.NewWorker(counter, sender, "node-a", quiet)
			var writingBulk atomic.Bool
			writingBulk.Store(true)
			// An hour's pause would hold the bulk's e-mails past the test.
			w.Batch, w.PollEvery, w.ShortBatchPause, w.Rest = 10, time.Hour, time.Hour, writingBulk.Load
			ctx, stop := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { w.Run(ctx); close(stopped) }()
			defer func() { stop(); <-stopped }()
			// The worker's first look, while the bulk is written, leaves
			// the bulk's e-mails queued.
			for deadline := time.Now().Add(20 * time.Second); counter.count() == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the worker never looked at the queue")
				}
			}
			if n := sender.count(); n != 0 {
				t.Fatalf("%d sent while the bulk was written, want none of the bulk's", n)
			}
			writingBulk.Store(false)
			id := kernel.NewID()
			queue(t, db, gatehouse.Message{ID: id, MessageID: "after-the-bulk-" + id + "@gatehouse.example.com", To: "zoe@example.com",
				Subject: "S", Body: "text", CreatedAt: time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)})
			w.Wake()
			for deadline := time.Now().Add(20 * time.Second); sender.count() < 31; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d of 31 sent: the bulk's e-mails waited behind a pause", sender.count())
				}
			}
			if first := sender.sentSoFar()[0]; !strings.HasPrefix(first, "after-the-bulk-") {
				t.Errorf("%s sent first, want the message queued after the bulk", first)
			}
		})
	}
}
