package people

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Any phone input is refused with a validation error or stored as E.164:
// "+", then digits only, and normalising it again changes nothing (R-U7).
func FuzzNormalizePhone(f *testing.F) {
	for _, seed := range []string{"+33 6 12 34 56 78", "+1 (415) 555-2671", "06 12 34 56 78", "+44", "", "+999999999999999999999", "tel:+33612345678", "+33 6 12 34 56 78 ext 12"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := normalizePhone(raw)
		if err != nil {
			if gatehouse.ErrorCode(err) != gatehouse.EINVALID {
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
		if again, err := normalizePhone(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{"+33 6 12 34 56 78": "+33612345678", "+1 (415) 555-2671": "+14155552671", "": ""} {
		if got, err := normalizePhone(in); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
}
