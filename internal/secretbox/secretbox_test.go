package secretbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := LoadKey("", dir)
	if string(again) != string(key) {
		t.Fatal("the key file is not reused")
	}
	if info, _ := os.Stat(filepath.Join(dir, "secret.key")); info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", info.Mode().Perm())
	}
	box, _ := New(key)
	sealed := box.Seal("JBSWY3DPEHPK3PXP", "totp:u1")
	if strings.Contains(sealed, "JBSWY3DPEHPK3PXP") || sealed == box.Seal("JBSWY3DPEHPK3PXP", "totp:u1") {
		t.Errorf("sealed %q shows the secret or repeats", sealed)
	}
	if plain, err := box.Open(sealed, "totp:u1"); err != nil || plain != "JBSWY3DPEHPK3PXP" {
		t.Errorf("open: %q, %v", plain, err)
	}
	if _, err := box.Open(sealed, "totp:u2"); err == nil {
		t.Error("opened under another context")
	}
	other, _ := New(make([]byte, 32))
	if _, err := other.Open(sealed, "totp:u1"); err == nil {
		t.Error("opened with another key")
	}
	if _, err := LoadKey("abcd", dir); err == nil {
		t.Error("a short GATEHOUSE_SECRET_KEY was accepted")
	}
}

// While the server key is replaced, a box with the new key and the old one
// opens what either sealed, and seals with the new key only: a box with
// the new key alone opens what it sealed, one with the old key alone does
// not.
func TestPreviousKey(t *testing.T) {
	oldKey, newKey := make([]byte, 32), make([]byte, 32)
	newKey[0] = 1
	oldBox, _ := New(oldKey)
	newBox, _ := New(newKey)
	ring, err := New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	sealedBefore := oldBox.Seal("before", "rm:u1")
	if plain, err := ring.Open(sealedBefore, "rm:u1"); err != nil || plain != "before" {
		t.Errorf("the ring opens what the old key sealed: %q, %v", plain, err)
	}
	if _, err := ring.Open(sealedBefore, "rm:u2"); err == nil {
		t.Error("the previous key opened under another context")
	}
	sealedDuring := ring.Seal("during", "rm:u1")
	if plain, err := newBox.Open(sealedDuring, "rm:u1"); err != nil || plain != "during" {
		t.Errorf("the new key alone opens what the ring sealed: %q, %v", plain, err)
	}
	if _, err := oldBox.Open(sealedDuring, "rm:u1"); err == nil {
		t.Error("the ring sealed with the previous key")
	}
	if _, err := New(newKey, []byte("short")); err == nil {
		t.Error("a previous key of the wrong size was accepted")
	}
}
