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
type SMTPSender struct {
	host string
	opts []gomail.Option
	from string
}

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
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(30 * time.Second)}
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
		// The connection's own timeout ends with the worker's patience: a
		// server that accepts and never answers must not hold the batch
		// past its lease (the context alone does not reach every read).
		opts = append(slices.Clip(opts), gomail.WithTimeout(max(time.Until(deadline), time.Millisecond)))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, msg)
}
