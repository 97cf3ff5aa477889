package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// wireTap keeps what clients send to the SMTP server, and can hide the
// CHUNKING extension from the server's EHLO answer, as a relay without it
// would answer.
type wireTap struct {
	net.Listener
	hideChunking bool
	mu           sync.Mutex
	sent         bytes.Buffer
}

func (l *wireTap) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tappedConn{Conn: c, tap: l}, nil
}

func (l *wireTap) clientBytes() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent.String()
}

type tappedConn struct {
	net.Conn
	tap *wireTap
}

func (c *tappedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tap.mu.Lock()
	c.tap.sent.Write(p[:n])
	c.tap.mu.Unlock()
	return n, err
}

func (c *tappedConn) Write(p []byte) (int, error) {
	if c.tap.hideChunking {
		if _, err := c.Conn.Write(bytes.ReplaceAll(p, []byte("CHUNKING"), []byte("X-UNKNOWN"))); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// The text of a message whose lines would end or change the message if
// written as they are after DATA: a lone dot, and lines starting with dots.
const dottedText = "Bonjour,\n.\n..deux points\n. espace\nfin.\n"

var (
	bdatCommand         = regexp.MustCompile(`(?m)^BDAT (\d+) LAST\r\n`)
	envelopeBeforeChunk = regexp.MustCompile(`MAIL FROM:<noreply@gatehouse\.example\.com>[^\r]*\r\nRCPT TO:<[a-z]+@example\.com>\r\n$`)
)

// A relay that offers PIPELINING and CHUNKING gets each message as one
// write: MAIL, RCPT and the message as a single BDAT chunk, answered
// together, so a message costs one round trip to a distant relay instead
// of four. The chunk is the message's exact bytes (no dot-stuffing); a
// relay without CHUNKING gets MAIL, RCPT and DATA one after another. Both
// deliver the same text, dotted lines included.
func TestSMTPSendsEnvelopeAndMessageTogether(t *testing.T) {
	for _, chunking := range []bool{true, false} {
		t.Run(fmt.Sprintf("chunking=%v", chunking), func(t *testing.T) {
			var tap *wireTap
			sink, sender := startSMTPBehind(t, func(inner net.Listener) net.Listener {
				tap = &wireTap{Listener: inner, hideChunking: !chunking}
				return tap
			})
			defer sender.Close()
			ctx := context.Background()
			for i, to := range []string{"ann@example.com", "bob@example.com"} {
				if err := sender.Send(ctx, gatehouse.Message{ID: strconv.Itoa(i), MessageID: fmt.Sprintf("m%d@gatehouse.example.com", i),
					To: to, Subject: "Points", Body: dottedText, CreatedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			sink.mu.Lock()
			received := append([]string(nil), sink.messages...)
			sink.mu.Unlock()
			if len(received) != 2 {
				t.Fatalf("the relay received %d messages, want 2", len(received))
			}
			for _, raw := range received {
				msg, err := mail.ReadMessage(strings.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				if got := decodeBody(t, msg); got != strings.ReplaceAll(dottedText, "\n", "\r\n") {
					t.Errorf("the relay read the text %q, want %q", got, dottedText)
				}
			}

			wire := tap.clientBytes()
			chunks := bdatCommand.FindAllStringSubmatchIndex(wire, -1)
			if !chunking {
				if len(chunks) != 0 || strings.Count(wire, "\r\nDATA\r\n") != 2 {
					t.Errorf("without CHUNKING the client sent %d BDAT and %d DATA commands, want 0 and 2",
						len(chunks), strings.Count(wire, "\r\nDATA\r\n"))
				}
				return
			}
			if len(chunks) != 2 || strings.Contains(wire, "\r\nDATA\r\n") {
				t.Fatalf("the client sent %d BDAT LAST commands (want 2, and no DATA):\n%s", len(chunks), wire)
			}
			for i, c := range chunks {
				size, _ := strconv.Atoi(wire[c[2]:c[3]])
				chunk := wire[c[1]:min(c[1]+size, len(wire))]
				if chunk != received[i] {
					t.Errorf("chunk %d of %d bytes is not the message the relay kept", i, size)
				}
				// The envelope comes straight before the chunk: nothing in
				// between waited for an answer.
				if !envelopeBeforeChunk.MatchString(wire[:c[0]]) {
					t.Errorf("chunk %d is not preceded by its MAIL and RCPT", i)
				}
			}
		})
	}
}

// A recipient the relay refuses fails that message alone, whichever way it
// was sent: the relay keeps no part of it, and the next message reaches it
// over a new connection.
func TestSMTPRefusedRecipientFailsOnlyItsMessage(t *testing.T) {
	for _, chunking := range []bool{true, false} {
		t.Run(fmt.Sprintf("chunking=%v", chunking), func(t *testing.T) {
			sink, sender := startSMTPBehind(t, func(inner net.Listener) net.Listener {
				return &wireTap{Listener: inner, hideChunking: !chunking}
			})
			defer sender.Close()
			sink.refused = "nobody@example.com"
			ctx := context.Background()
			var failed []string
			for i, to := range []string{"ann@example.com", "nobody@example.com", "bob@example.com"} {
				err := sender.Send(ctx, gatehouse.Message{ID: strconv.Itoa(i), MessageID: fmt.Sprintf("m%d@gatehouse.example.com", i),
					To: to, Subject: "Hello", Body: "Hello", CreatedAt: time.Now()})
				if err != nil {
					failed = append(failed, to)
				}
			}
			if len(failed) != 1 || failed[0] != "nobody@example.com" {
				t.Errorf("failed sends %v, want only the refused recipient's", failed)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			var to []string
			for _, raw := range sink.messages {
				msg, err := mail.ReadMessage(strings.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				to = append(to, msg.Header.Get("To"))
			}
			if strings.Join(to, " ") != "<ann@example.com> <bob@example.com>" {
				t.Errorf("the relay kept messages to %v, want ann's and bob's", to)
			}
		})
	}
}
