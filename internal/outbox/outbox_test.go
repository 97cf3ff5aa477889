package outbox_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gatehouse/gatehouse/internal/accounts"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/people"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is a service over a real database, with an integrator, a client
// account and an operator caller.
type fixture struct {
	svc    *service.Services
	db     *store.DB
	client gatehouse.Account
	op     gatehouse.Caller
}

func newFixture(t *testing.T, b storetest.Backend, clock gatehouse.Clock) *fixture {
	db, _ := b.Open(t)
	svc := service.New(db, service.Options{PublicURL: "https://gatehouse.example.com/", Clock: clock})
	op := gatehouse.Caller{Principal: gatehouse.Principal{Operator: true}}
	ctx := context.Background()
	in, err := svc.Accounts.CreateAccount(ctx, op, accounts.NewAccount{Kind: gatehouse.KindIntegrator, Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	client, err := svc.Accounts.CreateAccount(ctx, op, accounts.NewAccount{Kind: gatehouse.KindClient, Name: "Magasin 12", IntegratorID: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, db: db, client: client, op: op}
}

func (f *fixture) invite(t *testing.T, username, lang string) gatehouse.Member {
	t.Helper()
	m, err := f.svc.People.AddUser(context.Background(), f.op, f.client.ID, people.NewMember{Username: username, FirstName: "Zoé",
		LastName: "Martin", Language: lang, Level: gatehouse.LevelClientUser})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func worker(db *store.DB, s outbox.Sender, owner string) *outbox.Worker {
	return outbox.NewWorker(db, s, owner, quiet)
}

var linkPattern = regexp.MustCompile(`https://gatehouse\.example\.com/activate\?token=(gh_inv_[A-Za-z0-9_-]+)`)

// Adding a user queues the activation mail in the same transaction; the
// worker writes it as one RFC 5322 .eml file in the recipient's language,
// whose link carries a secret the database only knows by its hash (R-M2,
// R-N1, R-U6, docs/operations.md).
func TestActivationMailAsFile(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b, nil)
			member := f.invite(t, "zoe@example.com", "fr")
			dir := filepath.Join(t.TempDir(), "mail")
			w := worker(f.db, outbox.FileSender{Dir: dir, From: "Gatehouse <noreply@gatehouse.example.com>"}, "node-1")
			if n, err := w.DeliverDue(context.Background()); err != nil || n != 1 {
				t.Fatalf("delivered %d, %v; want 1", n, err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
			if len(files) != 1 {
				t.Fatalf("mail files %v, want one", files)
			}
			raw, _ := os.ReadFile(files[0])
			msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
			}
			dec := new(mime.WordDecoder)
			subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
			if msg.Header.Get("To") != "<zoe@example.com>" || !strings.Contains(subject, "Activez") || msg.Header.Get("Message-Id") == "" || msg.Header.Get("Date") == "" {
				t.Errorf("headers: %v (subject %q)", msg.Header, subject)
			}
			// Text and HTML, the text first.
			if !strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/alternative") {
				t.Errorf("content type %q", msg.Header.Get("Content-Type"))
			}
			body := decodeBody(t, msg)
			match := linkPattern.FindStringSubmatch(body)
			if match == nil {
				t.Fatalf("no activation link in:\n%s", body)
			}
			invs, _ := f.db.ListInvitations(context.Background(), f.client.ID, gatehouse.InvitationPending, time.Now(), gatehouse.PageRequest{})
			if len(invs.Items) != 1 || string(invs.Items[0].TokenHash) != string(gatehouse.HashToken(match[1])) || invs.Items[0].MembershipID != member.ID {
				t.Errorf("the link's secret does not match the stored invitation")
			}
			// Delivered once: nothing more is due, and the file stays alone.
			if n, _ := w.DeliverDue(context.Background()); n != 0 {
				t.Errorf("%d more deliveries", n)
			}
		})
	}
}

