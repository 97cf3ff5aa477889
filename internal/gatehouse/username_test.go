package gatehouse

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// wantInvalid checks that err refuses field with a validation error.
func wantInvalid(t *testing.T, input string, err error, field string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || e.Field != field {
		t.Errorf("%q: got %v, want a validation error on %s", input, err, field)
	}
}

// Spellings of one address that people cannot tell apart name one identity:
// full-width forms (the @ and the dot too), case, composed or decomposed
// accents, an IDN domain typed in Unicode or in its ASCII form.
func TestLookAlikeUsernamesAreOneIdentity(t *testing.T) {
	for _, group := range [][]string{
		{"zoe@example.com", "ｚｏｅ@ｅｘａｍｐｌｅ.ｃｏｍ", "ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ＺＯＥ＠ＥＸＡＭＰＬＥ．ＣＯＭ", " Zoe@Example.COM "},
		{"zoé@example.com", "zoe\u0301@example.com", "ZOÉ@EXAMPLE.COM"},
		{"ann@bücher.de", "ann@BÜCHER.de", "ann@xn--bcher-kva.de", "Ann@ｂüｃｈｅｒ.ｄｅ"},
	} {
		want := UsernameKey(group[0])
		for _, u := range group {
			if got := UsernameKey(u); got != want {
				t.Errorf("UsernameKey(%q) = %q, want %q like %q", u, got, want, group[0])
			}
			shown, err := ParseUsername("username", u)
			if err != nil {
				t.Errorf("ParseUsername(%q): %v", u, err)
				continue
			}
			if got := UsernameKey(shown); got != want {
				t.Errorf("the key of %q as kept (%q) is %q, want %q", u, shown, got, want)
			}
		}
	}
}

