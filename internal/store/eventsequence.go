package store

import (
	"context"
	"sync"
)

// On SQLite the feed numbers its events itself (events.go): one writer
// commits at a time, so numbers taken while writing are commit order. The
// numbers were kept in a one-row table, event_sequence, raised in every
// transaction that wrote an event: a statement and a page of the log for
// each group of adds, whose commits are what bounds SQLite's adds. The
// writer now keeps the last number in memory, which the data dir's lock
// makes its own (no other process writes the database while a node has it
// open), and what was handed out stays on disk in the events themselves:
// after a restart the counter goes on from the highest seq stored, or from
// event_sequence where that is higher. The only way events leave is an
// account's purge, which first records the highest seq in event_sequence,
// so a number once committed is never handed out again.
//
// A transaction that rolls back leaves a gap in the numbers, as
// PostgreSQL's sequence does: the feed reads past any number (seq > cursor),
// never for the next one.
type eventSequence struct {
	mu     sync.Mutex
	loaded bool
	last   int64
}

// LastEventNumberSQLite reads the last number the feed handed out on a
// SQLite database: the highest seq stored, or event_sequence where a purge
// left it higher.
const LastEventNumberSQLite = `SELECT COALESCE(MAX(last), 0) FROM (SELECT n AS last FROM event_sequence
	UNION ALL SELECT MAX(seq) FROM audit_events WHERE event_type IS NOT NULL)`

// takeEventNumbers reserves n numbers of the feed for t's events and
// returns the last; the first is one past the last minus n.
func (t *tx) takeEventNumbers(ctx context.Context, n int64) (int64, error) {
	s := t.events
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		// Read in the writer's transaction, after migrations: the tables
		// exist, and no commit can come between this read and the numbers
		// taken from it.
		err := t.q.QueryRowContext(ctx, LastEventNumberSQLite).Scan(&s.last)
		if err != nil {
			return 0, mapErr(err)
		}
		s.loaded = true
	}
	s.last += n
	return s.last, nil
}

// recordEventNumbers writes the highest number of the feed stored into
// event_sequence, before events are deleted (SQLite).
func (t *tx) recordEventNumbers(ctx context.Context) error {
	_, err := t.q.ExecContext(ctx, `UPDATE event_sequence
		SET n = MAX(n, COALESCE((SELECT MAX(seq) FROM audit_events WHERE event_type IS NOT NULL), 0))`)
	return mapErr(err)
}
