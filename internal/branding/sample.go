package branding

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/kernel"
	"github.com/gatehouse/gatehouse/internal/messages"
)

// SampleData is what a preview fills a message with: made-up names, and a
// link that looks like the real one and opens nothing.
func SampleData(k *kernel.Kernel, now time.Time, lang string) messages.Data {
	d := messages.Data{FirstName: "Ann", AccountName: "Store 12", Username: "ann@example.com",
		Link: k.PublicURL() + "/activate?token=preview", ExpiresAt: now.Add(7 * 24 * time.Hour),
		RequestedBy: "Bob Martin (bob@example.com)", Subject: "Maintenance", Text: "The cameras restart at 2 a.m."}
	if lang == "fr" {
		d.RequestedBy, d.Subject, d.Text = "Bob Martin (bob@example.com)", "Maintenance", "Les caméras redémarrent à 2 h."
	}
	return d
}
