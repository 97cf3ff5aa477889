package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/outbox"
)

// sendToFiles writes a message as a node without SMTP does, through the
// outbox's own file sender.
func sendToFiles(t *testing.T, dataDir, to, subject, body string, at time.Time) {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	m := gatehouse.Message{ID: id, MessageID: id + "@gatehouse.example.com", To: to, Subject: subject, Body: body, CreatedAt: at}
	sender := outbox.FileSender{Dir: filepath.Join(dataDir, "mail"), From: "Gatehouse <noreply@gatehouse.example.com>"}
	if err := sender.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// mailRun runs `gatehouse mail …` with GATEHOUSE_DATA_DIR set to dataDir.
func mailRun(dataDir string, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	env := func(k string) string {
		if k == "GATEHOUSE_DATA_DIR" {
			return dataDir
		}
		return ""
	}
	err := run(context.Background(), append([]string{"mail"}, args...), env, nil, &out, &errOut)
	return out.String(), err
}

// `gatehouse mail last` finds the newest message to an address among the
// files the outbox wrote, and undoes their encodings: the link comes out
// whole, as it can be pasted into a browser.
func TestMailLast(t *testing.T) {
	dir := t.TempDir()
	if _, err := mailRun(dir, "last", "--to", "ann@example.com"); err == nil || !strings.Contains(err.Error(), "no e-mail in") {
		t.Errorf("no mail at all: %v", err)
	}

	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// Long enough for quoted-printable to cut it, and with "=" in it.
	link := func(n string) string {
		return "http://127.0.0.1:8080/activate?token=gh_inv_" + strings.Repeat(n, 43) + "&lang=fr&x=" + strings.Repeat("y", 40)
	}
	frenchBody := "Bonjour Zoé,\n\nVous avez été ajoutée à « Magasin 12 ». Pour activer votre compte, ouvrez ce lien :\n\n%s\n\nÀ bientôt.\n"
	sendToFiles(t, dir, "ann@example.com", "Activez votre compte — Magasin 12", strings.Replace(frenchBody, "%s", link("a"), 1), at)
	sendToFiles(t, dir, "ann@example.com", "Activez votre compte — Magasin 12", strings.Replace(frenchBody, "%s", link("b"), 1), at.Add(time.Minute))
	// The same second as the one before, but queued after it.
	sendToFiles(t, dir, "ann@example.com", "Activez votre compte — Magasin 13", strings.Replace(frenchBody, "%s", link("c"), 1), at.Add(time.Minute))
	sendToFiles(t, dir, "bob@example.com", "For Bob", "Open "+link("d")+".\n", at.Add(time.Hour))
	sendToFiles(t, dir, "cid@example.com", "No link", "Your username changed.\n", at)
	raw, err := os.ReadFile(mustGlob(t, filepath.Join(dir, "mail", "*.eml"))[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("=3D")) && !bytes.Contains(raw, []byte("base64")) {
		t.Fatalf("the fixture is not encoded; the test would prove nothing:\n%s", raw)
	}

	out, err := mailRun(dir, "last", "--to", "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Subject: Activez votre compte — Magasin 13", "Bonjour Zoé,", "« Magasin 12 »", "\n" + link("c") + "\n", "To: <ann@example.com>"} {
		if !strings.Contains(out, want) {
			t.Errorf("the newest mail to ann lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "=3D") || strings.Contains(out, "=\n") || strings.Contains(out, "\r") {
		t.Errorf("still encoded:\n%s", out)
	}

	if out, err := mailRun(dir, "last", "--to", "ANN@example.com", "--link"); err != nil || out != link("c")+"\n" {
		t.Errorf("--link printed %q (%v), want %q", out, err, link("c"))
	}
	if out, err := mailRun(dir, "last", "--link", "--to", "bob@example.com"); err != nil || out != link("d")+"\n" {
		t.Errorf("--link before --to, trailing full stop: %q (%v)", out, err)
	}
	if _, err := mailRun(dir, "last", "--to", "cid@example.com", "--link"); err == nil || !strings.Contains(err.Error(), "has no link") {
		t.Errorf("a mail without a link: %v", err)
	}
	if _, err := mailRun(dir, "last", "--to", "dee@example.com"); err == nil || !strings.Contains(err.Error(), "no e-mail to dee@example.com") {
		t.Errorf("nobody wrote to dee: %v", err)
	}
	for _, bad := range [][]string{{"last"}, {"first", "--to", "ann@example.com"}, {}, {"last", "--to", "ann@example.com", "extra"}} {
		if _, err := mailRun(dir, bad...); err == nil {
			t.Errorf("mail %q was accepted", bad)
		}
	}
	if out, err := mailRun(t.TempDir(), "last", "--to", "ann@example.com", "--data-dir", dir, "--link"); err != nil || out != link("c")+"\n" {
		t.Errorf("--data-dir over the environment: %q (%v)", out, err)
	}
}

// Mail from elsewhere (a file copied from a real mailbox) may be multipart
// with base64 parts and encoded words: the text part is the one shown.
func TestMailLastMultipart(t *testing.T) {
	dir := t.TempDir()
	msg := "From: Gatehouse <noreply@example.com>\r\n" +
		"To: =?UTF-8?Q?Zo=C3=A9?= <zoe@example.com>\r\n" +
		"Subject: =?UTF-8?B?QWN0aXZleiB2b3RyZSBjb21wdGUgw6AgUGFyaXM=?=\r\n" +
		"Date: Sun, 01 Mar 2026 09:00:00 +0000\r\n" +
		"Message-ID: <1@example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p><a href=\"https://html.example.com/\">here</a></p>\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"QWxsw7QgWm/DqSwgb3V2cmV6IGh0dHBzOi8vZ2F0ZWhvdXNlLmV4YW1wbGUuY29tL2FjdGl2YXRl\r\nP3Rva2VuPWdoX2ludl94eXog\r\n" +
		"--b1--\r\n"
	if err := os.MkdirAll(filepath.Join(dir, "mail"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mail", "1.eml"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := mailRun(dir, "last", "--to", "zoe@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Subject: Activez votre compte à Paris") || !strings.Contains(out, "Allô Zoé, ouvrez https://gatehouse.example.com/activate?token=gh_inv_xyz") ||
		strings.Contains(out, "<p>") {
		t.Errorf("decoded:\n%s", out)
	}
	if out, err := mailRun(dir, "last", "--to", "zoe@example.com", "--link"); err != nil || out != "https://gatehouse.example.com/activate?token=gh_inv_xyz\n" {
		t.Errorf("--link: %q (%v)", out, err)
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no file matches %s (%v)", pattern, err)
	}
	return files
}
