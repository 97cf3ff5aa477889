package app

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// heapFloor is how large a node lets Go's heap grow before the collector
// runs, however little of it is live; past half of it, the heap may grow to
// twice what is live, Go's default. A node keeps little in Go's heap (about
// 10 MB while it writes a 100,000-line bulk invitation on SQLite, whose page
// cache is C memory outside it) and makes garbage fast, so at Go's default
// the collector ran about thirty times a second, and on two cores its
// marking, write barriers and sweeping took a seventh of a large bulk's
// time and of the adds' rate (docs/decisions.md, "The collector's pace").
const heapFloor = 64 << 20

// cgroupMemoryMax is where a container's memory limit is read (cgroup v2).
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// PaceCollector sets the garbage collector's pace for a process that runs
// a node, unless the operator set it: unless GOGC is set, the heap may
// reach heapFloor before a collection (collectAbove); and, when the process
// runs in a container with a memory limit and GOMEMLIMIT is not set, Go's
// soft memory limit is three quarters of it, so that near it the collector
// works harder rather than the container run out of memory. readFile reads
// cgroupMemoryMax.
func PaceCollector(getenv func(string) string, readFile func(string) ([]byte, error)) {
	if getenv("GOGC") == "" {
		collectAbove(heapFloor)
	} else {
		collectAbove(0)
	}
	if getenv("GOMEMLIMIT") == "" {
		if content, err := readFile(cgroupMemoryMax); err == nil {
			if limit, ok := softMemoryLimit(string(content)); ok {
				debug.SetMemoryLimit(limit)
			}
		}
	}
}

// collectAbove keeps the collector's next goal at floor bytes of heap or
// at twice what is live, whichever is more: after each collection it sets
// GOGC from the heap that collection found live. Go has no such setting of
// its own; GOGC alone is a multiple of what is live, which for a small live
// heap means collecting very often, and for a large one, a large heap.
// floor 0 stops it (the operator chose GOGC).
func collectAbove(floor uint64) {
	pacing.floor.Store(floor)
	if floor > 0 {
		debug.SetGCPercent(gcPercentFor(liveHeap(), floor))
	}
	pacing.once.Do(func() {
		afterEachCollection(func() {
			if floor := pacing.floor.Load(); floor > 0 {
				debug.SetGCPercent(gcPercentFor(liveHeap(), floor))
			}
			pacing.collections.Add(1)
		})
	})
}

// pacing is collectAbove's state: one hook a process.
var pacing struct {
	once        sync.Once
	floor       atomic.Uint64
	collections atomic.Int64 // collections the hook saw, for tests
}

// gcPercentFor is the GOGC that makes a collector that found live bytes
// live aim at floor, or at twice live when that is more.
func gcPercentFor(live, floor uint64) int {
	if live == 0 || live >= floor/2 {
		return 100
	}
	return int(floor*100/live) - 100
}

// liveHeap is the heap the last collection found live, in bytes.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// afterEachCollection runs fn after every garbage collection, for the life
// of the process: each collection frees a sentinel whose cleanup runs fn and
// sets up the next one.
func afterEachCollection(fn func()) {
	type sentinel struct{ _ [16]byte } // not tiny: a tiny object shares its block and may outlive a cycle
	var arm func()
	arm = func() {
		runtime.AddCleanup(new(sentinel), func(struct{}) {
			fn()
			arm()
		}, struct{}{})
	}
	arm()
}

// softMemoryLimit is three quarters of a cgroup's memory.max, which holds a
// number of bytes or "max" (no limit).
func softMemoryLimit(memoryMax string) (int64, bool) {
	limit, err := strconv.ParseInt(strings.TrimSpace(memoryMax), 10, 64)
	if err != nil || limit <= 0 {
		return 0, false
	}
	return limit / 4 * 3, true
}
