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

// countingListener counts the connections the SMTP server takes, and can cut
// them all, as a relay that restarts or ends idle sessions does.
type countingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *countingListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

func (l *countingListener) cutAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
}

// A batch of mail goes to the relay over one connection instead of one a
// message (each costs a handshake, EHLO, often STARTTLS and AUTH: with a
// distant relay, the difference between a few and dozens of messages a
// second). A connection the relay has cut meanwhile costs nothing: the
// next message goes over a new one, at once, and every message arrives
// once, with its own Message-ID. At shutdown the kept connection is ended.
func TestSMTPConnectionIsKeptForTheNextMessage(t *testing.T) {
	clock := &steppingClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	f := newFixture(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite}, clock)
	var ln *countingListener
	sink, sender := startSMTPBehind(t, func(inner net.Listener) net.Listener {
		ln = &countingListener{Listener: inner}
		return ln
	})
	w := worker(f.db, sender, "node-1")
	w.Clock = clock

	for _, name := range []string{"ann", "bob", "cid", "dan", "eve"} {
		f.invite(t, name+"@example.com", "en")
	}
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 5 {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	if got := ln.accepted(); got != 1 {
		t.Errorf("5 messages took %d connections, want 1", got)
	}

	ln.cutAll()
	for _, name := range []string{"fay", "gus", "hal"} {
		f.invite(t, name+"@example.com", "en")
	}
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 3 {
		t.Fatalf("batch after the relay cut the connection: %d, %v", n, err)
	}
	clock.now = clock.now.Add(24 * time.Hour)
	if n, _ := w.DeliverDue(context.Background()); n != 0 {
		t.Errorf("%d messages were retried: the cut connection lost one", n)
	}
	if got := ln.accepted(); got != 2 {
		t.Errorf("after the cut, the 3 messages took %d connections in all, want 2", got)
	}
	sink.mu.Lock()
	ids := map[string]int{}
	for _, raw := range sink.messages {
		msg, err := mail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		ids[msg.Header.Get("Message-Id")]++
	}
	received := len(sink.messages)
	sink.mu.Unlock()
	if received != 8 || len(ids) != 8 {
		t.Errorf("the relay received %d messages with %d Message-IDs, want 8 of each", received, len(ids))
	}

	sender.Close()
	deadline := time.Now().Add(10 * time.Second)
	for sink.loggedOut() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if sink.loggedOut() < 1 {
		t.Error("closing the sender left its connection open")
	}
}
