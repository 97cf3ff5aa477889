package store

import (
	"context"
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
type committer struct {
	db       *DB
	requests chan *writeRequest // unbuffered: a request sent is a request taken
	closed   chan struct{}
	done     sync.WaitGroup
}

type writeRequest struct {
	ctx    context.Context
	fn     func(*WriteTx) error
	result chan error
}

// maxGroup bounds one group, so one commit never waits on a long queue.
const maxGroup = 64

var errClosed = errors.New("store: closed")

func startCommitter(db *DB) *committer {
	c := &committer{db: db, requests: make(chan *writeRequest), closed: make(chan struct{})}
	c.done.Add(1)
	go c.loop()
	return c
}

func (c *committer) write(ctx context.Context, fn func(*WriteTx) error) error {
	req := &writeRequest{ctx: ctx, fn: fn, result: make(chan error, 1)}
	select {
	case c.requests <- req:
	case <-c.closed:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the request runs or is refused; wait for the verdict even
	// if ctx ends, so the caller never mistakes a commit for a failure.
	return <-req.result
}

func (c *committer) close() {
	close(c.closed)
	c.done.Wait()
}

func (c *committer) loop() {
	defer c.done.Done()
	for {
		var group []*writeRequest
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
func (c *committer) commit(group []*writeRequest) {
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
			c.db.writeStmts.prepareMissed(ctx, missed)
		}
	}()

	sqlTx, err := c.db.write.BeginTx(ctx, nil)
	if err != nil {
		setAll(results, mapErr(fmt.Errorf("begin: %w", err)))
		return
	}
	q := cachedQueryer{cache: c.db.writeStmts, tx: sqlTx, missed: &missed, detach: true}
	// Each request has its own tx, so that only the authz versions of the
	// requests that succeed are published.
	txs := make([]*tx, len(group))
	for i := range txs {
		txs[i] = &tx{reader: reader{q: q, dialect: c.db.dialect, versions: c.db.versions}}
	}
	publish := func() {
		for i, t := range txs {
			if results[i] == nil {
				c.db.versions.publish(t.bumped)
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
func runGuarded(fn func(*WriteTx) error, t *tx) (err error) {
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
