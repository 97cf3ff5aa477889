package access

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// Snapshots is what a Cache reads: the account's authz version, and a snapshot
// of its rules; the store offers both.
type Snapshots interface {
	// AuthzVersionAsked reads the version and, when checkTokenID is set, in
	// the same read confirms that the check token asking is still live:
	// EUNAUTHENTICATED when it is not, whether the account exists or not.
	AuthzVersionAsked(ctx context.Context, accountID, checkTokenID string) (gatehouse.AuthzVersion, error)
	AccessSnapshot(ctx context.Context, accountID string) (gatehouse.AccessSnapshot, error)
}

// DefaultCapacity is how many accounts a Cache holds models of. A model of a
// typical site is a few kilobytes; of the largest benchmarked account (10,000
// folders, 20,000 grants) about ten megabytes.
const DefaultCapacity = 4096

// Cache keeps the model of each account recently asked about. Before it
// answers from a model it reads the account's authz version (on SQLite from
// memory, on PostgreSQL from the database, so that a change made through
// another node is seen too); a model older than the version is rebuilt. So a
// check reflects every change committed before it began, on every node.
type Cache struct {
	source   Snapshots
	capacity int
	entries  sync.Map // account id -> *entry
	size     atomic.Int64
	tick     atomic.Int64
	evicting sync.Mutex
}

type entry struct {
	model    atomic.Pointer[Model]
	lastUsed atomic.Int64
	// loading lets one request rebuild a model while the others wait for it,
	// instead of every request reading the same snapshot.
	loading sync.Mutex
}

// NewCache returns a cache over source holding at most capacity accounts
// (DefaultCapacity when capacity <= 0).
func NewCache(source Snapshots, capacity int) *Cache {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Cache{source: source, capacity: capacity}
}

// Model returns the current model of the account, or ENOTFOUND.
func (c *Cache) Model(ctx context.Context, accountID string) (*Model, error) {
	return c.ModelAsked(ctx, accountID, "")
}

// ModelAsked is Model for a check asked with a check token that the node
// trusted without reading it (gatehouse.Principal.UnconfirmedCheckTokenID):
// the read of the account's version confirms it too, EUNAUTHENTICATED when
// it is no longer live.
func (c *Cache) ModelAsked(ctx context.Context, accountID, checkTokenID string) (*Model, error) {
	version, err := c.source.AuthzVersionAsked(ctx, accountID, checkTokenID)
	if err != nil {
		return nil, err
	}
	e := c.entry(accountID)
	e.lastUsed.Store(c.tick.Add(1))
	// A model read at a later version than the one just read is newer
	// still, and as good.
	if m := e.model.Load(); m != nil && m.Version.AtLeast(version) {
		return m, nil
	}
	e.loading.Lock()
	defer e.loading.Unlock()
	if m := e.model.Load(); m != nil && m.Version.AtLeast(version) {
		return m, nil
	}
	snap, err := c.source.AccessSnapshot(ctx, accountID)
	if err != nil {
		return nil, err
	}
	m := NewModel(snap)
	e.model.Store(m)
	return m, nil
}

func (c *Cache) entry(accountID string) *entry {
	if e, ok := c.entries.Load(accountID); ok {
		return e.(*entry)
	}
	fresh := &entry{}
	fresh.lastUsed.Store(c.tick.Add(1)) // so that eviction does not take it at once
	e, loaded := c.entries.LoadOrStore(accountID, fresh)
	if !loaded && c.size.Add(1) > int64(c.capacity) {
		c.evict()
	}
	return e.(*entry)
}

// evict drops the least recently used tenth of the entries. It scans every
// entry, which is why it frees many at once: the scan is paid once per
// capacity/10 new accounts.
func (c *Cache) evict() {
	if !c.evicting.TryLock() {
		return // another goroutine is at it
	}
	defer c.evicting.Unlock()
	type aged struct {
		id   any
		used int64
	}
	var all []aged
	c.entries.Range(func(id, e any) bool {
		all = append(all, aged{id, e.(*entry).lastUsed.Load()})
		return true
	})
	drop := len(all) - c.capacity + c.capacity/10
	if drop <= 0 {
		return
	}
	// The threshold below which entries go: the drop-th smallest use tick.
	ticks := make([]int64, len(all))
	for i, a := range all {
		ticks[i] = a.used
	}
	slices.Sort(ticks)
	threshold := ticks[drop-1]
	for _, a := range all {
		if a.used <= threshold && drop > 0 {
			c.entries.Delete(a.id)
			c.size.Add(-1)
			drop--
		}
	}
}

// Len is the number of accounts held, for metrics and tests.
func (c *Cache) Len() int { return int(c.size.Load()) }