// A user added to a second account after activating elsewhere is told, not
// invited (R-M2): here, an identity made active by hand, as activation will.
func TestNewSiteMailForActiveIdentity(t *testing.T) {
	b := storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite}
	f := newFixture(t, b, nil)
	ctx := context.Background()
	if err := f.db.Write(ctx, func(tx *store.WriteTx) error {
		return tx.InsertUser(ctx, gatehouse.User{ID: kernel.NewID(), Username: "active@example.com", FirstName: "Al", LastName: "Ive",
			Language: "en", Status: gatehouse.UserActive})
	}); err != nil {
		t.Fatal(err)
	}
	m := f.invite(t, "Active@example.com", "fr")
	if m.Status != gatehouse.MembershipActive {
		t.Errorf("membership of an active identity is %s, want active", m.Status)
	}
	var got []gatehouse.Message
	w := worker(f.db, senderFunc(func(_ context.Context, m gatehouse.Message) error { got = append(got, m); return nil }), "n")
	if _, err := w.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0].Subject, "You now have access to Magasin 12") || strings.Contains(got[0].Body, "token=") {
		t.Errorf("messages %+v, want one English new-site notice without a link", got)
	}
	if invs, _ := f.db.ListInvitations(ctx, f.client.ID, "", time.Now(), gatehouse.PageRequest{}); len(invs.Items) != 0 {
		t.Errorf("an invitation was made for an active identity")
	}
}

type senderFunc func(context.Context, gatehouse.Message) error

func (f senderFunc) Send(ctx context.Context, m gatehouse.Message) error { return f(ctx, m) }

// smtpSink is a real SMTP server, run in the test, that keeps what it is
// given, or refuses while down is set.
type smtpSink struct {
	mu       sync.Mutex
	messages []string
	down     bool
	logouts  int
	// refused is a recipient the server does not take, when set.
	refused string
}

// loggedOut counts the sessions the client ended.
func (s *smtpSink) loggedOut() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logouts
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{sink: s}, nil }

type smtpSession struct{ sink *smtpSink }

func (s *smtpSession) Reset() {}
func (s *smtpSession) Logout() error {
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	s.sink.logouts++
	return nil
}
func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	if s.sink.down {
		return &smtp.SMTPError{Code: 421, Message: "try again later"}
	}
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	if to != "" && to == s.sink.refused {
		return &smtp.SMTPError{Code: 550, Message: "no such mailbox"}
	}
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	s.sink.mu.Lock()
	s.sink.messages = append(s.sink.messages, string(raw))
	s.sink.mu.Unlock()
	return err
}

func startSMTP(t *testing.T) (*smtpSink, *outbox.SMTPSender) {
	return startSMTPBehind(t, func(ln net.Listener) net.Listener { return ln })
}

// startSMTPBehind starts the sink serving the connections of the listener
// wrap makes of a local one, and a sender to it.
func startSMTPBehind(t *testing.T, wrap func(net.Listener) net.Listener) (*smtpSink, *outbox.SMTPSender) {
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(wrap(ln))
	t.Cleanup(func() { srv.Close() })
	sender, err := outbox.NewSMTPSender("smtp://"+ln.Addr().String(), "Gatehouse <noreply@gatehouse.example.com>")
	if err != nil {
		t.Fatal(err)
	}
	return sink, sender
}

// Through a real SMTP server: a refusal keeps the message queued and retried
// later; once accepted it is delivered once, with its Message-ID (R-N1).
func TestSMTPDeliveryWithRetry(t *testing.T) {
	clock := &steppingClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	f := newFixture(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite}, clock)
	sink, sender := startSMTP(t)
	w := worker(f.db, sender, "node-1")
	w.Clock = clock
	f.invite(t, "zoe@example.com", "en")

	sink.down = true
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("attempt while the server refuses: %d, %v", n, err)
	}
	sink.down = false
	if n, _ := w.DeliverDue(context.Background()); n != 0 {
		t.Errorf("retried at once (%d); want back-off", n)
	}
	clock.now = clock.now.Add(2 * time.Hour)
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry after back-off: %d, %v", n, err)
	}
	if len(sink.messages) != 1 {
		t.Fatalf("server received %d messages, want 1", len(sink.messages))
	}
	msg, err := mail.ReadMessage(strings.NewReader(sink.messages[0]))
	if err != nil || msg.Header.Get("Message-Id") == "" || msg.Header.Get("To") != "<zoe@example.com>" {
		t.Errorf("received %v, %v", msg, err)
	}
	if !linkPattern.MatchString(decodeBody(t, msg)) {
		t.Errorf("no activation link in the delivered mail")
	}
	clock.now = clock.now.Add(24 * time.Hour)
	if n, _ := w.DeliverDue(context.Background()); n != 0 || len(sink.messages) != 1 {
		t.Errorf("delivered again: %d claims, %d messages", n, len(sink.messages))
	}
}

