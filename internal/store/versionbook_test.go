package store

import "testing"

// The book remembers every version it is told, zero included (an account
// whose rules never changed), and never goes back to an older one.
func TestVersionBook(t *testing.T) {
	b := &versionBook{versions: map[string]int64{}}
	if _, ok := b.get("a"); ok {
		t.Fatal("an unknown account is known")
	}
	b.raise("a", 0)
	if v, ok := b.get("a"); !ok || v != 0 {
		t.Errorf("after raise to 0: %d %v", v, ok)
	}
	b.raise("a", 5)
	b.raise("a", 3) // a reader that read the column before a commit
	if v, _ := b.get("a"); v != 5 {
		t.Errorf("version went back to %d", v)
	}
}
