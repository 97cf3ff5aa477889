package store

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The book remembers every version it is told, zero included (an account
// whose rules never changed), never goes back to an older one, and gives a
// client account's version with its integrator's.
func TestVersionBook(t *testing.T) {
	b := newVersionBook()
	if _, ok := b.get("client"); ok {
		t.Fatal("an unknown account is known")
	}
	b.learn("client", "integ", gatehouse.AuthzVersion{})
	if v, ok := b.get("client"); !ok || v != (gatehouse.AuthzVersion{}) {
		t.Errorf("after learning zeros: %+v %v", v, ok)
	}
	b.raise("client", 5)
	b.raise("client", 3) // a reader that read the column before a commit
	b.raise("integ", 2)
	if v, _ := b.get("client"); v != (gatehouse.AuthzVersion{Own: 5, Integrator: 2}) {
		t.Errorf("client version %+v, want own 5 and integrator 2", v)
	}
	b.learn("client", "integ", gatehouse.AuthzVersion{Own: 4, Integrator: 1})
	if v, _ := b.get("client"); v != (gatehouse.AuthzVersion{Own: 5, Integrator: 2}) {
		t.Errorf("an older read moved the version back: %+v", v)
	}
	if _, ok := b.get("integ"); ok {
		t.Errorf("an account whose owner was never read is known")
	}
}
