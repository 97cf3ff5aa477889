package messages

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Every language Gatehouse offers has every message, and each renders with
// the link and names in it (R-U6).
func TestEveryLanguageHasEveryMessage(t *testing.T) {
	langs := Languages()
	slices.Sort(langs)
	if want := slices.Sorted(slices.Values(gatehouse.Languages)); !slices.Equal(langs, want) {
		t.Fatalf("catalogues %v, languages offered %v", langs, want)
	}
	data := Data{FirstName: "Ann", AccountName: "Store 12", Username: "ann@example.com",
		Link: "https://gh.example.com/activate?token=gh_inv_x", ExpiresAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	for _, lang := range langs {
		for _, kind := range []string{Activation, NewSite} {
			subject, body, err := Render(lang, kind, data)
			if err != nil {
				t.Fatalf("%s %s: %v", lang, kind, err)
			}
			if !strings.Contains(subject, "Store 12") || !strings.Contains(body, "Ann") || !strings.Contains(body, "ann@example.com") {
				t.Errorf("%s %s: %q\n%s", lang, kind, subject, body)
			}
			if kind == Activation && (!strings.Contains(body, data.Link) || !strings.Contains(body, "2026-12-01")) {
				t.Errorf("%s activation mail lacks the link or the expiry:\n%s", lang, body)
			}
		}
	}
	fr, _, _ := Render("fr", Activation, data)
	en, _, _ := Render("en", Activation, data)
	if fr == en {
		t.Errorf("French and English subjects are the same: %q", fr)
	}
	if s, _, _ := Render("en", NewSite, Data{AccountName: "Evil\r\nBcc: x@example.com"}); strings.ContainsAny(s, "\r\n") {
		t.Errorf("a line break in a name reached the subject: %q", s)
	}
}

// An invitation to a temporary member says until when, in every language;
// one without an end says nothing of it.
func TestTemporaryAccessIsToldInTheInvitation(t *testing.T) {
	end := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	words := map[string]string{"en": "temporary", "fr": "temporaire"}
	for _, lang := range Languages() {
		for _, kind := range []string{Activation, NewSite} {
			data := Data{FirstName: "Ann", AccountName: "Store 12", Username: "ann@example.com",
				Link: "https://gh.example.com/activate?token=gh_inv_x", ExpiresAt: end.Add(-time.Hour)}
			_, plain, err := Render(lang, kind, data)
			if err != nil {
				t.Fatal(err)
			}
			data.AccessUntil = end
			_, temporary, err := Render(lang, kind, data)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(temporary, "2026-12-01 18:00 UTC") || !strings.Contains(temporary, words[lang]) {
				t.Errorf("%s %s: the end of access is not told:\n%s", lang, kind, temporary)
			}
			if strings.Contains(plain, words[lang]) || strings.Contains(plain, "\n\n\n") {
				t.Errorf("%s %s: access without an end reads as temporary, or leaves a gap:\n%s", lang, kind, plain)
			}
		}
	}
}
