package outbox_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A worker's claims go on from where its last full batch ended rather than
// walk again through what it just sent; a message that comes due behind
// that place (queued by a node whose clock is behind, or given back) still
// goes out: at once when the queue ahead is short, within a second when it
// is long, and first in its batch when its id is the oldest (a message a
// stopped node had sent is recorded as soon as it is sent again, well
// within the lease). Nothing is sent twice.
func TestMessageDueBehindTheLastClaimIsNotLeftBehind(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			clock := &steppingClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
			f := newFixture(t, b, clock)
			ctx := context.Background()
			n := 0
			enqueue := func(count int, prefix string, at time.Time) []string {
				var ids []string
				if err := f.db.Write(ctx, func(tx *store.WriteTx) error {
					for range count {
						n++
						id := prefix + strconv.Itoa(1000+n)
						ids = append(ids, id)
						if err := tx.EnqueueMessage(ctx, gatehouse.Message{ID: id, MessageID: id + "@gatehouse.example.com",
							To: "ann@example.com", Subject: "S", Body: "text", CreatedAt: at}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return ids
			}
			var sent []string
			w := worker(f.db, senderFunc(func(_ context.Context, m gatehouse.Message) error {
				sent = append(sent, m.ID)
				return nil
			}), "node-1")
			w.Clock, w.Batch = clock, 3
			deliver := func() int {
				t.Helper()
				k, err := w.DeliverDue(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return k
			}

			queued := enqueue(4, "m", clock.now)
			if k := deliver(); k != 3 {
				t.Fatalf("first batch: %d messages, want 3", k)
			}
			// Queued earlier than the others by a node whose clock is
			// behind: due before the mark, and first by its id.
			late := enqueue(1, "a", clock.now.Add(-time.Minute))
			if k := deliver(); k != 2 || len(sent) != 5 || sent[3] != late[0] {
				t.Fatalf("a short queue ahead of the mark: %d messages, sent %v; want the last one and the late one, the late one first (the older id)", k, sent)
			}

			queued = append(queued, late...)
			queued = append(queued, enqueue(9, "m", clock.now)...)
			deliver()
			late = enqueue(1, "m", clock.now.Add(-time.Minute))
			queued = append(queued, late...)
			deliver()
			clock.now = clock.now.Add(time.Second)
			deliver()
			if !slices.Contains(sent, late[0]) {
				t.Errorf("a second after, with a long queue ahead, the late message is not sent yet (sent %v)", sent)
			}
			for deliver() > 0 {
			}
			slices.Sort(sent)
			slices.Sort(queued)
			if !slices.Equal(sent, queued) {
				t.Errorf("sent %v, want each queued message once: %v", sent, queued)
			}
		})
	}
}

// A batch that outlives its lease is not sent on: what is left may already
// be another sender's, who sends it, and is given back rather than sent by
// both.
func TestBatchPastItsLeaseIsNotSentOn(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			clock := &steppingClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
			f := newFixture(t, b, clock)
			ctx := context.Background()
			for _, name := range []string{"ann", "bob", "cid", "dan", "eve"} {
				f.invite(t, name+"@example.com", "en")
			}
			sentBy := map[string][]string{}
			var other *outbox.Worker
			slow := worker(f.db, senderFunc(func(_ context.Context, m gatehouse.Message) error {
				sentBy[m.To] = append(sentBy[m.To], "slow")
				clock.now = clock.now.Add(25 * time.Second)
				if len(sentBy) == 3 {
					// The lease (a minute) is over: the other sender claims
					// what is left now.
					if _, err := other.DeliverDue(ctx); err != nil {
						t.Error(err)
					}
				}
				return nil
			}), "node-1")
			other = worker(f.db, senderFunc(func(_ context.Context, m gatehouse.Message) error {
				sentBy[m.To] = append(sentBy[m.To], "other")
				return nil
			}), "node-2")
			for _, w := range []*outbox.Worker{slow, other} {
				w.Clock, w.Lease, w.Batch = clock, time.Minute, 5
			}
			if _, err := slow.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			for _, w := range []*outbox.Worker{other, slow} {
				if _, err := w.DeliverDue(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// What the slow sender had sent and not yet recorded when its
			// lease ran out goes again, with its Message-ID, as after a
			// crash; what it had not sent goes once, from the other.
			for _, name := range []string{"ann", "bob", "cid"} {
				if by := sentBy[name+"@example.com"]; !slices.Equal(by, []string{"slow", "other"}) {
					t.Errorf("%s's e-mail was sent by %v, want the slow sender, then the other after the lease", name, by)
				}
			}
			for _, name := range []string{"dan", "eve"} {
				if by := sentBy[name+"@example.com"]; !slices.Equal(by, []string{"other"}) {
					t.Errorf("%s's e-mail was sent by %v, want the other sender alone", name, by)
				}
			}
		})
	}
}
