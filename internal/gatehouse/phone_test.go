package gatehouse

import (
	"strings"
	"testing"
)

// Any phone input, with any country picked beside it, is refused with a
// validation error or stored as E.164: "+", then digits only, and
// normalising it again changes nothing (R-U7).
func FuzzNormalizePhone(f *testing.F) {
	for _, seed := range []struct{ raw, country string }{{"+33 6 12 34 56 78", ""}, {"+1 (415) 555-2671", "FR"}, {"06 12 34 56 78", ""},
		{"06 12 34 56 78", "FR"}, {"+44", "GB"}, {"", "US"}, {"+999999999999999999999", ""}, {"tel:+33612345678", ""},
		{"+33 6 12 34 56 78 ext 12", ""}, {"415 555 2671", "us"}, {"0612345678", "ZZ"}} {
		f.Add(seed.raw, seed.country)
	}
	f.Fuzz(func(t *testing.T, raw, country string) {
		got, err := NormalizePhone(raw, country)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		if got == "" {
			if strings.TrimSpace(raw) != "" {
				t.Fatalf("%q accepted as no phone", raw)
			}
			return
		}
		if !strings.HasPrefix(got, "+") || strings.TrimLeft(got[1:], "0123456789") != "" || len(got) > 16 {
			t.Fatalf("%q stored as %q, not E.164", raw, got)
		}
		if again, err := NormalizePhone(got, ""); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestNormalizePhone(t *testing.T) {
	for _, c := range []struct{ raw, country, want string }{
		{"+33 6 12 34 56 78", "", "+33612345678"}, {"+1 (415) 555-2671", "", "+14155552671"}, {"", "", ""},
		// A national number reads in the country picked beside it; a +
		// number keeps its own country whatever was picked.
		{"06 12 34 56 78", "FR", "+33612345678"}, {"(415) 555-2671", "us", "+14155552671"}, {"+33 6 12 34 56 78", "US", "+33612345678"},
	} {
		if got, err := NormalizePhone(c.raw, c.country); err != nil || got != c.want {
			t.Errorf("%q in %q: %q, %v; want %q", c.raw, c.country, got, err, c.want)
		}
	}
	for _, c := range []struct{ raw, country string }{{"06 12 34 56 78", ""}, {"06 12 34 56 78", "FRA"}, {"12", "FR"},
		// Valid to the library, but longer than E.164's 15 digits.
		{"+4920100000000000", ""}} {
		if _, err := NormalizePhone(c.raw, c.country); ErrorCode(err) != EINVALID {
			t.Errorf("%q in %q accepted", c.raw, c.country)
		}
	}
}