// A message that keeps failing is parked after MaxAttempts, not retried
// forever, and not lost (it stays in the outbox as failed).
func TestFailingMessageIsParked(t *testing.T) {
	clock := &steppingClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	f := newFixture(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite}, clock)
	f.invite(t, "zoe@example.com", "en")
	attempts := 0
	w := worker(f.db, senderFunc(func(context.Context, gatehouse.Message) error {
		attempts++
		return errors.New("550 mailbox unavailable")
	}), "n")
	w.Clock, w.MaxAttempts = clock, 3
	for range 10 {
		if _, err := w.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock.now = clock.now.Add(2 * time.Hour)
	}
	if attempts != 3 {
		t.Errorf("%d attempts, want 3 then parked", attempts)
	}
}

// A message that cannot be written (its address is no address) is given
// up at its first try instead of being retried for hours; the rest of the
// batch is delivered.
func TestUnwritableMessageIsParkedAtOnce(t *testing.T) {
	clock := &steppingClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	f := newFixture(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite}, clock)
	ctx := context.Background()
	if err := f.db.Write(ctx, func(tx *store.WriteTx) error {
		return tx.EnqueueMessage(ctx, gatehouse.Message{ID: "bad", MessageID: "bad@gatehouse.example.com", To: "Zoé, not an address",
			Subject: "S", Body: "text", CreatedAt: clock.now})
	}); err != nil {
		t.Fatal(err)
	}
	f.invite(t, "zoe@example.com", "en")
	dir := t.TempDir()
	tries := map[string]int{}
	files := outbox.FileSender{Dir: dir, From: "Gatehouse <noreply@gatehouse.example.com>"}
	w := worker(f.db, senderFunc(func(ctx context.Context, m gatehouse.Message) error {
		tries[m.To]++
		return files.Send(ctx, m)
	}), "n")
	w.Clock = clock
	for range 5 {
		if _, err := w.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		clock.now = clock.now.Add(2 * time.Hour)
	}
	if tries["Zoé, not an address"] != 1 || tries["zoe@example.com"] != 1 {
		t.Errorf("tries %v: want the unwritable message tried once, then parked, and the good one delivered once", tries)
	}
	if written, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(written) != 1 {
		t.Errorf("%d files written, want the good message's alone", len(written))
	}
}

type steppingClock struct{ now time.Time }

func (c *steppingClock) Now() time.Time { return c.now }

func decodeBody(t *testing.T, msg *mail.Message) string {
	t.Helper()
	// A branded e-mail is multipart/alternative: its text part comes first.
	if mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mediaType, "multipart/") {
		part, err := multipart.NewReader(msg.Body, params["boundary"]).NextRawPart()
		if err != nil {
			t.Fatal(err)
		}
		return decodeBody(t, &mail.Message{Header: mail.Header(part.Header), Body: part})
	}
	raw, _ := io.ReadAll(msg.Body)
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(raw))))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return string(raw)
}

// crashAfterSend hands the message to the real sender, then "dies" before
// the outbox records the delivery: the window where a crash can repeat a
// message.
type crashAfterSend struct {
	outbox.Sender
	crashed bool
}

var errCrash = errors.New("process killed")

func (c *crashAfterSend) Send(ctx context.Context, m gatehouse.Message) error {
	if err := c.Sender.Send(ctx, m); err != nil {
		return err
	}
	c.crashed = true
	panic(errCrash)
}

