package store

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// When SQLite rebalances a B-tree and the new sibling pages are out of
// order, it swaps their numbers through a spare key, the number of the
// lock-byte page (262,145 with 4 KiB pages), which no page ever holds. Its
// page cache records that key as the highest it holds, and keeps it after
// the page moves on. At the end of the transaction SQLite drops the cached
// pages past the database's size; with the highest key that far past it,
// the cache walks every bucket it has instead of the few past the end. The
// writer keeps nearly the whole database cached (16,384 buckets at 64 MiB),
// so about one commit in six spent half a millisecond walking it: 7 % of
// the writer's time while people are added (docs/benchmarks.md).
//
// The process therefore uses SQLite's own page cache with one difference:
// a move to the lock-byte page leaves the highest key as it was. The page
// leaves that key again before the rebalance ends, so what the highest key
// is for (knowing how far a truncation must look) holds for every page
// that stays. Its truncations are SQLite's own, counted for the tests.
var (
	registerPageCacheOnce sync.Once
	sqlitePageCache       sqlite3.Tsqlite3_pcache_methods2 // SQLite's own, as it was
	pageCache             sqlite3.Tsqlite3_pcache_methods2 // the process's
	// pageCacheInstalled tells whether the process's page cache is in use:
	// it is not when SQLite was initialized before OpenSQLite first ran.
	pageCacheInstalled atomic.Bool
	// spareKeyMoves counts the moves to the lock-byte page, and
	// wholeCacheWalks the truncations that walk every bucket of a cache,
	// for the tests.
	spareKeyMoves, wholeCacheWalks atomic.Int64
)

// pendingByte is where SQLite's lock bytes begin in a database file; the
// page that holds them is never used for data.
const pendingByte = 0x40000000

// installPageCache puts the process's page cache in place of SQLite's, once.
// It must run before SQLite is initialized (the first connection, or the
// first VFS registered); when it cannot, SQLite's own stays, unchanged.
func installPageCache() {
	registerPageCacheOnce.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		args := libc.Xmalloc(tls, libc.Tsize_t(unsafe.Sizeof(uintptr(0))))
		if args == 0 {
			return
		}
		defer libc.Xfree(tls, args)
		if sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_GETPCACHE2, libc.VaList(args, uintptr(unsafe.Pointer(&sqlitePageCache)))) != sqlite3.SQLITE_OK {
			return
		}
		pageCache = sqlitePageCache
		*(*func(*libc.TLS, uintptr, uintptr, uint32, uint32))(unsafe.Pointer(&pageCache.FxRekey)) = rekeyPage
		*(*func(*libc.TLS, uintptr, uint32))(unsafe.Pointer(&pageCache.FxTruncate)) = truncatePages
		if sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PCACHE2, libc.VaList(args, uintptr(unsafe.Pointer(&pageCache)))) == sqlite3.SQLITE_OK {
			pageCacheInstalled.Store(true)
		}
	})
}

// rekeyPage moves a cached page from key from to key to, as SQLite's own
// cache does, but a move to the lock-byte page does not raise the highest
// key the cache believes it holds.
func rekeyPage(tls *libc.TLS, cache, page uintptr, from, to uint32) {
	c := (*sqlite3.TPCache1)(cPointer(cache))
	highest := c.FiMaxKey
	(*(*func(*libc.TLS, uintptr, uintptr, uint32, uint32))(unsafe.Pointer(&sqlitePageCache.FxRekey)))(tls, cache, page, from, to)
	if c.FszPage > 0 && to == uint32(pendingByte/c.FszPage)+1 && to > highest {
		c.FiMaxKey = highest
		spareKeyMoves.Add(1)
	}
}

// truncatePages drops the cached pages from key limit on, as SQLite's own
// cache does, counting in wholeCacheWalks the times it walks every bucket
// to do so: when the highest key is more buckets past limit than there are.
func truncatePages(tls *libc.TLS, cache uintptr, limit uint32) {
	if c := (*sqlite3.TPCache1)(cPointer(cache)); limit <= c.FiMaxKey && c.FiMaxKey-limit >= c.FnHash {
		wholeCacheWalks.Add(1)
	}
	(*(*func(*libc.TLS, uintptr, uint32))(unsafe.Pointer(&sqlitePageCache.FxTruncate)))(tls, cache, limit)
}
