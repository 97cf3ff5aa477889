package outbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
)

// compose builds the RFC 5322 message: From, To, Subject, Date, the fixed
// Message-ID, and the body: one text/plain part, or for a branded e-mail a
// multipart/alternative of the text first and the HTML after it, both UTF-8
// in quoted-printable. The sender is the brand's when it gives one (its
// name at least, over the server's address). Mail is transactional: no
// list or unsubscribe headers.
func compose(from string, m gatehouse.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithEncoding(gomail.EncodingQP), gomail.WithCharset(gomail.CharsetUTF8))
	sender := from
	if m.FromAddress != "" || m.FromName != "" {
		addr := m.FromAddress
		if addr == "" {
			parsed, err := netmail.ParseAddress(from)
			if err != nil {
				return nil, fmt.Errorf("from %q: %w", from, err)
			}
			addr = parsed.Address
		}
		sender = (&netmail.Address{Name: m.FromName, Address: addr}).String()
	}
	if err := msg.From(sender); err != nil {
		return nil, fmt.Errorf("from %q: %w", sender, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	html, err := messages.HTMLPart(m.Subject, m.Body, m.HTMLLayout)
	if err != nil {
		return nil, err
	}
	if html != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	}
	return msg, nil
}

// Compose is the message as it is sent, for tests and previews that parse
// it back.
func Compose(from string, m gatehouse.Message, w io.Writer) error {
	msg, err := compose(from, m)
	if err != nil {
		return err
	}
	_, err = msg.WriteTo(w)
	return err
}

// FileSender writes each message to <dir>/<message id>.eml. The file is
// written under a temporary name and renamed, so a reader never sees half a
// message, and a repeat delivery replaces the file instead of adding one.
// Files are made durable by Flush, once per batch.
type FileSender struct {
	Dir  string
	From string
}

func (s FileSender) Send(ctx context.Context, m gatehouse.Message) error {
	msg, err := compose(s.From, m)
	if err != nil {
		return err
	}
	return writeAtomically(s.Dir, fileName(m.MessageID)+".eml", func(w io.Writer) error {
		_, err := msg.WriteTo(w)
		return err
	})
}

// writeAtomically writes a file under a temporary name and renames it, so a
// reader never sees half a file and a rewrite replaces it. A bulk
// invitation writes a hundred thousand of these into one directory, so each
// system call counts: the directory is made only when missing, and the
// temporary file removed only when the rename did not happen.
func writeAtomically(dir, name string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(dir, ".incoming-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		tmp, err = os.CreateTemp(dir, ".incoming-*")
	}
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// Buffered: a message is composed header by header, line by line, and
	// each small write would be a system call of its own.
	buffered := fileBuffers.Get().(*bufio.Writer)
	defer fileBuffers.Put(buffered)
	buffered.Reset(tmp)
	if err := write(buffered); err != nil {
		return err
	}
	if err := buffered.Flush(); err != nil {
		return err
	}
	if syncEachFile {
		if err := tmp.Sync(); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	renamed = true
	return nil
}

// fileBuffers are the write buffers of writeAtomically, reused: a message
// is a few kilobytes.
var fileBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// Flush makes the files written so far durable, with one syncfs of the
// directory's file system for the whole batch instead of an fsync a file.
func (s FileSender) Flush() error { return syncDir(s.Dir) }

func syncDir(dir string) error {
	if syncEachFile {
		return nil // done file by file
	}
	d, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing was ever written there
	} else if err != nil {
		return err
	}
	defer d.Close()
	return syncFileSystem(d)
}

// fileName makes a safe file name of a Message-ID.
func fileName(messageID string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '@' {
			return r
		}
		return '_'
	}, messageID)
}

// SMTPSender hands messages to an SMTP server: smtp:// uses STARTTLS when the
// server offers it, smtps:// implicit TLS; user and password in the URL
// authenticate.
//
// A connection is kept for the next message rather than closed after each:
// opening one costs a TCP handshake, the greeting, EHLO, often STARTTLS and
// AUTH, and QUIT — several round trips, where a message on an open
// connection costs MAIL, RCPT, DATA and RSET. With a relay 20 ms away that
// is the difference between a few and a few dozen messages a second per
// sender, and relays limit connections more than messages. Each of the
// node's senders uses one connection at a time; connections idle for
// longer than smtpIdleTimeout are closed.
type SMTPSender struct {
	host string
	opts []gomail.Option
	from string

	mu      sync.Mutex
	idle    []*smtpConn // most recently used last
	janitor *time.Timer // closes the idle connections; nil when none wait
}

// smtpConn is an open SMTP session between two messages.
type smtpConn struct {
	client   *smtp.Client
	lastUsed time.Time
}

// smtpIdleTimeout is how long a connection waits for its next message. It
// is well under the five minutes servers must wait (RFC 5321, 4.5.3.2), so
// the server never closes it first in the common case.
const smtpIdleTimeout = 30 * time.Second