// A node dies after the SMTP server accepted a message and before recording
// it sent. After its lease, another node delivers it again: nothing is lost,
// and the repeat carries the same Message-ID, so receivers can drop it (R-N1).
func TestCrashBetweenSMTPAndRecord(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			clock := &steppingClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
			f := newFixture(t, b, clock)
			sink, sender := startSMTP(t)
			f.invite(t, "zoe@example.com", "en")

			dying := worker(f.db, &crashAfterSend{Sender: sender}, "node-dies")
			dying.Clock = clock
			func() {
				defer func() {
					if v := recover(); v != errCrash {
						t.Fatalf("expected the simulated crash, got %v", v)
					}
				}()
				_, _ = dying.DeliverDue(context.Background())
			}()
			if len(sink.messages) != 1 {
				t.Fatalf("%d messages reached the server before the crash", len(sink.messages))
			}

			survivor := worker(f.db, sender, "node-lives")
			survivor.Clock = clock
			if n, _ := survivor.DeliverDue(context.Background()); n != 0 {
				t.Errorf("claimed while the dead node's lease runs")
			}
			clock.now = clock.now.Add(survivor.Lease + time.Second)
			if n, err := survivor.DeliverDue(context.Background()); err != nil || n != 1 {
				t.Fatalf("after the lease: %d, %v", n, err)
			}
			if len(sink.messages) != 2 {
				t.Fatalf("%d messages at the server, want the original and one repeat", len(sink.messages))
			}
			first, _ := mail.ReadMessage(strings.NewReader(sink.messages[0]))
			second, _ := mail.ReadMessage(strings.NewReader(sink.messages[1]))
			if id := first.Header.Get("Message-Id"); id == "" || id != second.Header.Get("Message-Id") {
				t.Errorf("repeat has Message-ID %q, original %q", second.Header.Get("Message-Id"), id)
			}
			clock.now = clock.now.Add(time.Hour)
			if n, _ := survivor.DeliverDue(context.Background()); n != 0 || len(sink.messages) != 2 {
				t.Errorf("a third delivery")
			}
		})
	}
}

// unavailableOutbox is a store's outbox whose first recordings of
// deliveries fail as during a failover.
type unavailableOutbox struct {
	gatehouse.Outbox
	failures, tries int
}

func (o *unavailableOutbox) MarkMessagesSent(ctx context.Context, ids []string, owner string, now time.Time) error {
	o.tries++
	if o.tries <= o.failures {
		return gatehouse.Errorf(gatehouse.EUNAVAILABLE, "the database cannot be reached; try again in a moment")
	}
	return o.Outbox.MarkMessagesSent(ctx, ids, owner, now)
}

// A batch delivered while the database fails over is recorded sent once it
// is back, within the lease: nothing is sent again. Past the lease, the
// worker gives up (the messages are then sent again, with their
// Message-IDs, as after a crash).
func TestDeliveriesRecordedThroughAFailover(t *testing.T) {
	f := newFixture(t, storetest.Backend{Name: "sqlite", Open: storetest.OpenSQLite}, nil)
	f.invite(t, "through@example.com", "en")
	sends := 0
	send := senderFunc(func(context.Context, gatehouse.Message) error { sends++; return nil })
	flaky := &unavailableOutbox{Outbox: f.db, failures: 3}
	w := worker(f.db, send, "n")
	w.Outbox, w.Lease = flaky, 10*time.Second
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("delivered %d: %v", n, err)
	}
	w.Outbox = f.db
	if n, _ := w.DeliverDue(context.Background()); n != 0 || sends != 1 || flaky.tries != 4 {
		t.Errorf("sent %d times, recorded in %d tries, %d left due; want 1, 4, 0", sends, flaky.tries, n)
	}

	f.invite(t, "past@example.com", "en")
	flaky = &unavailableOutbox{Outbox: f.db, failures: 1000}
	w.Outbox, w.Lease = flaky, time.Second
	started := time.Now()
	if _, err := w.DeliverDue(context.Background()); gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE {
		t.Errorf("a database away past the lease gave %v", err)
	}
	if took := time.Since(started); took > time.Second {
		t.Errorf("the worker tried for %v, past its lease of 1 s", took)
	}
}

// senderOf records what one worker sent.
type senderOf struct {
	mu   sync.Mutex
	sent []string
}

func (s *senderOf) Send(ctx context.Context, m gatehouse.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m.MessageID)
	return nil
}

// sentSoFar is a copy of what was sent, in the order sent.
func (s *senderOf) sentSoFar() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

