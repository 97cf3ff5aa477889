package app

import (
	"errors"
	"io/fs"
	"math"
	"runtime/debug"
	"testing"
)

// A node's process collects at its own pace unless the operator chose one,
// and keeps under a container's memory limit.
func TestPaceCollector(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	noLimit := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	PaceCollector(env(nil), noLimit)
	if got := debug.SetGCPercent(100); got != collectorPercent {
		t.Errorf("GOGC unset: the collector's percent is %d, want %d", got, collectorPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("no container limit: a memory limit of %d was set", got)
	}

	PaceCollector(env(map[string]string{"GOGC": "100"}), noLimit)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=100: the percent became %d", got)
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

func TestSoftMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{"max\n": 0, "": 0, "0": 0, "-5": 0, "nonsense": 0, "400000\n": 300000} {
		got, ok := softMemoryLimit(in)
		if got != want || ok != (want > 0) {
			t.Errorf("softMemoryLimit(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
}
