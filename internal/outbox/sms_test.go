package outbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/apitest"
	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/outbox"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// queue writes messages to the outbox as a change would.
func queue(t *testing.T, db *store.DB, messages ...gatehouse.Message) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *store.WriteTx) error {
		for _, m := range messages {
			if err := tx.EnqueueMessage(context.Background(), m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func text(id, to, body string) gatehouse.Message {
	return gatehouse.Message{ID: id, MessageID: id + "@gatehouse.example.com", Channel: gatehouse.ChannelSMS, To: to, Body: body,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
}

// Without an SMS provider every text is one file <data-dir>/sms/*.txt: the
// E.164 number on the first line, then the text (docs/operations.md,
// R-N2); e-mail in the same batch still goes to .eml files.
func TestTextsAsFiles(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, _ := b.Open(t)
			queue(t, db, text("m1", "+33612345678", "Your Gatehouse code is 123456."),
				gatehouse.Message{ID: "m2", MessageID: "m2@gatehouse.example.com", To: "ann@example.com", Subject: "Hello", Body: "Hi",
					CreatedAt: time.Now().UTC()})
			dir := t.TempDir()
			sender := outbox.Channels{Email: outbox.FileSender{Dir: filepath.Join(dir, "mail"), From: "Gatehouse <noreply@example.com>"},
				SMS: outbox.SMSFileSender{Dir: filepath.Join(dir, "sms")}}
			if n, err := worker(db, sender, "node-1").DeliverDue(context.Background()); err != nil || n != 2 {
				t.Fatalf("delivered %d, %v", n, err)
			}
			texts, _ := filepath.Glob(filepath.Join(dir, "sms", "*.txt"))
			mails, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
			if len(texts) != 1 || len(mails) != 1 {
				t.Fatalf("texts %v, mails %v", texts, mails)
			}
			raw, _ := os.ReadFile(texts[0])
			lines := strings.SplitN(string(raw), "\n", 2)
			if lines[0] != "+33612345678" || strings.TrimSpace(lines[1]) != "Your Gatehouse code is 123456." {
				t.Errorf("SMS file:\n%s", raw)
			}
		})
	}
}

// A batch of e-mail alone is recorded sent though no text was ever written
// (the SMS directory does not exist): flushing an unused sink is no failure.
func TestMailWithoutTextsIsRecordedSent(t *testing.T) {
	db, _ := storetest.Backends(t)[0].Open(t)
	queue(t, db, gatehouse.Message{ID: "m1", MessageID: "m1@gatehouse.example.com", To: "ann@example.com", Subject: "Hello",
		Body: "Hi", CreatedAt: time.Now().UTC()})
	dir := t.TempDir()
	sender := outbox.Channels{Email: outbox.FileSender{Dir: filepath.Join(dir, "mail"), From: "Gatehouse <noreply@example.com>"},
		SMS: outbox.SMSFileSender{Dir: filepath.Join(dir, "sms")}}
	w := worker(db, sender, "node-1")
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("delivered %d, %v", n, err)
	}
	w.Owner = "node-2" // another node would find nothing left, even once the lease ends
	w.Clock = apitest.NewClock(time.Now().Add(time.Hour))
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 0 {
		t.Errorf("%d messages due again after delivery (%v)", n, err)
	}
}