func (s *senderOf) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// A node's senders share a long queue, each message sent once, while a
// trickle of mail is left to the first sender alone (its helpers make no
// claims for it). While the node writes a bulk invitation, the first sender
// alone delivers all mail but the bulk's, which goes once the bulk is
// written.
func TestSendersShareALongQueueAndLeaveATrickleToOne(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, _ := b.Open(t)
			ctx := context.Background()
			queue := func(n int, prefix string, bulk bool) {
				t.Helper()
				if err := db.Write(ctx, func(tx *store.WriteTx) error {
					for range n {
						id := kernel.NewID()
						if err := tx.EnqueueMessage(ctx, gatehouse.Message{ID: id, MessageID: prefix + id + "@example.com",
							To: "zoe@example.com", Subject: "S", Body: "text", CreatedAt: time.Now().Add(-time.Second), Bulk: bulk}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			workers := outbox.NewWorkers(2, db, nil, "node-a", quiet)
			senders := []*senderOf{{}, {}}
			var writingBulk atomic.Bool
			for i, w := range workers {
				w.Sender, w.Batch, w.PollEvery, w.Rest = senders[i], 10, time.Hour, writingBulk.Load
			}
			runCtx, stop := context.WithCancel(ctx)
			var running sync.WaitGroup
			for _, w := range workers {
				running.Go(func() { w.Run(runCtx) })
			}
			defer func() { stop(); running.Wait() }()
			waitFor := func(total int) {
				t.Helper()
				for deadline := time.Now().Add(20 * time.Second); senders[0].count()+senders[1].count() < total; {
					if time.Now().After(deadline) {
						t.Fatalf("%d of %d sent", senders[0].count()+senders[1].count(), total)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}

			// A trickle: one message at a time, each woken for.
			for range 5 {
				before := senders[0].count() + senders[1].count()
				queue(1, "trickle-", false)
				workers[0].Wake()
				waitFor(before + 1)
			}
			if n := senders[1].count(); n != 0 {
				t.Errorf("the helper sent %d of a trickle of 5", n)
			}

			// A long queue while the node writes a bulk invitation, the
			// bulk's e-mails due first: the helper rests, and the first
			// sender alone delivers all but the bulk's.
			writingBulk.Store(true)
			queue(300, "of-the-bulk-", true)
			queue(2000, "during-bulk-", false)
			workers[0].Wake()
			waitFor(2005) // the bulk's, due first, would come first if sent
			if n := senders[1].count(); n != 0 {
				t.Errorf("the helper sent %d while the node wrote a bulk invitation", n)
			}
			if n := senders[0].count(); n != 2005 {
				t.Errorf("%d sent while the node wrote a bulk invitation, want the 2,005 that are not the bulk's", n)
			}
			for _, id := range senders[0].sentSoFar() {
				if strings.HasPrefix(id, "of-the-bulk-") {
					t.Fatalf("%s, a bulk's e-mail, sent while the bulk was written", id)
				}
			}
			// Written: the bulk's e-mails go at once, but a message queued
			// after them, as the bulk ends, still goes first. It is queued
			// before the bulk is marked written: a sender may look at the
			// queue once more unwoken (a wake during its pause), and would
			// then take the bulk's first batch before the message exists.
			queue(1, "after-the-bulk-", false)
			writingBulk.Store(false)
			workers[0].Wake()
			waitFor(2306)
			for _, id := range senders[0].sentSoFar()[2005:] {
				if strings.HasPrefix(id, "of-the-bulk-") {
					t.Errorf("%s, a bulk's e-mail, sent before a message queued after the bulk", id)
				}
				if strings.HasPrefix(id, "after-the-bulk-") {
					break
				}
			}

			// A long queue: the first sender claims full batches and wakes
			// its helper, which takes its share.
			queue(2000, "long-", false)
			workers[0].Wake()
			waitFor(4306)
			if n := senders[1].count(); n == 0 {
				t.Error("the helper sent none of a queue of 2,000")
			}
			seen := map[string]bool{}
			for _, s := range senders {
				for _, id := range s.sent {
					if seen[id] {
						t.Errorf("%s sent twice", id)
					}
					seen[id] = true
				}
			}
			if len(seen) != 4306 {
				t.Errorf("%d distinct messages sent, want 4306", len(seen))
			}
		})
	}
}
