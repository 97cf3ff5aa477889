package gatehouse

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// An accepted account name is what a person would call clean: trimmed,
// UTF-8, without control characters, at most 200 characters; and accepting
// it again changes nothing.
func FuzzValidateAccountName(f *testing.F) {
	for _, seed := range []string{"Acme", "  Store 12  ", "", "\x00", "é", "\xff", strings.Repeat("a", 201), "a\u0085b", "Café\tBar"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := ValidateAccountName("name", name)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		switch {
		case got == "" || got != strings.TrimSpace(got):
			t.Fatalf("accepted %q as %q: empty or untrimmed", name, got)
		case !utf8.ValidString(got):
			t.Fatalf("accepted invalid UTF-8 %q", got)
		case strings.ContainsFunc(got, isControl):
			t.Fatalf("accepted control characters in %q", got)
		case utf8.RuneCountInString(got) > MaxAccountNameLen:
			t.Fatalf("accepted %d characters", utf8.RuneCountInString(got))
		}
		if again, err := ValidateAccountName("name", got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestValidateAddressKeepsLines(t *testing.T) {
	got, err := ValidateAddress("address", " 12 Rue de la Paix\r\n75002 Paris\t")
	if err != nil || got != "12 Rue de la Paix\r\n75002 Paris" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := ValidateAddress("address", "bell\a"); ErrorCode(err) != EINVALID {
		t.Errorf("control character accepted: %v", err)
	}
}

// An accepted e-mail address is one a person can read and type back: trimmed,
// one @ with a dotted domain, no spaces, brackets or quotes, and accepting it
// again changes nothing (fuzz the username and e-mail parser).
func FuzzParseEmail(f *testing.F) {
	for _, seed := range []string{"ann@example.com", " Ann.Lee@Example.COM ", "ann", "a@b", "Ann <ann@example.com>",
		"\"a b\"@example.com", "a@b..com", "a@[127.0.0.1]", "é@exämple.fr", "a@example.com,b@example.com", "@example.com"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEmail("username", s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		local, domain, ok := strings.Cut(got, "@")
		switch {
		case got != strings.TrimSpace(got) || !ok || local == "" || !strings.Contains(domain, "."):
			t.Fatalf("accepted %q as %q", s, got)
		case strings.ContainsAny(got, " \t\r\n<>\",") || len(got) > MaxEmailLen || !utf8.ValidString(got):
			t.Fatalf("accepted unreadable address %q", got)
		}
		if again, err := ParseEmail("username", got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}
