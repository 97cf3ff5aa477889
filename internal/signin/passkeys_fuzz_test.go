package signin

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
	"github.com/gatehouse/gatehouse/internal/passkeytest"
)

// sampleAnswers are a real creation and assertion of a software passkey.
func sampleAnswers(f *testing.F) (creation, assertion []byte) {
	a := passkeytest.New("gatehouse.example.com", "https://gatehouse.example.com")
	creation, err := a.Create([]byte(`{"publicKey":{"challenge":"YS1jaGFsbGVuZ2UtZm9yLXRoZS1mdXp6LXRlc3Q","user":{"id":"dXNlcg"}}}`))
	if err != nil {
		f.Fatal(err)
	}
	assertion, err = a.Sign("YS1jaGFsbGVuZ2UtZm9yLXRoZS1mdXp6LXRlc3Q")
	if err != nil {
		f.Fatal(err)
	}
	return creation, assertion
}

// The browser's answers come from outside: whatever they hold, reading
// them either gives a credential with an id or refuses at the field, and
// never panics.
func FuzzParsePasskeyAnswers(f *testing.F) {
	creation, assertion := sampleAnswers(f)
	f.Add(creation)
	f.Add(assertion)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"","rawId":"","type":"public-key","response":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if c, err := ParsePasskeyCreation(raw); err == nil {
			if len(c.RawID) == 0 {
				t.Errorf("a creation without an id accepted: %q", raw)
			}
		} else if e, ok := err.(*gatehouse.Error); !ok || e.Field != "credential" {
			t.Errorf("a refused creation answered %v", err)
		}
		if a, err := ParsePasskeyAssertion(raw); err == nil {
			if len(a.RawID) == 0 {
				t.Errorf("an assertion without an id accepted: %q", raw)
			}
		} else if e, ok := err.(*gatehouse.Error); !ok || e.Field != "credential" {
			t.Errorf("a refused assertion answered %v", err)
		}
	})
}

// A passkey's name is typed by its owner: kept trimmed, at most 100
// characters, without control characters.
func FuzzPasskeyName(f *testing.F) {
	for _, name := range []string{"Ann's laptop", "", "  ", "a\x00b", "Clé d'accès", string(make([]byte, 200))} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name, err := passkeyName(in)
		if err != nil {
			return
		}
		if name == "" || len([]rune(name)) > gatehouse.MaxPasskeyNameLen {
			t.Errorf("%q kept as %q", in, name)
		}
		for _, r := range name {
			if r < ' ' || r == 0x7f {
				t.Errorf("%q kept a control character", name)
			}
		}
	})
}
