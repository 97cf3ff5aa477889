package outbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// slowRecorder is a sender whose first record of a batch sent waits until
// the test lets it go; it tells how far the sends got meanwhile.
type slowRecorder struct {
	mu             sync.Mutex
	sent, recorded int
	sentBeyond     int // sends made while the first record still waited, past the limit
	recordStarted  bool
	firstRecording chan struct{}
	release        chan struct{}
	limitReached   chan struct{}
}

func (s *slowRecorder) Send(ctx context.Context, m gatehouse.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	if s.recorded == 0 && s.sent > 2*outbox.RecordEvery {
		s.sentBeyond++
	}
	if s.sent == 2*outbox.RecordEvery {
		close(s.limitReached)
	}
	return nil
}

func (s *slowRecorder) RecordSent(ctx context.Context, ids []string, owner string, now time.Time) (bool, error) {
	s.mu.Lock()
	first := !s.recordStarted
	s.recordStarted = true
	s.mu.Unlock()
	if first {
		close(s.firstRecording)
		<-s.release
	}
	s.mu.Lock()
	s.recorded += len(ids)
	s.mu.Unlock()
	return false, nil // the worker records them in the outbox
}

// A slow commit does not hold up the sends: while one run of deliveries is
// being recorded as sent, the worker sends the next run; but it sends no
// further before that record is done, so that a node's death sends again
// at most two runs' worth. Every message ends recorded, once.
func TestDeliveriesAreRecordedWhileTheNextAreSent(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	ctx := context.Background()
	queued := 2*outbox.RecordEvery + 10
	if err := db.Write(ctx, func(tx *store.WriteTx) error {
		for range queued {
			id := kernel.NewID()
			if err := tx.EnqueueMessage(ctx, gatehouse.Message{ID: id, MessageID: id + "@example.com", To: "zoe@example.com",
				Subject: "S", Body: "text", CreatedAt: time.Now().Add(-time.Second)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s := &slowRecorder{firstRecording: make(chan struct{}), release: make(chan struct{}), limitReached: make(chan struct{})}
	w := worker(db, s, "n")
	delivered := make(chan error, 1)
	go func() {
		n, err := w.DeliverDue(ctx)
		if err == nil && n != queued {
			err = fmt.Errorf("claimed %d of %d", n, queued)
		}
		delivered <- err
	}()
	for _, step := range []struct {
		name string
		ch   chan struct{}
	}{{"the first record", s.firstRecording}, {"the second run's sends", s.limitReached}} {
		select {
		case <-step.ch:
		case err := <-delivered:
			t.Fatalf("the batch ended (%v) before %s", err, step.name)
		case <-time.After(30 * time.Second):
			t.Fatalf("%s never came while the first record waited", step.name)
		}
	}
	close(s.release)
	if err := <-delivered; err != nil {
		t.Fatal(err)
	}
	if s.sentBeyond != 0 || s.sent != queued || s.recorded != queued {
		t.Errorf("%d sent beyond two runs while the first was unrecorded; %d sent, %d recorded, want %d", s.sentBeyond, s.sent, s.recorded, queued)
	}
	if n, err := w.DeliverDue(ctx); err != nil || n != 0 {
		t.Errorf("%d claimed again (%v)", n, err)
	}
}
