package app

import (
	"errors"
	"io/fs"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// gcPercent reads GOGC's current value.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// collect runs a collection and waits until the pacing hook has seen one.
func collect(t *testing.T) {
	t.Helper()
	seen := pacing.collections.Load()
	for deadline := time.Now().Add(20 * time.Second); pacing.collections.Load() == seen; {
		if time.Now().After(deadline) {
			t.Fatal("the pacing hook did not run after a collection")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// A node's process lets a small heap grow to the floor before collecting,
// keeps at it after every collection, leaves an operator's GOGC alone, and
// keeps under a container's memory limit.
func TestPaceCollector(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer collectAbove(0)
	noLimit := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	// This test's process has far less than half the floor live.
	PaceCollector(env(nil), noLimit)
	if got := gcPercent(); got <= 100 {
		t.Errorf("GOGC unset: GOGC is %d, want more than 100 for a small heap", got)
	}
	debug.SetGCPercent(100)
	collect(t)
	if got := gcPercent(); got <= 100 {
		t.Errorf("after a collection GOGC is %d: the hook did not set it again", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("no container limit: a memory limit of %d was set", got)
	}

	PaceCollector(env(map[string]string{"GOGC": "100"}), noLimit)
	debug.SetGCPercent(100)
	collect(t)
	if got := gcPercent(); got != 100 {
		t.Errorf("GOGC=100 set by the operator: it became %d", got)
	}

	container := func(path string) ([]byte, error) {
		if path != cgroupMemoryMax {
			return nil, errors.New("read " + path)
		}
		return []byte("1073741824\n"), nil
	}
	PaceCollector(env(nil), container)
	if got := debug.SetMemoryLimit(-1); got != 805306368 {
		t.Errorf("a 1 GiB container: the memory limit is %d, want three quarters of it", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	PaceCollector(env(map[string]string{"GOMEMLIMIT": "2GiB"}), container)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set: the node set a limit of %d anyway", got)
	}
}

// The goal is the floor while less than half of it is live, then twice
// what is live.
func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{{0, 100}, {1 * mib, 6300}, {10 * mib, 540}, {16 * mib, 300}, {32 * mib, 100}, {500 * mib, 100}} {
		if got := gcPercentFor(c.live, 64*mib); got != c.want {
			t.Errorf("gcPercentFor(%d MiB live) = %d, want %d", c.live/mib, got, c.want)
		}
	}
}

func TestSoftMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{"max\n": 0, "": 0, "0": 0, "-5": 0, "nonsense": 0, "400000\n": 300000} {
		got, ok := softMemoryLimit(in)
		if got != want || ok != (want > 0) {
			t.Errorf("softMemoryLimit(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
}