// The username kept for display is what was typed, trimmed, with full-width
// forms folded and accents composed: its case stays.
func TestParseUsernameKeepsCaseAndFoldsWidth(t *testing.T) {
	for in, want := range map[string]string{
		" Ann.Lee@Example.COM ": "Ann.Lee@Example.COM",
		"ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ":       "zoe@example.com",
		"Zoe\u0301@example.com": "Zoé@example.com",
		"田中たろう@example.jp":      "田中たろう@example.jp",
		"김철수@example.kr":        "김철수@example.kr",
		"Σοφία@example.gr":      "Σοφία@example.gr",
		"ann+tag@bücher.de":     "ann+tag@bücher.de",
	} {
		got, err := ParseUsername("username", in)
		if err != nil || got != want {
			t.Errorf("ParseUsername(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// A username that shows as less than it holds could be taken for another's:
// zero-width characters, soft hyphens, byte order marks, variation
// selectors and Hangul fillers are refused, in the local part and in the
// domain (where IDNA would silently drop some of them).
func TestInvisibleCharactersInUsernamesAreRefused(t *testing.T) {
	for _, u := range []string{
		"ann\u200b@example.com", "an\u200dn@example.com", "an\u200cn@example.com", "\ufeffann@example.com",
		"ann@exam\u00adple.com", "ann\u2060@example.com", "ann@example\ufe0f.com", "ann\u3164@example.com",
		"ann\u180e@example.com",
	} {
		_, err := ParseUsername("username", u)
		wantInvalid(t, u, err, "username")
	}
}

// Bidirectional controls reorder what surrounds them: "moc.elpmaxe@" could
// show as another address. They are refused in usernames and in names.
func TestBidiControlsInUsernamesAndNamesAreRefused(t *testing.T) {
	for _, r := range []rune{0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069} {
		u := "ann" + string(r) + "@example.com"
		_, err := ParseUsername("username", u)
		wantInvalid(t, u, err, "username")
		name := "Ann" + string(r) + "Lee"
		_, err = ValidatePersonName("first_name", name)
		wantInvalid(t, name, err, "first_name")
		_, err = ValidatePersonName("last_name", name)
		wantInvalid(t, name, err, "last_name")
	}
	if got, err := ValidatePersonName("last_name", " אבן "); err != nil || got != "אבן" {
		t.Errorf("a right-to-left name without controls: %q, %v", got, err)
	}
}

// A local part of letters from two alphabets is how "pаypal" (with a
// Cyrillic а) passes for "paypal": refused. Digits and punctuation belong
// to every script, and the scripts one language writes together (Japanese,
// Korean, Chinese) count as one.
func TestMixedScriptUsernamesAreRefused(t *testing.T) {
	for _, u := range []string{"p\u0430ypal@example.com", "\u0440aypal@example.com", "zoe\u03bf@example.com", "ann김@example.com",
		"たろうtaro@example.jp", "ひらがな한글@example.com"} {
		_, err := ParseUsername("username", u)
		wantInvalid(t, u, err, "username")
	}
	for _, u := range []string{"\u043f\u0430\u0432\u0435\u043b.2024@example.ru", "田中たろう@example.jp", "タロウ_01@example.jp",
		"홍길동@example.kr", "洪吉童한@example.kr", "ㄅㄆ中文@example.tw", "zoé-99@example.fr", "jean.o'neil@example.ie"} {
		if _, err := ParseUsername("username", u); err != nil {
			t.Errorf("ParseUsername(%q): %v", u, err)
		}
	}
}

// The field named in a refusal is the caller's: a bulk file names its
// column "email".
func TestParseUsernameNamesTheCallersField(t *testing.T) {
	for _, u := range []string{"", "ann", "ann\u200b@example.com", "p\u0430ypal@example.com", "☃@example.com", "ann@-bad-.com", "ann@localhost"} {
		_, err := ParseUsername("email", u)
		wantInvalid(t, u, err, "email")
	}
}

// Characters PRECIS does not take in an identifier are refused: symbols,
// spaces, title-case letters, unassigned code points.
func TestParseUsernameRefusesWhatPRECISRefuses(t *testing.T) {
	for _, u := range []string{"☃@example.com", "ann lee@example.com", "ann\u3000lee@example.com", "ǅ@example.com",
		"ann\U000e0001@example.com", "a\u0378@example.com", "😀@example.com"} {
		_, err := ParseUsername("username", u)
		wantInvalid(t, u, err, "username")
	}
}

// UsernameKey answers for anything typed at sign-in, addresses or not; what
// PRECIS or IDNA refuse is keyed the old way, trimmed and lower-cased.
func TestUsernameKeyIsTotal(t *testing.T) {
	for in, want := range map[string]string{
		" RM-Station-1 ":       "rm-station-1",
		"":                     "",
		"☃@Example.com":        "☃@example.com",
		"Ann@-Bad-.com":        "ann@-bad-.com",
		"\xff@Example.com":     "\ufffd@example.com",
		"Ann@Example.COM":      "ann@example.com",
		"a\"b@c\"@Example.com": "a\"b@c\"@example.com",
	} {
		if got := UsernameKey(in); got != want {
			t.Errorf("UsernameKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// An accepted username is an e-mail address ParseEmail accepts too, keeps
// its key when parsed again, and is keyed by PRECIS and IDNA, never the old
// way; keys are stable, and nothing panics.
func FuzzParseUsername(f *testing.F) {
	for _, seed := range []string{"ann@example.com", " Ann.Lee@Example.COM ", "ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "zoe\u0301@example.com",
		"p\u0430ypal@example.com", "ann\u200b@example.com", "ann@exam\u00adple.com", "田中たろう@example.jp", "ann@xn--bcher-kva.de",
		"ann@bücher.de", "ǅ@example.com", "ΣΑΣ@example.gr", "\xff", "a@b", "ann\u202e@example.com", "İ@example.com"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key := UsernameKey(s)
		got, err := ParseUsername("username", s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		switch {
		case !utf8.ValidString(got) || got != strings.TrimSpace(got):
			t.Fatalf("accepted %q as %q", s, got)
		case strings.ContainsFunc(got, isInvisible) || strings.ContainsFunc(got, isBidiControl):
			t.Fatalf("accepted hidden characters in %q", got)
		}
		if _, err := ParseEmail("username", got); err != nil {
			t.Fatalf("accepted %q as %q, which ParseEmail refuses: %v", s, got, err)
		}
		if again, err := ParseUsername("username", got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
		if _, ok := mappedKey(strings.TrimSpace(got)); !ok {
			t.Fatalf("accepted %q, which is keyed the old way", got)
		}
		if k := UsernameKey(got); k != key {
			t.Fatalf("the key of %q is %q, but of its kept form %q it is %q", s, key, got, k)
		}
		if k := UsernameKey(key); k != key {
			t.Fatalf("the key %q of %q keys as %q", key, s, k)
		}
	})
}

// plainAlphabet is what plain addresses are made of, and the characters
// next to them that plainAddress must not let through.
const plainAlphabet = "abzAZ09.-_+@x~ "

// checkPlainShortcut fails when plainAddress takes s (trimmed) but the full
// passes would have parsed or keyed it otherwise; it tells whether s was
// taken.
func checkPlainShortcut(t *testing.T, s string) bool {
	t.Helper()
	s = strings.TrimSpace(s)
	if !plainAddress(s) {
		return false
	}
	if got, err := parseByPasses("username", s); err != nil || got != s {
		t.Fatalf("%q is taken as plain, but the full passes parse it as %q, %v", s, got, err)
	}
	if key := keyByPasses(s); key != strings.ToLower(s) {
		t.Fatalf("%q is taken as plain, but the full passes key it as %q", s, key)
	}
	return true
}

// The shortcut for plain addresses gives what the full passes give: random
// strings of the characters plain addresses are made of, and of those that
// must not pass, three hundred thousand of them.
func TestPlainAddressesParseAndKeyAsTheFullPassesDo(t *testing.T) {
	for _, s := range []string{"ann@example.com", "Ann.Lee+cctv@Example.COM", "a@b.c", "zoe_1-x@9.example.com", "a@1.2", "1ann@example.com"} {
		if !checkPlainShortcut(t, s) {
			t.Errorf("%q is not taken as plain", s)
		}
	}
	for _, s := range []string{"ann.@example.com", "ann-@example.com", ".ann@example.com", "ann..lee@example.com", "ann@example", "ann@-example.com",
		"ann@example-.com", "ann@xn--bcher-kva.de", "ann@ab--c.com", "ann@example..com", "ann@.example.com", "ann@example.com.",
		"a~b@example.com", "ann@exa_mple.com", "a@b@example.com", "@example.com", "ann lee@example.com", "ann@bücher.de"} {
		if checkPlainShortcut(t, s) {
			t.Errorf("%q is taken as plain", s)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	part := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = plainAlphabet[rng.IntN(len(plainAlphabet))]
		}
		return string(b)
	}
	taken := 0
	for range 300_000 {
		s := part(1+rng.IntN(6)) + "@" + part(1+rng.IntN(4)) + "." + part(1+rng.IntN(4))
		if checkPlainShortcut(t, s) {
			taken++
		}
	}
	if taken < 3_000 {
		t.Fatalf("only %d random strings were plain: the test checks too little", taken)
	}
}

// The fuzzer's bytes are spelled in plainAlphabet, so that most inputs are
// near the shortcut's edges.
func FuzzPlainAddressShortcut(f *testing.F) {
	for _, seed := range []string{"ann@example.com", "a.b+c@d-e.f", "x@y.zz", "1@2.3"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		b := make([]byte, len(raw))
		for i, c := range raw {
			if strings.IndexByte(plainAlphabet, c) >= 0 {
				b[i] = c
			} else {
				b[i] = plainAlphabet[int(c)%len(plainAlphabet)]
			}
		}
		checkPlainShortcut(t, string(b))
	})
}
