// Package stmtcache keeps one prepared statement per query text for a
// database/sql pool, and runs queries through them, inside a transaction
// too.
package stmtcache

import (
	"context"
	"database/sql"
	"sync"
)

// Cache keeps one prepared statement per query text. SQLite through
// modernc spends about a sixth of a simple write re-parsing SQL; preparing
// once per connection removes that. (pgx caches statements by itself, so
// PostgreSQL does not use this.) The set of query texts is small and fixed
// by the code, so the cache needs no eviction.
type Cache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// New returns an empty cache over the pool db.
func New(db *sql.DB) *Cache {
	return &Cache{db: db, stmts: map[string]*sql.Stmt{}}
}

func (c *Cache) lookup(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// get returns the statement for query, preparing it on the pool if needed.
// The lock is not held while preparing: on SQLite preparing waits for the
// writer's only connection, and the transaction holding it must still be
// able to look statements up. Never call get while holding that connection.
func (c *Cache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if stmt := c.lookup(query); stmt != nil {
		return stmt, nil
	}
	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if existing, ok := c.stmts[query]; ok {
		stmt.Close() // another goroutine prepared it meanwhile
		return existing, nil
	}
	c.stmts[query] = stmt
	return stmt, nil
}

// Close closes every statement.
func (c *Cache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, stmt := range c.stmts {
		stmt.Close()
	}
	c.stmts = nil
}

// PrepareMissed prepares the queries a transaction ran unprepared, once
// the transaction has given its connection back.
func (c *Cache) PrepareMissed(ctx context.Context, missed []string) {
	for _, query := range missed {
		_, _ = c.get(ctx, query) // a failure only means the next run is unprepared too
	}
}

// Queryer runs queries through cached statements: outside a
// transaction on the pool, inside tx when it is set. A transaction holds the
// SQLite writer's only connection, so it cannot prepare on the pool; it runs
// an unknown query unprepared and records it in Missed, for PrepareMissed.
type Queryer struct {
	Cache  *Cache
	Tx     *sql.Tx
	Missed *[]string
	// detach runs statements on a context that cannot be cancelled (group
	// commit: one caller's cancellation must not interrupt the others).
	Detach bool
}

// stmt returns the statement to run query with, or nil to run it unprepared.
func (q Queryer) stmt(ctx context.Context, query string) *sql.Stmt {
	if q.Tx == nil {
		stmt, err := q.Cache.get(ctx, query)
		if err != nil {
			return nil // the unprepared run reports the error
		}
		return stmt
	}
	stmt := q.Cache.lookup(query)
	if stmt == nil {
		*q.Missed = append(*q.Missed, query)
		return nil
	}
	// Tx.StmtContext reuses the statement already prepared on the
	// transaction's connection; it is released with the transaction.
	return q.Tx.StmtContext(ctx, stmt)
}

func (q Queryer) context(ctx context.Context) context.Context {
	if q.Detach {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (q Queryer) plain() interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
} {
	if q.Tx != nil {
		return q.Tx
	}
	return q.Cache.db
}

func (q Queryer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = q.context(ctx)
	if stmt := q.stmt(ctx, query); stmt != nil {
		return stmt.ExecContext(ctx, args...)
	}
	return q.plain().ExecContext(ctx, query, args...)
}

func (q Queryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = q.context(ctx)
	if stmt := q.stmt(ctx, query); stmt != nil {
		return stmt.QueryContext(ctx, args...)
	}
	return q.plain().QueryContext(ctx, query, args...)
}

func (q Queryer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = q.context(ctx)
	if stmt := q.stmt(ctx, query); stmt != nil {
		return stmt.QueryRowContext(ctx, args...)
	}
	return q.plain().QueryRowContext(ctx, query, args...)
}
