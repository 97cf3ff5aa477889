package outbox_test

import (
	"io"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/messages"
	"github.com/gatehouse/gatehouse/internal/outbox"
)

// BenchmarkCompose measures what every e-mail costs its sender before the
// first byte leaves: the message drawn, its HTML part included, and
// written as it is sent.
func BenchmarkCompose(b *testing.B) {
	brand := messages.Brand{ProductName: "Acme Vision", PrimaryColour: "#7a1f5c"}
	mail, layout, err := messages.Prepare("en", messages.Activation, messages.Data{FirstName: "Zoé", AccountName: "Magasin 12",
		Username: "zoe@example.com", Link: "https://gatehouse.example.com/activate?token=gh_inv_abcdefghijklmnopqrstuvwxyz0123456789",
		ExpiresAt: time.Date(2026, 5, 8, 8, 0, 0, 0, time.UTC)}, brand, messages.Override{})
	if err != nil {
		b.Fatal(err)
	}
	msg := gatehouse.Message{ID: "x", MessageID: "x@gatehouse.example.com", To: "zoe@example.com", Subject: mail.Subject, Body: mail.Text,
		HTMLLayout: layout.Encode(), FromName: "Acme Vision", CreatedAt: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		if err := outbox.Compose("Gatehouse <noreply@gatehouse.example.com>", msg, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