// smtpCheckAfter is how long a connection may have been idle before it is
// checked with a NOOP before use: a server may have closed it meanwhile, and
// a message sent into a closed connection would wait out a retry.
const smtpCheckAfter = time.Second

// NewSMTPSender reads an smtp://[user:pass@]host:port or smtps:// URL.
func NewSMTPSender(rawURL, from string) (*SMTPSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP URL must look like smtp://[user:pass@]host:port")
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return nil, fmt.Errorf("SMTP URL needs a port")
	}
	// The NOOP go-mail sends before each message is sent here only on a
	// connection idle for a while (take).
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(30 * time.Second), gomail.WithoutNoop()}
	if u.Scheme == "smtps" {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if u.User != nil {
		password, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(password))
	}
	return &SMTPSender{host: u.Hostname(), opts: opts, from: from}, nil
}

func (s *SMTPSender) Send(ctx context.Context, m gatehouse.Message) error {
	msg, err := compose(s.from, m)
	if err != nil {
		return err
	}
	opts := s.opts
	if deadline, ok := ctx.Deadline(); ok {
		// Each answer is awaited no longer than the worker's patience: a
		// server that accepts and never answers must not hold the batch
		// past its lease (the context alone does not reach every read).
		opts = append(slices.Clip(opts), gomail.WithTimeout(max(time.Until(deadline), time.Millisecond)))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return err
	}
	conn := s.take()
	reused := conn != nil
	for {
		if conn == nil {
			if conn, err = client.DialToSMTPClientWithContext(ctx); err != nil {
				return fmt.Errorf("dial failed: %w", err)
			}
		}
		err = client.SendWithSMTPClient(conn, msg)
		if err == nil {
			s.put(conn)
			return nil
		}
		// Whatever the server said, the session's state is unknown: it is
		// closed rather than used again.
		_ = client.CloseWithSMTPClient(conn)
		conn = nil
		var sendErr *gomail.SendError
		if reused && errors.As(err, &sendErr) && sendErr.Reason == gomail.ErrSMTPMailFrom {
			// MAIL FROM opens a message, so nothing of it reached the server:
			// a kept connection the server had closed is tried once anew.
			reused = false
			continue
		}
		return fmt.Errorf("send failed: %w", err)
	}
}

// take returns an open connection to send on, or nil when there is none to
// reuse. One idle for a while is checked first, and closed if it fails.
func (s *SMTPSender) take() *smtp.Client {
	for {
		s.mu.Lock()
		if len(s.idle) == 0 {
			s.mu.Unlock()
			return nil
		}
		c := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		s.mu.Unlock()
		idle := time.Since(c.lastUsed)
		if idle < smtpCheckAfter {
			return c.client
		}
		if idle < smtpIdleTimeout && c.client.UpdateDeadline(smtpGoodbyeTimeout) == nil && c.client.Noop() == nil {
			return c.client
		}
		_ = c.client.Close()
	}
}

// put keeps a connection for the next message and makes sure it is closed
// if none comes.
func (s *SMTPSender) put(client *smtp.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idle = append(s.idle, &smtpConn{client: client, lastUsed: time.Now()})
	if s.janitor == nil {
		s.janitor = time.AfterFunc(smtpIdleTimeout, s.closeIdle)
	}
}

// closeIdle says goodbye on the connections idle for smtpIdleTimeout, and
// comes back for the others when their time is up.
func (s *SMTPSender) closeIdle() {
	s.mu.Lock()
	var stale []*smtpConn
	kept := s.idle[:0]
	for _, c := range s.idle {
		if time.Since(c.lastUsed) >= smtpIdleTimeout {
			stale = append(stale, c)
		} else {
			kept = append(kept, c)
		}
	}
	clear(s.idle[len(kept):])
	s.idle = kept
	s.janitor = nil
	if len(kept) > 0 {
		s.janitor = time.AfterFunc(smtpIdleTimeout-time.Since(kept[0].lastUsed), s.closeIdle)
	}
	s.mu.Unlock()
	for _, c := range stale {
		goodbye(c.client)
	}
}

// smtpGoodbyeTimeout bounds the wait for a NOOP's or QUIT's answer.
const smtpGoodbyeTimeout = 5 * time.Second

// goodbye ends a session politely, without waiting long for the server.
func goodbye(client *smtp.Client) {
	_ = client.UpdateDeadline(smtpGoodbyeTimeout)
	_ = client.Quit()
	_ = client.Close()
}

// Close says goodbye on the idle connections (at shutdown).
func (s *SMTPSender) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	if s.janitor != nil {
		s.janitor.Stop()
		s.janitor = nil
	}
	s.mu.Unlock()
	for _, c := range idle {
		goodbye(c.client)
	}
	return nil
}
