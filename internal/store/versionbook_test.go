package store

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The book gives a client account's version with its integrator's, starting
// at zero, raised once per account for each committed write.
func TestVersionBook(t *testing.T) {
	b := newVersionBook()
	if _, ok := b.get("client"); ok {
		t.Fatal("an unknown account is known")
	}
	b.learn("client", "integ")
	if v, ok := b.get("client"); !ok || v != (gatehouse.AuthzVersion{}) {
		t.Errorf("a new account: %+v %v", v, ok)
	}
	b.publish(map[string]int64{"client": 0})
	b.publish(map[string]int64{"client": 0, "integ": 0})
	if v, _ := b.get("client"); v != (gatehouse.AuthzVersion{Own: 2, Integrator: 1}) {
		t.Errorf("client version %+v, want own 2 and integrator 1", v)
	}
	b.learn("client", "integ") // read again: nothing goes back
	if v, _ := b.get("client"); v != (gatehouse.AuthzVersion{Own: 2, Integrator: 1}) {
		t.Errorf("a second read moved the version: %+v", v)
	}
}
