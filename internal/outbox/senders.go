package outbox

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
)

// mail is an e-mail ready to send: its envelope and what writeTo writes.
type mail struct {
	// from and to are the envelope's addresses, in angle brackets as the
	// To header and SMTP's MAIL and RCPT take them.
	from, to string
	// fromHeader is the From header's value: a name and an address.
	fromHeader    string
	subject, text string
	html          string // "" for a text-only message
	messageID     string
	date          time.Time
}

// compose builds the RFC 5322 message: From, To, Subject, Date, the fixed
// Message-ID, and the body: one text/plain part, or for a branded e-mail a
// multipart/alternative of the text first and the HTML after it, both UTF-8
// in quoted-printable. The sender is the brand's when it gives one (its
// name at least, over the server's address). Mail is transactional: no
// list or unsubscribe headers.
//
// It is written here rather than by a MIME library: what every message
// needs is a few headers and two quoted-printable parts, and the library's
// general composer cost about 100 µs a message, which a bulk invitation's
// hundred thousand e-mails paid on the cores its confirm needs.
func compose(from string, m gatehouse.Message) (mail, error) {
	server, err := netmail.ParseAddress(from)
	if err != nil {
		return mail{}, fmt.Errorf("from %q: %w", from, err)
	}
	// What the message itself holds and cannot be written will not be
	// better on the next try: the message is given up at once (parked, for
	// an operator to look at) rather than retried for hours.
	sender := server
	if m.FromAddress != "" || m.FromName != "" {
		sender = &netmail.Address{Name: m.FromName, Address: cmp.Or(m.FromAddress, server.Address)}
		if _, err := netmail.ParseAddress(sender.String()); err != nil {
			return mail{}, fmt.Errorf("%w: from %q: %v", gatehouse.ErrUndeliverable, sender.String(), err)
		}
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil || to.Name != "" {
		return mail{}, fmt.Errorf("%w: to %q: not a bare address", gatehouse.ErrUndeliverable, m.To)
	}
	html, err := messages.HTMLPart(m.Subject, m.Body, m.HTMLLayout)
	if err != nil {
		return mail{}, fmt.Errorf("%w: %v", gatehouse.ErrUndeliverable, err)
	}
	if strings.ContainsAny(m.MessageID, "<>\r\n ") || m.MessageID == "" {
		return mail{}, fmt.Errorf("%w: message id %q", gatehouse.ErrUndeliverable, m.MessageID)
	}
	return mail{from: (&netmail.Address{Address: sender.Address}).String(), to: (&netmail.Address{Address: to.Address}).String(),
		fromHeader: sender.String(), subject: m.Subject, text: m.Body,
		html: html, messageID: m.MessageID, date: m.CreatedAt}, nil
}

// writeTo writes the message with CRLF line ends. Every header value is
// ASCII: the subject in RFC 2047 encoded words when it is not, the From
// name likewise (net/mail), the addresses as validated by compose.
func (c mail) writeTo(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 8<<10)
	header := func(name, value string) { bw.WriteString(name + ": " + value + "\r\n") }
	header("Date", c.date.Format(time.RFC1123Z))
	header("Message-ID", "<"+c.messageID+">")
	header("MIME-Version", "1.0")
	header("Subject", encodeHeaderWords(c.subject))
	header("From", c.fromHeader)
	header("To", c.to)
	if c.html == "" {
		header("Content-Type", "text/plain; charset=UTF-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		bw.WriteString("\r\n")
		if err := writeQuotedPrintable(bw, c.text); err != nil {
			return err
		}
		return bw.Flush()
	}
	var random [16]byte
	_, _ = rand.Read(random[:])
	boundary := hex.EncodeToString(random[:])
	header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	bw.WriteString("\r\n")
	for _, part := range []struct{ contentType, body string }{{"text/plain", c.text}, {"text/html", c.html}} {
		bw.WriteString("--" + boundary + "\r\n")
		header("Content-Type", part.contentType+"; charset=UTF-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		bw.WriteString("\r\n")
		if err := writeQuotedPrintable(bw, part.body); err != nil {
			return err
		}
		bw.WriteString("\r\n")
	}
	bw.WriteString("--" + boundary + "--\r\n")
	return bw.Flush()
}

// writeQuotedPrintable writes s in quoted-printable, its line ends as CRLF.
func writeQuotedPrintable(w io.Writer, s string) error {
	if strings.Contains(s, "\r") {
		// Every line end is made "\n" first: the encoder takes a lone CR
		// for a line end and then loses the next LF.
		s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, s); err != nil {
		return err
	}
	return qp.Close()
}

// encodeHeaderWords is s as a header value: as it is when it is printable
// ASCII that reads back the same, else in RFC 2047 encoded words, one per
// folded line so that no line passes 78 characters. Text that looks like an
// encoded word, or that readers would trim, is encoded too: an account
// named "=?UTF-8?q?...?=" must not show readers another subject.
func encodeHeaderWords(s string) string {
	if !strings.Contains(s, "=?") && strings.TrimSpace(s) == s && !strings.Contains(s, "  ") {
		// Left as it is when printable: then it holds no line end either.
		// The encoder separates its words of at most 75 characters by spaces.
		return strings.ReplaceAll(mime.QEncoding.Encode("UTF-8", s), "?= =?", "?=\r\n =?")
	}
	var words []string
	for len(s) > 0 {
		// 45 bytes make 60 of base64, a word of 72 with its markers; a
		// word ends at a character's start.
		n := min(len(s), 45)
		for n > 1 && n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		words = append(words, "=?UTF-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

// Compose is the message as it is sent, for tests and previews that parse
// it back.
func Compose(from string, m gatehouse.Message, w io.Writer) error {
	msg, err := compose(from, m)
	if err != nil {
		return err
	}
	return msg.writeTo(w)
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
	return writeAtomically(s.Dir, fileName(m.MessageID)+".eml", msg.writeTo)
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
	markUnsynced(dir)
	return nil
}

// fileBuffers are the write buffers of writeAtomically, reused: a message
// is a few kilobytes.
var fileBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// Flush makes the files written so far durable, with one syncfs of the
// directory's file system for the whole batch instead of an fsync a file.
func (s FileSender) Flush() error { return syncDir(s.Dir) }

func syncDir(dir string) (err error) {
	if syncEachFile || !takeUnsynced(dir) {
		return nil // done file by file, or nothing written since the last sync
	}
	defer func() {
		if err != nil {
			markUnsynced(dir) // still to be synced
		}
	}()
	d, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed, with what was written there
	} else if err != nil {
		return err
	}
	defer d.Close()
	fileSystemSyncs.Add(1)
	return syncFileSystem(d)
}

// unsynced holds, for each directory, whether this process renamed a file
// into it since it last synced it, so that a flush with nothing written
// costs nothing. The worker flushes every sender after each few deliveries
// of any channel: a run of webhooks, which writes no file, otherwise synced
// the data directory's file system every 25 deliveries, the database's
// pages with it, and went a third slower. A file renamed while a sync runs
// is marked after that sync took the mark, so the next flush syncs it.
var unsynced sync.Map // directory → *atomic.Bool

func markUnsynced(dir string) {
	mark, _ := unsynced.LoadOrStore(dir, new(atomic.Bool))
	mark.(*atomic.Bool).Store(true)
}

func takeUnsynced(dir string) bool {
	mark, ok := unsynced.Load(dir)
	return ok && mark.(*atomic.Bool).Swap(false)
}

// fileSystemSyncs counts the file system syncs made, for the tests.
var fileSystemSyncs atomic.Int64

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
// connection costs one round trip (transmitInOneTrip). With a relay 20 ms
// away that is the difference between a few and a few dozen messages a
// second per sender, and relays limit connections more than messages.
// Each of the node's senders uses one connection at a time; connections
// idle for longer than smtpIdleTimeout are closed.
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
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(smtpTimeout)}
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
	opts, timeout := s.opts, smtpTimeout
	if deadline, ok := ctx.Deadline(); ok {
		// Each answer is awaited no longer than the worker's patience: a
		// server that accepts and never answers must not hold the batch
		// past its lease (the context alone does not reach every read).
		timeout = max(time.Until(deadline), time.Millisecond)
		opts = append(slices.Clip(opts), gomail.WithTimeout(timeout))
	}
	conn := s.take()
	reused := conn != nil
	for {
		if conn == nil {
			// go-mail opens the session: TLS, EHLO, STARTTLS and AUTH.
			client, err := gomail.NewClient(s.host, opts...)
			if err != nil {
				return err
			}
			if conn, err = client.DialToSMTPClientWithContext(ctx); err != nil {
				return fmt.Errorf("dial failed: %w", err)
			}
		}
		opened, err := transmit(conn, msg, timeout)
		if err == nil {
			s.put(conn)
			return nil
		}
		// Whatever the server said, the session's state is unknown: it is
		// closed rather than used again.
		_ = conn.Close()
		conn = nil
		if reused && !opened {
			// Nothing of the message reached the server: a kept connection
			// the server had closed is tried once anew.
			reused = false
			continue
		}
		return fmt.Errorf("send failed: %w", err)
	}
}

// smtpTimeout is how long an SMTP answer is awaited without a deadline.
const smtpTimeout = 30 * time.Second

// transmit sends one message over an open session: in one trip when the
// server allows it, else MAIL, RCPT and DATA each awaiting its answer.
// No RSET follows: once the server has accepted a message's data, the
// session is ready for the next (RFC 5321, 4.1.1.4). opened tells whether
// the server accepted MAIL, after which the message may have reached it.
func transmit(conn *smtp.Client, msg mail, timeout time.Duration) (opened bool, err error) {
	if err := conn.UpdateDeadline(timeout); err != nil {
		return false, err
	}
	if pipelined, _ := conn.Extension("PIPELINING"); pipelined {
		if chunked, _ := conn.Extension("CHUNKING"); chunked {
			return transmitInOneTrip(conn, msg)
		}
	}
	if err := conn.Mail(msg.from); err != nil {
		return false, err
	}
	if err := conn.Rcpt(msg.to); err != nil {
		return true, err
	}
	data, err := conn.Data()
	if err != nil {
		return true, err
	}
	if err := msg.writeTo(data); err != nil {
		// Not closed: closing would end the data, and the server could
		// take half a message for a whole one. The caller drops the
		// connection instead.
		return true, err
	}
	return true, data.Close()
}

// transmitInOneTrip sends MAIL, RCPT and the whole message as one BDAT
// chunk in one write, then reads the three answers (RFC 2920 and RFC 3030):
// one round trip a message instead of four, and no dot-stuffing, since a
// chunk says its length. Any refusal leaves the session's state unknown,
// and the caller closes it. opened stays false while no answer came: a
// server that had closed the kept connection answers nothing, and the
// message is tried again at once on a new one.
func transmitInOneTrip(conn *smtp.Client, msg mail) (opened bool, err error) {
	if strings.ContainsAny(msg.from+msg.to, "\r\n") {
		return false, errors.New("smtp: an address holds a line end")
	}
	var body bytes.Buffer
	if err := msg.writeTo(&body); err != nil {
		return false, err
	}
	params := ""
	if ok, _ := conn.Extension("8BITMIME"); ok {
		params += " BODY=8BITMIME"
	}
	if ok, _ := conn.Extension("SMTPUTF8"); ok {
		params += " SMTPUTF8"
	}
	w := conn.Text.W
	fmt.Fprintf(w, "MAIL FROM:%s%s\r\nRCPT TO:%s\r\nBDAT %d LAST\r\n", msg.from, params, msg.to, body.Len())
	body.WriteTo(w)
	if err := w.Flush(); err != nil {
		return false, err
	}
	if _, _, err := conn.Text.ReadResponse(250); err != nil {
		return false, err
	}
	if _, _, err := conn.Text.ReadResponse(25); err != nil {
		return true, err
	}
	_, _, err = conn.Text.ReadResponse(250)
	return true, err
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
