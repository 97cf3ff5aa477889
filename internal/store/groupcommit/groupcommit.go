// Package groupcommit runs the write functions that arrive together in one
// SQL transaction, each inside its own savepoint, and commits once for all
// of them.
package groupcommit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// SQLite has one writer, and the cost of a small write transaction is mostly
// its commit: one write system call per changed page. The committer runs the
// write functions that arrive together in one transaction, each inside its
// own savepoint, and commits once for all of them (group commit). A function
// that fails rolls back to its savepoint and fails alone; the others commit.
// Callers see exactly what Write promises: their function ran in a
// transaction, in some serial order, and its changes are durable when Write
// returns nil.
type Committer[T any] struct {
	hooks    Hooks[T]
	requests chan *writeRequest[T] // unbuffered: a request sent is a request taken
	closed   chan struct{}
	done     sync.WaitGroup
}

// Hooks are what the committer asks of the store it serves.
type Hooks[T any] struct {
	// Begin starts the group's transaction.
	Begin func(ctx context.Context) (*sql.Tx, error)
	// NewTx makes one request's view of the group's transaction; queries
	// it could not run prepared are appended to missed.
	NewTx func(sqlTx *sql.Tx, missed *[]string) T
	// Committed is called for each request whose changes committed.
	Committed func(t T)
	// After is called once the group is over, with the queries to prepare.
	After func(ctx context.Context, missed []string)
	// MapErr turns a driver's error into the store's.
	MapErr func(error) error
}

type writeRequest[T any] struct {
	ctx    context.Context
	fn     func(T) error
	result chan error
}

// maxGroup bounds one group, so one commit never waits on a long queue.
const maxGroup = 64

// ErrClosed is the answer to a write after Close.
var ErrClosed = errors.New("store: closed")

// Start starts a committer.
func Start[T any](hooks Hooks[T]) *Committer[T] {
	c := &Committer[T]{hooks: hooks, requests: make(chan *writeRequest[T]), closed: make(chan struct{})}
	c.done.Add(1)
	go c.loop()
	return c
}

// Write runs fn in a transaction shared with the writes that arrive
// together, and answers once fn's changes are committed or refused.
func (c *Committer[T]) Write(ctx context.Context, fn func(T) error) error {
	req := &writeRequest[T]{ctx: ctx, fn: fn, result: make(chan error, 1)}
	select {
	case c.requests <- req:
	case <-c.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the request runs or is refused; wait for the verdict even
	// if ctx ends, so the caller never mistakes a commit for a failure.
	return <-req.result
}

// Close stops the committer once the group under way is committed.
func (c *Committer[T]) Close() {
	close(c.closed)
	c.done.Wait()
}

func (c *Committer[T]) loop() {
	defer c.done.Done()
	for {
		var group []*writeRequest[T]
		select {
		case req := <-c.requests:
			group = append(group, req)
		case <-c.closed:
			return
		}
	gather:
		for len(group) < maxGroup {
			select {
			case req := <-c.requests:
				group = append(group, req)
			default:
				break gather
			}
		}
		c.commit(group)
	}
}

// commit runs one group in one transaction and tells every caller its result.
func (c *Committer[T]) commit(group []*writeRequest[T]) {
	// The transaction's statements run on a context no caller can cancel:
	// interrupting a SQLite statement can roll back the whole transaction,
	// and with it the other callers' work.
	ctx := context.Background()
	results := make([]error, len(group))
	var missed []string
	defer func() {
		for i, req := range group {
			req.result <- results[i]
		}
		if len(missed) > 0 {
			c.hooks.After(ctx, missed)
		}
	}()

	mapErr := c.hooks.MapErr
	sqlTx, err := c.hooks.Begin(ctx)
	if err != nil {
		setAll(results, mapErr(fmt.Errorf("begin: %w", err)))
		return
	}
	// Each request has its own view, so that what only committed requests
	// may publish (authz versions) stays theirs.
	txs := make([]T, len(group))
	for i := range txs {
		txs[i] = c.hooks.NewTx(sqlTx, &missed)
	}
	publish := func() {
		for i, t := range txs {
			if results[i] == nil {
				c.hooks.Committed(t)
			}
		}
	}
	if len(group) == 1 {
		// Alone: the transaction is the request's own, and a savepoint would
		// only add a journal (which grows costly for large writes).
		if results[0] = group[0].ctx.Err(); results[0] == nil {
			results[0] = runGuarded(group[0].fn, txs[0])
		}
		if results[0] != nil {
			_ = sqlTx.Rollback()
			return
		}
		if err := sqlTx.Commit(); err != nil {
			results[0] = mapErr(fmt.Errorf("commit: %w", err))
		}
		publish()
		return
	}
	for i, req := range group {
		if err := req.ctx.Err(); err != nil {
			results[i] = err // gone before its turn: not run
			continue
		}
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT write_request"); err != nil {
			_ = sqlTx.Rollback()
			setAll(results, mapErr(err))
			return
		}
		results[i] = runGuarded(req.fn, txs[i])
		undo := "RELEASE write_request"
		if results[i] != nil {
			undo = "ROLLBACK TO write_request; RELEASE write_request"
		}
		if _, err := sqlTx.ExecContext(ctx, undo); err != nil {
			_ = sqlTx.Rollback()
			setAll(results, mapErr(err))
			return
		}
	}
	if err := sqlTx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = mapErr(fmt.Errorf("commit: %w", err))
			}
		}
	}
	publish()
}

// runGuarded runs fn, turning a panic into an error so that one bad request
// cannot take the writer, and every other caller, down with it.
func runGuarded[T any](fn func(T) error, t T) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("store: write function panicked: %v", v)
		}
	}()
	return fn(t)
}

func setAll(results []error, err error) {
	for i := range results {
		results[i] = err
	}
}
