package versionbook

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// The book gives a client account's version with its integrator's, starting
// at zero, raised once per account for each committed write.
func TestVersionBook(t *testing.T) {
	b := New()
	if _, ok := b.Get("client"); ok {
		t.Fatal("an unknown account is known")
	}
	b.Learn("client", "integ")
	if v, ok := b.Get("client"); !ok || v != (gatehouse.AuthzVersion{}) {
		t.Errorf("a new account: %+v %v", v, ok)
	}
	b.Publish(map[string]int64{"client": 0})
	b.Publish(map[string]int64{"client": 0, "integ": 0})
	if v, _ := b.Get("client"); v != (gatehouse.AuthzVersion{Own: 2, Integrator: 1}) {
		t.Errorf("client version %+v, want own 2 and integrator 1", v)
	}
	b.Learn("client", "integ") // read again: nothing goes back
	if v, _ := b.Get("client"); v != (gatehouse.AuthzVersion{Own: 2, Integrator: 1}) {
		t.Errorf("a second read moved the version: %+v", v)
	}
}
