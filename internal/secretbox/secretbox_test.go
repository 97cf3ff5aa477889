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
