package password

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// R-S1: length and commonness decide, never composition.
func TestCheck(t *testing.T) {
	refused := []string{
		"short-pass", "elevenchars", "Password1234", "password123!", "PASSWORDPASSWORD", "qwertyuiop12",
		"123456789012", "aaaaaaaaaaaa", "abcabcabcabc", "abcdefghijklm", "Welcome2026!", "iloveyou1234",
		"1qaz2wsx3edc4", "0987654321098", "Gatehouse2026", "zoe.martin123", strings.Repeat("x", 257), "azertyuiop12",
	}
	for _, pw := range refused {
		if err := Check(pw, "zoe.martin@example.com"); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
			t.Errorf("%q accepted", pw)
		} else if err.(*gatehouse.Error).Field != "password" {
			t.Errorf("%q refused without naming the password field", pw)
		}
	}
	accepted := []string{"correct horse battery staple", "tramway-olive-canyon", "all lowercase letters here",
		"ÉtéÀLaPlage2026", "mon chat s'appelle Gribouille", strings.Repeat("x", 10) + "yz"}
	for _, pw := range accepted {
		if err := Check(pw, "zoe.martin@example.com"); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	h := NewHasher(Params{Memory: 8 * 1024, Time: 1, Threads: 1}, 2)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil || !strings.HasPrefix(encoded, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Fatalf("hash %q, %v", encoded, err)
	}
	if again, _ := h.Hash(ctx, "correct horse battery staple"); again == encoded {
		t.Error("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"correct horse battery staple": true, "correct horse battery stapl": false, "": false} {
		if ok, err := h.Verify(ctx, pw, encoded); err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "plain"} {
		if ok, err := h.Verify(ctx, "x", bad); ok || err == nil {
			t.Errorf("malformed hash %q: %v, %v", bad, ok, err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"correct horse battery staple", "password1234", "", "\xff\xfe", "aaaaaaaaaaaaa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		err := Check(pw, "ann@example.com")
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EINVALID {
			t.Fatalf("error %v", err)
		}
		if err == nil && len([]rune(pw)) < MinLength {
			t.Fatalf("accepted %q", pw)
		}
	})
}

// A hasher takes a stored hash weaker than 8 MiB for malformed, unless it
// was itself made that weak (tests): nobody can plant a cheap hash in the
// database of a production node.
func TestWeakStoredHashesAreRefused(t *testing.T) {
	weak := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 1)
	encoded, err := weak.Hash(context.Background(), "tramway olive canyon")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := weak.Verify(context.Background(), "tramway olive canyon", encoded); !ok || err != nil {
		t.Errorf("the weak hasher refuses its own hash: %v %v", ok, err)
	}
	if ok, err := NewHasher(DefaultParams, 1).Verify(context.Background(), "tramway olive canyon", encoded); ok || err == nil {
		t.Errorf("a production hasher verified a 64 KiB hash: %v %v", ok, err)
	}
}
