package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite in WAL mode appends every commit to the write-ahead log, and a
// checkpoint copies the log's pages back into the database file, then syncs
// it, so that the log can start over. By default the connection that commits
// past a thousand pages runs that checkpoint itself, before its commit
// returns: on this one writer, a large write (a bulk invitation's chunks)
// waited for the database file's writes and syncs every few chunks. The
// checkpointer runs them on a connection of its own instead, beside the
// writer: a passive checkpoint copies what no reader still needs and never
// waits for a lock, and the writer restarts the log once it is all copied.
//
// Under writes that do not pause, though, the log is never all copied: the
// writer appends while a checkpoint runs, so each one ends a little behind,
// and the log grows until the writer checkpoints itself past
// writerCheckpointPages. That checkpoint copies what is left, syncs the log
// and the database file, and holds every write for it: 20 – 60 ms on this
// kind of machine, whatever the threshold. The threshold therefore decides
// how often writes stall, and the log's size on disk is what it costs.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	stop context.CancelFunc
	done sync.WaitGroup
}

// writerCheckpointPages is the log's size, in pages, past which the writer
// checkpoints itself (SQLite's own default is 1,000): 256 MiB of log at most
// on disk (the node removes it when it closes), for one stall every second
// or so at the most the writer commits, where 16,384 pages stalled it three
// times a second.
const writerCheckpointPages = 65536

// checkpointEvery is the shortest time between two checkpoints: the writes
// of a busy moment share one, and a trickle of writes does not sync the
// database file more than a few times a second.
const checkpointEvery = 200 * time.Millisecond

func startCheckpointer(db *sql.DB) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: stop}
	c.done.Add(1)
	go c.run(ctx)
	return c
}

// committed tells the checkpointer that the log grew; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer c.done.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		// A failed checkpoint is left to the next one, or to the writer's own.
		_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// close stops the checkpointer; closing the last connection checkpoints
// what is left.
func (c *checkpointer) close() error {
	c.stop()
	c.done.Wait()
	return c.db.Close()
}
