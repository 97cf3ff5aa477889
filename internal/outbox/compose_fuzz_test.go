package outbox_test

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/outbox"
)

// Whatever an account's name, a brand's sender name or a text holds (line
// ends, encoded-word look-alikes, header-like lines), the message written
// is one that mail readers parse back to the same subject, sender name and
// text, with no header of its making: nothing a tenant types becomes a
// header (Bcc, a second To) or a part.
func FuzzComposeKeepsHeadersApart(f *testing.F) {
	f.Add("Activate your account for Site 1", "Acme Vision", "Hello,\n\nopen this link.\n")
	f.Add("Site\r\nBcc: spy@example.com", "Acme\r\nBcc: spy@example.com", "text\r\n\r\nBcc: x\n.\n")
	f.Add("=?UTF-8?q?fake?= ?= =?", "=?utf-8?q?A?=", "=41\n--boundary\n")
	f.Add("Activez votre compte pour Magasin 12 — très longue ligne de sujet qui dépasse soixante-dix-huit caractères", "Acmé", "Zoé")
	f.Fuzz(func(t *testing.T, subject, fromName, text string) {
		if !utf8.ValidString(subject) || !utf8.ValidString(fromName) || !utf8.ValidString(text) {
			return // texts come from validated input and templates: UTF-8
		}
		m := gatehouse.Message{ID: "m1", MessageID: "m1@gatehouse.example.com", To: "zoe@example.com", Subject: subject, Body: text,
			FromName: fromName, CreatedAt: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
		var raw bytes.Buffer
		if err := outbox.Compose("Gatehouse <noreply@gatehouse.example.com>", m, &raw); err != nil {
			return // refused whole is safe
		}
		msg, err := mail.ReadMessage(&raw)
		if err != nil {
			t.Fatalf("unreadable message: %v\n%q", err, raw.String())
		}
		want := []string{"Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
		var got []string
		for key, values := range msg.Header {
			if len(values) != 1 {
				t.Fatalf("header %s given %d times", key, len(values))
			}
			got = append(got, key)
		}
		if strings.Join(sorted(got), ",") != strings.Join(want, ",") {
			t.Fatalf("headers %v, want %v", sorted(got), want)
		}
		dec := new(mime.WordDecoder)
		if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || s != subject {
			t.Fatalf("subject %q read back as %q (%v)", subject, s, err)
		}
		from, err := mail.ParseAddress(msg.Header.Get("From"))
		wantName := fromName
		if wantName == "" {
			wantName = "Gatehouse" // no brand's name: the server's sender
		}
		if err != nil || from.Address != "noreply@gatehouse.example.com" || from.Name != wantName {
			t.Fatalf("from name %q read back as %+v (%v)", fromName, from, err)
		}
		if msg.Header.Get("To") != "<zoe@example.com>" {
			t.Fatalf("to %q", msg.Header.Get("To"))
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatalf("body: %v", err)
		}
		// Quoted-printable carries line ends as CRLF (a lone CR too).
		lines := strings.NewReplacer("\r\n", "\n", "\r", "\n")
		if lines.Replace(string(body)) != lines.Replace(text) {
			t.Fatalf("text %q read back as %q", text, body)
		}
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
