package app

import (
	"runtime/debug"
	"strconv"
	"strings"
)

// collectorPercent is the node's GOGC: the Go heap may grow to five times
// what is live before the collector runs again. A node keeps little in Go's
// heap (about 10 MB while it writes a 100,000-line bulk invitation; SQLite's
// page cache is C memory, outside it) and makes garbage fast, so Go's
// default of 100 ran the collector about thirty times a second, and on two
// cores its marking, write barriers and sweeping took a seventh of a large
// bulk's time and of the adds' rate (docs/decisions.md, "The collector's
// pace").
const collectorPercent = 400

// cgroupMemoryMax is where a container's memory limit is read (cgroup v2).
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// PaceCollector sets the garbage collector's pace for a process that runs
// a node, unless the operator set it: GOGC to collectorPercent, and, when
// the process runs in a container with a memory limit and GOMEMLIMIT is
// not set, a soft limit of three quarters of it, so that the heap a larger
// GOGC allows makes the collector work harder rather than the container
// run out of memory. readFile reads cgroupMemoryMax.
func PaceCollector(getenv func(string) string, readFile func(string) ([]byte, error)) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(collectorPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		if content, err := readFile(cgroupMemoryMax); err == nil {
			if limit, ok := softMemoryLimit(string(content)); ok {
				debug.SetMemoryLimit(limit)
			}
		}
	}
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