// The HTTP provider posts each text as JSON with the bearer secret; a
// gateway that fails gets the same text again later, with the same id, so
// it can drop a repeat; a 2xx ends it (R-N2, R-N1).
func TestTextsThroughTheHTTPProvider(t *testing.T) {
	b := storetest.Backends(t)[0]
	db, _ := b.Open(t)
	var (
		mu       sync.Mutex
		received []map[string]string
		headers  []http.Header
		fail     = true
	)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		received, headers = append(received, body), append(headers, r.Header.Clone())
		if fail {
			fail = false
			http.Error(w, "try later", http.StatusServiceUnavailable)
		}
	}))
	defer gateway.Close()
	sms, err := outbox.NewSMSHTTPSender(gateway.URL+"/send", "gateway-secret")
	if err != nil {
		t.Fatal(err)
	}
	queue(t, db, text("m1", "+14155550123", "Votre code Gatehouse est 654321."))
	clock := apitest.NewClock(time.Now().UTC())
	w := worker(db, outbox.Channels{Email: senderFunc(func(context.Context, gatehouse.Message) error { return nil }), SMS: sms}, "node-1")
	w.Clock = clock
	if _, err := w.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour) // past the back-off
	if n, err := w.DeliverDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry delivered %d, %v", n, err)
	}
	clock.Advance(time.Hour)
	if n, _ := w.DeliverDue(context.Background()); n != 0 {
		t.Errorf("%d deliveries after the gateway accepted", n)
	}
	if len(received) != 2 {
		t.Fatalf("the gateway got %d requests, want 2 (one refused, one accepted)", len(received))
	}
	for i, body := range received {
		if body["to"] != "+14155550123" || body["text"] != "Votre code Gatehouse est 654321." || body["id"] != "m1@gatehouse.example.com" {
			t.Errorf("request %d: %v", i, body)
		}
		if headers[i].Get("Authorization") != "Bearer gateway-secret" || headers[i].Get("Idempotency-Key") != "m1@gatehouse.example.com" {
			t.Errorf("request %d headers: %v", i, headers[i])
		}
	}
	if _, err := outbox.NewSMSHTTPSender("ftp://gateway", ""); err == nil {
		t.Errorf("an ftp:// gateway was accepted")
	}
}

// The file senders sync their file system when they wrote a file since
// they last did, and only then: a flush after a run of webhooks, which
// writes no file, costs nothing, while an e-mail or a text written is still
// made durable before the worker records it sent. (Not parallel: the count
// of syncs is the process's.)
func TestFileSendersSyncOnlyWhenTheyWroteAFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("elsewhere each file is synced as it is written")
	}
	dir := t.TempDir()
	sender := outbox.Channels{Email: outbox.FileSender{Dir: filepath.Join(dir, "mail"), From: "Gatehouse <noreply@example.com>"},
		SMS:     outbox.SMSFileSender{Dir: filepath.Join(dir, "sms")},
		Webhook: senderFunc(func(context.Context, gatehouse.Message) error { return nil })}
	ctx := context.Background()
	message := func(id, channel, to string) gatehouse.Message {
		return gatehouse.Message{ID: id, MessageID: id + "@gatehouse.example.com", Channel: channel, To: to, Subject: "Hello",
			Body: "Hi", CreatedAt: time.Now().UTC()}
	}
	for _, step := range []struct {
		name  string
		sends []gatehouse.Message
		syncs int64
	}{
		{"a flush before anything was written", nil, 0},
		{"webhooks only", []gatehouse.Message{message("w1", gatehouse.ChannelWebhook, "sub-1"), message("w2", gatehouse.ChannelWebhook, "sub-1")}, 0},
		{"an e-mail", []gatehouse.Message{message("m1", gatehouse.ChannelEmail, "ann@example.com")}, 1},
		{"nothing more", nil, 0},
		{"an e-mail and a text, in two directories", []gatehouse.Message{message("m2", gatehouse.ChannelEmail, "bob@example.com"),
			message("s1", gatehouse.ChannelSMS, "+33612345678")}, 2},
		{"webhooks again", []gatehouse.Message{message("w3", gatehouse.ChannelWebhook, "sub-1")}, 0},
	} {
		for _, m := range step.sends {
			if err := sender.Send(ctx, m); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
		}
		before := outbox.FileSystemSyncs()
		if err := sender.Flush(); err != nil {
			t.Fatalf("%s: flush: %v", step.name, err)
		}
		if got := outbox.FileSystemSyncs() - before; got != step.syncs {
			t.Errorf("%s: %d file system syncs, want %d", step.name, got, step.syncs)
		}
	}
}
