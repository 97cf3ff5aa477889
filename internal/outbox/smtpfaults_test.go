package outbox_test

import (
	"context"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// moodyListener hands connections to the SMTP server, or drops them at
// once, or holds them open without a word, as its mood says.
type moodyListener struct {
	net.Listener
	mu   sync.Mutex
	mood string // "ok", "drop" or "stall"
	held []net.Conn
}

func (l *moodyListener) setMood(m string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mood = m
}

func (l *moodyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		mood := l.mood
		if mood == "stall" {
			l.held = append(l.held, c)
		}
		l.mu.Unlock()
		switch mood {
		case "drop":
			c.Close()
		case "stall":
			// Held: the client waits for a greeting that never comes.
		default:
			return c, nil
		}
	}
}

func (l *moodyListener) Close() error {
	l.mu.Lock()
	for _, c := range l.held {
		c.Close()
	}
	l.mu.Unlock()
	return l.Listener.Close()
}

// Fault injection: an SMTP server that drops connections, or
// stalls without answering, only delays mail: adding people does not wait
// for it, the worker gives up on a stalled server within its lease and
// keeps the messages queued, and once the server is well every message is
// delivered once, each with its own Message-ID.
func TestSMTPThatDropsOrStallsOnlyDelaysMail(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			clock := &steppingClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
			f := newFixture(t, b, clock)
			var ln *moodyListener
			sink, sender := startSMTPBehind(t, func(inner net.Listener) net.Listener {
				ln = &moodyListener{Listener: inner, mood: "drop"}
				return ln
			})
			w := worker(f.db, sender, "node-1")
			w.Clock, w.Lease = clock, 2*time.Second // a send is given a second

			f.invite(t, "ann@example.com", "en")
			f.invite(t, "bob@example.com", "en")
			if n, err := w.DeliverDue(context.Background()); err != nil || n != 2 {
				t.Fatalf("attempt while connections drop: %d, %v", n, err)
			}
			ln.setMood("stall")
			// Adding someone does not wait for the mail server.
			added := make(chan struct{})
			go func() { f.invite(t, "cid@example.com", "en"); close(added) }()
			select {
			case <-added:
			case <-time.After(20 * time.Second):
				t.Fatal("adding a user waited for a stalled mail server")
			}
			clock.now = clock.now.Add(2 * time.Hour)
			done := make(chan struct{})
			go func() {
				if n, err := w.DeliverDue(context.Background()); err != nil || n != 3 {
					t.Errorf("attempt while the server stalls: %d, %v", n, err)
				}
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the worker hung on a stalled mail server")
			}
			if len(sink.messages) != 0 {
				t.Fatalf("%d messages got through a dropping or stalled server", len(sink.messages))
			}

			ln.setMood("ok")
			clock.now = clock.now.Add(2 * time.Hour)
			if n, err := w.DeliverDue(context.Background()); err != nil || n != 3 {
				t.Fatalf("delivery once the server is well: %d, %v", n, err)
			}
			clock.now = clock.now.Add(24 * time.Hour)
			if n, _ := w.DeliverDue(context.Background()); n != 0 {
				t.Errorf("%d deliveries after all were accepted", n)
			}
			ids := map[string]bool{}
			to := map[string]int{}
			for _, raw := range sink.messages {
				msg, err := mail.ReadMessage(strings.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				ids[msg.Header.Get("Message-Id")] = true
				to[msg.Header.Get("To")]++
			}
			if len(sink.messages) != 3 || len(ids) != 3 || to["<ann@example.com>"] != 1 || to["<bob@example.com>"] != 1 || to["<cid@example.com>"] != 1 {
				t.Errorf("delivered %d messages, %d Message-IDs, to %v", len(sink.messages), len(ids), to)
			}
		})
	}
}
